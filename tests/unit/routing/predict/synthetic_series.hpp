// SPDX-License-Identifier: BSD-3-Clause
// Synthetic series with known answers for the forecaster tests. Fixed seeds,
// so every run sees the same numbers.
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>
#include <random>
#include <vector>

namespace meshgw::routing::predict::testing {

// level + slope*t + amplitude*sin(2 pi t / period)
inline std::vector<double> sine_with_trend(std::size_t n, std::size_t period, double level = 100.0,
                                           double slope = 0.05, double amplitude = 20.0) {
  std::vector<double> y(n);
  for (std::size_t t = 0; t < n; ++t)
    y[t] = level + slope * static_cast<double>(t) +
           amplitude * std::sin(2.0 * std::numbers::pi * static_cast<double>(t) / static_cast<double>(period));
  return y;
}

// Stationary AR(2) around mean: y(t) - mean = phi1 (y(t-1) - mean) + phi2 (y(t-2) - mean) + e(t).
inline std::vector<double> ar2(std::size_t n, double phi1, double phi2, double mean, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> y(n);
  double x1 = 0.0, x2 = 0.0;
  for (std::size_t t = 0; t < n + 200; ++t) {  // 200 samples of burn-in
    const double x = phi1 * x1 + phi2 * x2 + noise(rng);
    x2 = x1;
    x1 = x;
    if (t >= 200) y[t - 200] = mean + x;
  }
  return y;
}

// Random walk with Gaussian steps.
inline std::vector<double> random_walk(std::size_t n, double start, double step, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, step);
  std::vector<double> y(n);
  double v = start;
  for (double& x : y) x = v += noise(rng);
  return y;
}

// The same season repeated, plus a little noise if noise > 0.
inline std::vector<double> repeated_season(const std::vector<double>& season, std::size_t n, double noise = 0.0,
                                           std::uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> gauss(0.0, noise > 0.0 ? noise : 1.0);
  std::vector<double> y(n);
  for (std::size_t t = 0; t < n; ++t) y[t] = season[t % season.size()] + (noise > 0.0 ? gauss(rng) : 0.0);
  return y;
}

}  // namespace meshgw::routing::predict::testing
