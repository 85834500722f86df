// SPDX-License-Identifier: BSD-3-Clause
#include "seasonal_naive.hpp"

#include <stdexcept>

namespace meshgw::routing::predict {

SeasonalNaiveForecaster::SeasonalNaiveForecaster(std::size_t season) {
  if (season < 1) throw std::invalid_argument("seasonal naive: season must be >= 1 sample");
  last_season_.assign(season);
}

std::string SeasonalNaiveForecaster::describe() const {
  std::string text = "seasonal naive (season " + std::to_string(season()) + " samples)";
  if (filled_ < season()) text += ", persistence until a full season is seen";
  return text;
}

void SeasonalNaiveForecaster::fit_scaled(std::span<const double> history) {
  last_season_.assign(season());
  filled_ = 0;
  // Only the last season matters; older samples would be overwritten anyway.
  const std::size_t keep = history.size() < season() ? history.size() : season();
  for (const double y : history.last(keep)) update_scaled(y);
}

void SeasonalNaiveForecaster::update_scaled(double y) noexcept {
  last_season_.replace_oldest(y);
  if (filled_ < season()) ++filled_;
}

void SeasonalNaiveForecaster::skip_scaled(std::uint64_t missing) noexcept {
  if (filled_ == season()) last_season_.advance(missing);
}

double SeasonalNaiveForecaster::forecast_scaled(int h) const {
  if (filled_ < season()) return last_scaled();
  return last_season_.from_oldest(static_cast<std::size_t>(h - 1) % season());
}

}  // namespace meshgw::routing::predict
