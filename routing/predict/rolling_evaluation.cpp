// SPDX-License-Identifier: BSD-3-Clause
#include "rolling_evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace meshgw::routing::predict {

ErrorAccumulator::ErrorAccumulator(int max_horizon) {
  if (max_horizon < 1) throw std::invalid_argument("horizon must be >= 1");
  sums_.resize(static_cast<std::size_t>(max_horizon));
}

void ErrorAccumulator::add(int horizon, double forecast, double actual) noexcept {
  Sums& s = sums_[static_cast<std::size_t>(horizon - 1)];
  // Halved terms and running means: no overflow even for values near 1e308.
  const double half_error = std::fabs(0.5 * forecast - 0.5 * actual);
  const double half_magnitude = 0.5 * std::fabs(forecast) + 0.5 * std::fabs(actual);
  ++s.count;
  const double n = static_cast<double>(s.count);
  s.absolute += (2.0 * half_error - s.absolute) / n;
  s.symmetric_pct += ((half_magnitude > 0.0 ? 200.0 * half_error / half_magnitude : 0.0) - s.symmetric_pct) / n;
}

std::vector<HorizonErrors> ErrorAccumulator::result() const {
  std::vector<HorizonErrors> out;
  for (std::size_t i = 0; i < sums_.size(); ++i) {
    const Sums& s = sums_[i];
    out.push_back({static_cast<int>(i + 1), s.count, s.absolute, s.symmetric_pct});  // running means
  }
  return out;
}

namespace {

// The rolling-origin loop shared by both evaluations: visit(origin, h,
// forecast, actual) for every scorable forecast, then update.
template <typename Visit>
void roll(Forecaster& forecaster, std::span<const double> series, std::size_t start, int max_horizon,
          std::span<const std::int64_t> time_index, Visit visit) {
  if (start > series.size()) throw std::invalid_argument("evaluation start beyond the series");
  if (max_horizon < 1) throw std::invalid_argument("horizon must be >= 1");
  if (!time_index.empty() && time_index.size() != series.size())
    throw std::invalid_argument("time index and series differ in length");
  std::vector<double> path(static_cast<std::size_t>(max_horizon));
  for (std::size_t origin = start; origin < series.size(); ++origin) {
    if (forecaster.has_data()) {
      // Only the horizons that still have an actual value, in one O(H) pass.
      const std::size_t reach = std::min(path.size(), series.size() - origin);
      forecaster.forecast_path(std::span<double>(path.data(), reach));
      for (std::size_t k = 0; k < reach; ++k) {
        if (!std::isfinite(series[origin + k])) continue;  // the forecaster skips it too
        visit(origin, static_cast<int>(k + 1), path[k], series[origin + k]);
      }
    }
    if (!time_index.empty() && origin > 0 && time_index[origin] - time_index[origin - 1] > 1)
      forecaster.skip(static_cast<std::uint64_t>(time_index[origin] - time_index[origin - 1] - 1));
    forecaster.update(series[origin]);
  }
}

}  // namespace

std::vector<HorizonErrors> evaluate_rolling(Forecaster& forecaster, std::span<const double> series,
                                            std::size_t start, int max_horizon,
                                            std::span<const std::int64_t> time_index) {
  ErrorAccumulator errors(std::max(max_horizon, 1));
  roll(forecaster, series, start, max_horizon, time_index,
       [&](std::size_t, int h, double forecast, double actual) { errors.add(h, forecast, actual); });
  return errors.result();
}

PairedErrors rolling_errors(Forecaster& forecaster, std::span<const double> series, std::size_t start,
                                     int horizon, std::span<const std::int64_t> time_index) {
  const std::size_t origins = series.size() - std::min(start, series.size());
  PairedErrors out{std::vector<double>(origins, std::nan("")), std::vector<double>(origins, std::nan(""))};
  roll(forecaster, series, start, horizon, time_index, [&](std::size_t origin, int h, double forecast, double actual) {
    if (h == 1) out.one_step[origin - start] = forecast - actual;
    if (h == horizon) out.multi_step[origin - start] = forecast - actual;
  });
  return out;
}

}  // namespace meshgw::routing::predict
