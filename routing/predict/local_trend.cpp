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
  const double se = std::sqrt(sse / static_cast<double>(n - 2) / sxx);
  // A perfect line has no error: any rise on it is significant.
  f.t = se > 0 ? f.slope / se : (f.slope > 0 ? std::numeric_limits<double>::infinity() : 0.0);
  return f;
}

// The least-squares slope of count samples from the oldest + first.
double LocalTrend::slope_of(std::size_t first, std::size_t count) const noexcept {
  const std::size_t n = ring_.size();
  const double xbar = (static_cast<double>(count) - 1) / 2;
  double ybar = 0;
  for (std::size_t i = 0; i < count; ++i) ybar += ring_[(next_ + first + i) % n];
  ybar /= static_cast<double>(count);
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double dx = static_cast<double>(i) - xbar;
    sxx += dx * dx;
    sxy += dx * (ring_[(next_ + first + i) % n] - ybar);
  }
  return sxx > 0 ? sxy / sxx : 0.0;
}

std::optional<double> LocalTrend::forecast(int h) const noexcept {
  const auto f = fit();
  if (!f || h < 1 || !(f->slope > 0) || f->t < config_.min_t) return std::nullopt;
  // A rise, not a step: both halves of the window rise. A step (flows
  // moved onto the link at once) fits a significant line too, but the load
  // after it is flat, and extrapolating it would push them off again.
  const std::size_t half = ring_.size() / 2;
  if (half >= 2 && !(slope_of(0, half) > 0 && slope_of(ring_.size() - half, half) > 0)) return std::nullopt;
  const double ahead = std::min<double>(h, static_cast<double>(ring_.size()));
  return f->last + f->slope * ahead;
}

double LocalTrend::slope() const noexcept {
  const auto f = fit();
  return f ? f->slope : 0.0;
}

}  // namespace meshgw::routing::predict
