// SPDX-License-Identifier: BSD-3-Clause
// EnsembleForecaster: the mean of a Holt-Winters and an ARIMA forecast, each
// fitted on its own as in holt_winters.hpp and arima.hpp. Averaging two
// differently built models cancels part of their separate errors; forecast
// combinations of this kind are the most reliable gain in the forecasting
// literature (Bates & Granger 1969; the M3/M4 competitions). On the
// validation part of the Abilene training data it lowered the one-step MAE
// of the best single method by about 1% and the 4-step MAE by about 3%
// (routing/predict/README.md). It is one AutoForecaster candidate among the
// others, chosen only when its backtest says so. Update: both members, O(1).
// Threads: see Forecaster.
#pragma once

#include "arima.hpp"
#include "holt_winters.hpp"

namespace meshgw::routing::predict {

class EnsembleForecaster final : public CopyableForecaster<EnsembleForecaster> {
 public:
  // season: Holt-Winters' season in samples (0 = none).
  explicit EnsembleForecaster(std::size_t season);

  std::string_view name() const override { return "ensemble"; }
  std::string describe() const override;
  std::size_t memory_bytes() const override;

  const HoltWintersForecaster& holt_winters() const noexcept { return holt_winters_; }
  const ArimaForecaster& arima() const noexcept { return arima_; }

 protected:
  void fit_scaled(std::span<const double> history) override;
  void update_scaled(double y) noexcept override;
  double forecast_scaled(int h) const override;
  void forecast_path_scaled(std::span<double> out) const override;
  void skip_scaled(std::uint64_t missing) noexcept override;

 private:
  HoltWintersForecaster holt_winters_;
  ArimaForecaster arima_;
};

}  // namespace meshgw::routing::predict
