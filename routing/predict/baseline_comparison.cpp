// SPDX-License-Identifier: BSD-3-Clause
#include "baseline_comparison.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace meshgw::routing::predict {

namespace {

bool scored(const PairedErrors& e, std::size_t i) {
  return std::isfinite(e.one_step[i]) && std::isfinite(e.multi_step[i]);
}

// Newey-West variance of the mean of d with Bartlett weights over `lags` lags.
double variance_of_mean(const std::vector<double>& d, std::size_t lags) {
  const std::size_t n = d.size();
  double mean = 0.0;
  for (const double v : d) mean += v;
  mean /= static_cast<double>(n);
  double variance = 0.0;
  for (std::size_t l = 0; l <= lags && l < n; ++l) {
    double autocovariance = 0.0;
    for (std::size_t t = l; t < n; ++t) autocovariance += (d[t] - mean) * (d[t - l] - mean);
    autocovariance /= static_cast<double>(n);
    variance += (l == 0 ? 1.0 : 2.0 * (1.0 - static_cast<double>(l) / static_cast<double>(lags + 1))) * autocovariance;
  }
  return std::max(variance, 0.0) / static_cast<double>(n);
}

}  // namespace

BaselineComparison compare_to_baseline(const PairedErrors& candidate, const PairedErrors& baseline, int horizon,
                                       double z) {
  const std::size_t n = std::min(candidate.one_step.size(), baseline.one_step.size());
  std::vector<std::size_t> origins;
  double baseline_one = 0.0, baseline_multi = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!scored(candidate, i) || !scored(baseline, i)) continue;
    origins.push_back(i);
    baseline_one += std::fabs(baseline.one_step[i]);
    baseline_multi += std::fabs(baseline.multi_step[i]);
  }
  if (origins.empty()) return {};
  const double count = static_cast<double>(origins.size());
  baseline_one /= count;
  baseline_multi /= count;
  // A perfect baseline: any error is infinitely worse, none is a tie.
  const auto relative = [](double error, double base) {
    if (base > 0.0) return error / base;
    return error > 0.0 ? std::numeric_limits<double>::infinity() : 1.0;
  };
  std::vector<double> differential;
  double score = 0.0;
  for (const std::size_t i : origins) {
    const double loss = (relative(std::fabs(candidate.one_step[i]), baseline_one) +
                         relative(std::fabs(candidate.multi_step[i]), baseline_multi)) / 2.0;
    const double baseline_loss = (relative(std::fabs(baseline.one_step[i]), baseline_one) +
                                  relative(std::fabs(baseline.multi_step[i]), baseline_multi)) / 2.0;
    score += loss;
    differential.push_back(loss - baseline_loss);
  }
  score /= count;
  if (!std::isfinite(score)) return {score, score, origins.size()};
  const double spread = std::sqrt(variance_of_mean(differential, static_cast<std::size_t>(std::max(horizon - 1, 0))));
  return {score, score + z * spread, origins.size()};
}

}  // namespace meshgw::routing::predict
