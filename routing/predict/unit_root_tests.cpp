// SPDX-License-Identifier: BSD-3-Clause
#include "unit_root_tests.hpp"

#include <cmath>
#include <vector>

#include "normal_equations.hpp"

namespace meshgw::routing::predict {

double kpss_level_statistic(std::span<const double> y) {
  const std::size_t n = y.size();
  if (n < 3) return 0.0;
  double mean = 0.0;
  for (const double v : y) mean += v;
  mean /= static_cast<double>(n);
  std::vector<double> e(n);
  for (std::size_t t = 0; t < n; ++t) e[t] = y[t] - mean;

  double partial = 0.0, sum_partial_squares = 0.0, variance = 0.0;
  for (const double v : e) {
    partial += v;
    sum_partial_squares += partial * partial;
    variance += v * v;
  }
  const auto lags = static_cast<std::size_t>(std::floor(4.0 * std::pow(static_cast<double>(n) / 100.0, 0.25)));
  for (std::size_t l = 1; l <= lags && l < n; ++l) {
    double autocovariance = 0.0;
    for (std::size_t t = l; t < n; ++t) autocovariance += e[t] * e[t - l];
    variance += 2.0 * (1.0 - static_cast<double>(l) / static_cast<double>(lags + 1)) * autocovariance;
  }
  variance /= static_cast<double>(n);
  if (!(variance > 0.0)) return 0.0;
  return sum_partial_squares / (static_cast<double>(n) * static_cast<double>(n) * variance);
}

double adf_statistic(std::span<const double> y) {
  const std::size_t n = y.size();
  const auto lags = static_cast<std::size_t>(std::floor(std::cbrt(static_cast<double>(n) - 1.0)));
  if (n < 3 * lags + 10) return 0.0;
  // Columns: y(t-1), 1, dy(t-1) .. dy(t-lags); regressand dy(t).
  NormalEquations normal(2 + lags);
  std::vector<double> row(2 + lags);
  for (std::size_t t = lags + 1; t < n; ++t) {
    row[0] = y[t - 1];
    row[1] = 1.0;
    for (std::size_t i = 1; i <= lags; ++i) row[1 + i] = y[t - i] - y[t - i - 1];
    normal.add_row(row, y[t] - y[t - 1]);
  }
  const auto b = normal.solve();
  if (!b) return 0.0;
  const auto se = normal.standard_error(*b, 0);
  if (!se || !(*se > 0.0)) return 0.0;
  return (*b)[0] / *se;
}

int choose_differencing(std::span<const double> y) {
  const bool stationary = adf_statistic(y) < kAdfCritical5Percent && kpss_level_statistic(y) <= kKpssCritical5Percent;
  return stationary ? 0 : 1;
}

}  // namespace meshgw::routing::predict
