// SPDX-License-Identifier: BSD-3-Clause
#include "forecaster.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace meshgw::routing::predict {

void require_finite(std::span<const double> series, std::string_view what) {
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (!std::isfinite(series[i])) {
      std::ostringstream msg;
      msg << what << "[" << i << "] is " << series[i] << " (values must be finite)";
      throw std::invalid_argument(msg.str());
    }
  }
}

double power_of_two_scale(std::span<const double> series) noexcept {
  double largest = 0.0;
  for (const double v : series) largest = std::fmax(largest, std::fabs(v));
  // Subnormal and zero series keep scale 1: dividing them gains nothing.
  if (!(largest >= 1e-300)) return 1.0;
  // Capped below 2^1024 (which is inf); values then stay below 2 after scaling.
  const int exponent = std::min(std::ilogb(largest) + 1, std::numeric_limits<double>::max_exponent - 1);
  return std::ldexp(1.0, exponent);
}

void Forecaster::fit(std::span<const double> history) {
  require_finite(history);
  scale_ = power_of_two_scale(history);
  inverse_scale_ = 1.0 / scale_;  // exact: scale_ is a power of two
  std::vector<double> scaled(history.begin(), history.end());
  for (double& v : scaled) v *= inverse_scale_;
  samples_seen_ = history.size();
  rejected_samples_ = 0;
  last_scaled_ = scaled.empty() ? 0.0 : scaled.back();
  fit_scaled(scaled);
}

void Forecaster::update(double y) noexcept {
  if (!std::isfinite(y)) {
    ++rejected_samples_;
    return;
  }
  last_scaled_ = y * inverse_scale_;
  ++samples_seen_;
  update_scaled(last_scaled_);
}

void Forecaster::skip(std::uint64_t missing) noexcept {
  if (missing != 0) skip_scaled(missing);
}

double Forecaster::forecast(int h) const {
  if (h < 1) throw std::invalid_argument("forecast horizon must be >= 1, got " + std::to_string(h));
  if (samples_seen_ == 0) throw std::logic_error("forecast before any sample was seen");
  const double f = forecast_scaled(h);
  // A diverging or overflowing model must not leak inf/NaN into path costs.
  const double value = std::isfinite(f) ? f * scale_ : last_scaled_ * scale_;
  return std::isfinite(value) ? value : last_scaled_ * scale_;
}

void Forecaster::forecast_path(std::span<double> out) const {
  if (out.empty()) return;
  if (samples_seen_ == 0) throw std::logic_error("forecast before any sample was seen");
  forecast_path_scaled(out);
  const double fallback = last_scaled_ * scale_;
  for (double& f : out) {
    const double value = std::isfinite(f) ? f * scale_ : fallback;
    f = std::isfinite(value) ? value : fallback;
  }
}

}  // namespace meshgw::routing::predict
