// SPDX-License-Identifier: BSD-3-Clause
#include "local_trend.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace meshgw::routing::predict {

LocalTrend::LocalTrend(TrendConfig config) : config_(config) {
  if (config_.window == 1 || config_.window == 2)
    throw std::invalid_argument("LocalTrend: window must be 0 (off) or at least 3 samples");
  if (!std::isfinite(config_.min_t) || config_.min_t < 0)
    throw std::invalid_argument("LocalTrend: min_t must be finite and >= 0");
  ring_.assign(config_.window, 0.0);
}

void LocalTrend::update(double y) noexcept {
  if (ring_.empty() || !std::isfinite(y)) return;
  ring_[next_] = y;
  next_ = (next_ + 1) % ring_.size();
  count_ = std::min(count_ + 1, ring_.size());
}

std::optional<LocalTrend::Fit> LocalTrend::fit() const noexcept {
  const std::size_t n = ring_.size();
  if (n == 0 || count_ < n) return std::nullopt;
  // x = 0 .. n-1, oldest first (the oldest sits at next_).
  const double xbar = (static_cast<double>(n) - 1) / 2;
  double ybar = 0;
  for (double y : ring_) ybar += y;
  ybar /= static_cast<double>(n);
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dx = static_cast<double>(i) - xbar, dy = ring_[(next_ + i) % n] - ybar;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  Fit f;
  f.slope = sxy / sxx;
  f.last = ybar + f.slope * xbar;  // the line at x = n - 1
  const double sse = std::max(0.0, syy - f.slope * sxy);
  f.sse = sse;
  const double se = std::sqrt(sse / static_cast<double>(n - 2) / sxx);
  // A perfect line has no error: any rise on it is significant.
  f.t = se > 0 ? f.slope / se : (f.slope > 0 ? std::numeric_limits<double>::infinity() : 0.0);
  return f;
}

// The least residual sum of squares of a level shift: two constant levels
// with one break between samples k-1 and k, over every break that leaves at
// least two samples on each side (prefix sums: O(window)).
double LocalTrend::step_sse() const noexcept {
  const std::size_t n = ring_.size();
  double total = 0, total_sq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double y = ring_[(next_ + i) % n];
    total += y;
    total_sq += y * y;
  }
  double best = std::numeric_limits<double>::infinity(), left = 0, left_sq = 0;
  for (std::size_t k = 1; k < n; ++k) {
    const double y = ring_[(next_ + k - 1) % n];
    left += y;
    left_sq += y * y;
    if (k < 2 || n - k < 2) continue;
    const double nl = static_cast<double>(k), nr = static_cast<double>(n - k);
    const double right = total - left, right_sq = total_sq - left_sq;
    best = std::min(best, (left_sq - left * left / nl) + (right_sq - right * right / nr));
  }
  return best;
}

std::optional<double> LocalTrend::forecast(int h) const noexcept {
  const auto f = fit();
  if (!f || h < 1 || !(f->slope > 0) || f->t < config_.min_t) return std::nullopt;
  // A rise, not a step: the line must fit the window better than any one
  // level shift does. A step (flows moved onto the link at once, traffic
  // starting) fits a significant line too, but the load after it is flat,
  // and extrapolating it would push the flows off again.
  if (ring_.size() >= 4 && !(f->sse < step_sse())) return std::nullopt;
  const double ahead = std::min<double>(h, static_cast<double>(ring_.size()));
  return f->last + f->slope * ahead;
}

double LocalTrend::slope() const noexcept {
  const auto f = fit();
  return f ? f->slope : 0.0;
}

}  // namespace meshgw::routing::predict
