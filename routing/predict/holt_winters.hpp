// SPDX-License-Identifier: BSD-3-Clause
// HoltWintersForecaster: additive Holt-Winters exponential smoothing with an
// optional (damped) trend and an optional additive season, in the
// error-correction form of ETS(A,Ad,A) (Hyndman & Athanasopoulos, FPP 3rd
// ed., 8.3):
//   yhat(t|t-1) = l(t-1) + phi*b(t-1) + s(t-m),   e(t) = y(t) - yhat(t|t-1)
//   l(t) = l(t-1) + phi*b(t-1) + alpha*e(t)
//   b(t) = phi*b(t-1) + beta*e(t)
//   s(t) = s(t-m) + gamma*e(t)
//   yhat(t+h|t) = l(t) + (phi + ... + phi^h)*b(t) + s(t+h-m*(k+1)), k = (h-1) div m
// with 0 < alpha < 1, 0 < beta < alpha, 0 < gamma < 1 - alpha and
// 0.8 <= phi <= 0.98 (phi = 1 for an undamped trend). The parameters minimise
// the one-step squared error over the fitting history: a coarse grid, then
// Nelder-Mead from the best grid point. Which components to use (trend or
// not, season or not) is chosen by AICc, the initial states counted as
// parameters (Hyndman, Koehler, Ord & Snyder 2008, 7.1): a daily season of
// 288 states must pay for itself. One update is O(1): a few multiply-adds
// and one seasonal state rewritten.
// Short histories: fewer than two seasons drops the season, fewer than
// kMinHistory samples makes it persistence (alpha = 1, nothing else).
// Threads: see Forecaster.
#pragma once

#include "forecaster.hpp"
#include "seasonal_ring.hpp"

namespace meshgw::routing::predict {

enum class TrendKind { none, additive, damped };

struct HoltWintersOptions {
  std::size_t season = 0;  // samples per season; 0 = no season
  TrendKind trend = TrendKind::damped;
  // Also fit the model without trend and/or without season and keep the
  // lowest AICc (as ets() does); false: exactly the components above.
  bool select_components = true;
};

struct HoltWintersParams {
  double alpha = 1.0;
  double beta = 0.0;
  double gamma = 0.0;
  double phi = 1.0;
};

class HoltWintersForecaster final : public CopyableForecaster<HoltWintersForecaster> {
 public:
  static constexpr std::size_t kMinHistory = 8;

  explicit HoltWintersForecaster(HoltWintersOptions options = {});

  std::string_view name() const override { return "holt-winters"; }
  std::string describe() const override;
  std::size_t memory_bytes() const override { return sizeof(*this) + components_.season.heap_bytes(); }

  const HoltWintersParams& params() const noexcept { return params_; }
  // Season length in use after fit (0 if the history was too short for one).
  std::size_t season_in_use() const noexcept { return components_.season.size(); }
  bool trend_in_use() const noexcept { return trend_in_use_; }

  struct Components {
    double level = 0.0;
    double trend = 0.0;
    SeasonalRing season;  // s(t-m+1) .. s(t), oldest first
  };

 protected:
  void fit_scaled(std::span<const double> history) override;
  void update_scaled(double y) noexcept override;
  double forecast_scaled(int h) const override;
  void skip_scaled(std::uint64_t missing) noexcept override;

 private:
  HoltWintersOptions options_;
  HoltWintersParams params_;
  bool trend_in_use_ = false;
  bool restart_pending_ = false;  // after skip(): the next sample sets the level
  bool history_too_short_for_season_ = false;
  Components components_;
};

}  // namespace meshgw::routing::predict
