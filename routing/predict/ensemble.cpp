// SPDX-License-Identifier: BSD-3-Clause
#include "ensemble.hpp"

#include <vector>

namespace meshgw::routing::predict {

EnsembleForecaster::EnsembleForecaster(std::size_t season)
    : holt_winters_(HoltWintersOptions{season, TrendKind::damped}) {}

std::string EnsembleForecaster::describe() const {
  return "mean of [" + holt_winters_.describe() + "] and [" + arima_.describe() + "]";
}

std::size_t EnsembleForecaster::memory_bytes() const {
  // The members are inside *this; only their heap parts come on top.
  return sizeof(*this) + holt_winters_.memory_bytes() - sizeof(holt_winters_) + arima_.memory_bytes() - sizeof(arima_);
}

void EnsembleForecaster::fit_scaled(std::span<const double> history) {
  holt_winters_.fit(history);
  arima_.fit(history);
}

void EnsembleForecaster::update_scaled(double y) noexcept {
  holt_winters_.update(y);
  arima_.update(y);
}

double EnsembleForecaster::forecast_scaled(int h) const {
  return 0.5 * (holt_winters_.forecast(h) + arima_.forecast(h));
}

void EnsembleForecaster::forecast_path_scaled(std::span<double> out) const {
  std::vector<double> other(out.size());
  holt_winters_.forecast_path(out);
  arima_.forecast_path(other);
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = 0.5 * (out[k] + other[k]);
}

void EnsembleForecaster::skip_scaled(std::uint64_t missing) noexcept {
  holt_winters_.skip(missing);
  arima_.skip(missing);
}

}  // namespace meshgw::routing::predict
