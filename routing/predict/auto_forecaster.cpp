// SPDX-License-Identifier: BSD-3-Clause
#include "auto_forecaster.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "baseline_comparison.hpp"
#include "rolling_evaluation.hpp"

namespace meshgw::routing::predict {

namespace {

bool is_candidate(Method method, const ForecasterConfig& config, std::size_t training) {
  if (method != Method::seasonal_naive) return true;
  // One season to repeat and one to be judged on inside the training part.
  return config.season != 0 && training >= 2 * config.season;
}

double mean_absolute(const std::vector<double>& errors) {
  double sum = 0.0;
  std::size_t n = 0;
  for (const double e : errors)
    if (std::isfinite(e)) sum += std::fabs(e), ++n;
  return n ? sum / static_cast<double>(n) : 0.0;
}

// The ensemble forecasts the mean of Holt-Winters and ARIMA, fitted exactly
// as the candidates were, so its errors are the mean of theirs: no third fit.
std::vector<double> mean_errors(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = 0.5 * (a[i] + b[i]);
  return out;
}

constexpr std::size_t index_of(Method m) {
  for (std::size_t i = 0; i < kSingleMethods.size(); ++i)
    if (kSingleMethods[i] == m) return i;
  return kSingleMethods.size();
}

static_assert(index_of(Method::persistence) == 0, "persistence is the baseline, scored first");
static_assert(index_of(Method::ensemble) > index_of(Method::holt_winters) &&
                  index_of(Method::ensemble) > index_of(Method::arima),
              "the ensemble's errors come from its members' errors");

}  // namespace

AutoForecaster::AutoForecaster(const ForecasterConfig& config)
    : config_(config), active_(make_forecaster(Method::persistence, config)) {
  if (config.selection_horizon < 1) throw std::invalid_argument("auto: selection horizon must be >= 1");
}

std::string AutoForecaster::describe() const {
  std::ostringstream s;
  s.precision(4);
  s << "auto: " << active_->describe();
  for (const CandidateScore& c : scores_)
    if (c.evaluated) s << "; " << to_string(c.method) << " score " << c.score;
  return s.str();
}

std::unique_ptr<Forecaster> AutoForecaster::clone() const {
  auto copy = std::make_unique<AutoForecaster>(config_);
  static_cast<Forecaster&>(*copy) = *this;  // the base's scale, counters, last sample
  copy->chosen_ = chosen_;
  copy->active_ = active_->clone();
  copy->scores_ = scores_;
  return copy;
}

std::size_t AutoForecaster::memory_bytes() const { return sizeof(*this) + active_->memory_bytes(); }

void AutoForecaster::score_candidates(std::span<const double> history) {
  scores_ = {};
  if (history.size() < kMinHistory) return;
  const auto validation = std::max<std::size_t>(
      kMinValidation, static_cast<std::size_t>(std::lround(kValidationFraction * static_cast<double>(history.size()))));
  const std::size_t training = history.size() - validation;
  const int horizon = config_.selection_horizon;
  std::array<PairedErrors, kSingleMethods.size()> errors;
  for (std::size_t i = 0; i < kSingleMethods.size(); ++i) {
    const Method method = kSingleMethods[i];
    scores_[i].method = method;
    if (!is_candidate(method, config_, training)) continue;
    if (method == Method::ensemble) {
      const PairedErrors& hw = errors[index_of(Method::holt_winters)];
      const PairedErrors& arima = errors[index_of(Method::arima)];
      errors[i] = {mean_errors(hw.one_step, arima.one_step), mean_errors(hw.multi_step, arima.multi_step)};
    } else {
      const auto candidate = make_forecaster(method, config_);
      candidate->fit(history.first(training));
      errors[i] = rolling_errors(*candidate, history, training, horizon);
    }
    scores_[i].evaluated = true;
    scores_[i].mae_one_step = mean_absolute(errors[i].one_step);
    scores_[i].mae_multi_step = mean_absolute(errors[i].multi_step);
  }
  for (std::size_t i = 0; i < kSingleMethods.size(); ++i) {
    if (!scores_[i].evaluated) continue;
    const BaselineComparison c = compare_to_baseline(errors[i], errors[0], horizon, kSignificanceZ);  // [0]: persistence
    scores_[i].score = c.score;
    scores_[i].score_upper_bound = c.score_upper_bound;
  }
}

Method AutoForecaster::pick() const noexcept {
  Method best = Method::persistence;
  double best_score = 1.0;
  for (const CandidateScore& c : scores_) {
    if (c.evaluated && c.method != Method::persistence && c.score_upper_bound < 1.0 && c.score < best_score) {
      best = c.method;
      best_score = c.score;
    }
  }
  return best;
}

void AutoForecaster::fit_scaled(std::span<const double> history) {
  score_candidates(history);
  chosen_ = pick();
  active_ = make_forecaster(chosen_, config_);
  active_->fit(history);
}

void AutoForecaster::update_scaled(double y) noexcept { active_->update(y); }

double AutoForecaster::forecast_scaled(int h) const { return active_->forecast(h); }

}  // namespace meshgw::routing::predict
