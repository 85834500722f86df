// SPDX-License-Identifier: BSD-3-Clause
// AutoForecaster: picks, per series, the method with the lowest rolling
// backtest error on its own fitting history, then runs only that one.
//
// Selection (at fit()):
//  1. Split the history: the last 20% (at least kMinValidation samples) is the
//     validation part, the rest the training part. Histories shorter than
//     kMinHistory use persistence, no backtest.
//  2. Fit every candidate -- persistence, seasonal naive (if a season is
//     configured and the training part holds two of them), Holt-Winters,
//     ARIMA, and their ensemble -- on the training part and run it over the
//     validation part as in rolling_evaluation.hpp, keeping the absolute
//     errors at h = 1 and h = H (ForecasterConfig::selection_horizon).
//  3. score = (MAE1 / MAE1_persistence + MAEH / MAEH_persistence) / 2, so both
//     horizons count equally whatever the series' scale; persistence scores 1.
//  4. A candidate qualifies only if it beats persistence by more than chance:
//     its score plus kSignificanceZ standard errors of the paired difference
//     (baseline_comparison.hpp) stays below 1. The qualifying candidate with
//     the lowest score wins; if none qualifies, persistence -- the safe choice
//     when the validation part is too short to tell methods apart.
//  5. The winner is refitted on the whole history and runs online.
// Memory: the chosen forecaster plus a small fixed table of backtest scores.
// Threads: see Forecaster.
#pragma once

#include <array>
#include <memory>

#include "forecast_method.hpp"
#include "forecaster.hpp"

namespace meshgw::routing::predict {

struct CandidateScore {
  Method method = Method::persistence;
  bool evaluated = false;
  double mae_one_step = 0.0;
  double mae_multi_step = 0.0;  // at the selection horizon
  double score = 0.0;           // relative to persistence (1.0)
  double score_upper_bound = 0.0;  // score + kSignificanceZ standard errors
};

class AutoForecaster final : public Forecaster {
 public:
  static constexpr std::size_t kMinHistory = 40;
  static constexpr std::size_t kMinValidation = 10;
  static constexpr double kValidationFraction = 0.2;
  static constexpr double kSignificanceZ = 1.645;

  // Throws std::invalid_argument if config.selection_horizon < 1.
  explicit AutoForecaster(const ForecasterConfig& config);

  std::string_view name() const override { return "auto"; }
  std::string describe() const override;
  std::size_t memory_bytes() const override;
  std::unique_ptr<Forecaster> clone() const override;

  Method chosen() const noexcept { return chosen_; }
  // The factor backtest() MAEs are divided by (they are kept in scaled units).
  double data_scale() const noexcept { return scale(); }
  const Forecaster& chosen_forecaster() const noexcept { return *active_; }
  // One entry per single method (kSingleMethods order); evaluated == false
  // for methods that were not candidates.
  const std::array<CandidateScore, kSingleMethods.size()>& backtest() const noexcept { return scores_; }

 protected:
  void fit_scaled(std::span<const double> history) override;
  void update_scaled(double y) noexcept override;
  double forecast_scaled(int h) const override;
  void forecast_path_scaled(std::span<double> out) const override { active_->forecast_path(out); }
  void skip_scaled(std::uint64_t missing) noexcept override { active_->skip(missing); }

 private:
  void score_candidates(std::span<const double> history);
  Method pick() const noexcept;

  ForecasterConfig config_;
  Method chosen_ = Method::persistence;
  std::unique_ptr<Forecaster> active_;
  std::array<CandidateScore, kSingleMethods.size()> scores_{};
};

}  // namespace meshgw::routing::predict
