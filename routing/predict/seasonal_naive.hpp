// SPDX-License-Identifier: BSD-3-Clause
// SeasonalNaiveForecaster: the value one season ago, y(t+h) = y(t+h-k*m)
// with the smallest k >= 1 that reaches back into observed data, i.e. the
// last observed season repeated. Until m samples have been seen it forecasts
// the last value (persistence). Threads: see Forecaster.
#pragma once

#include "forecaster.hpp"
#include "seasonal_ring.hpp"

namespace meshgw::routing::predict {

class SeasonalNaiveForecaster final : public CopyableForecaster<SeasonalNaiveForecaster> {
 public:
  // season: samples per season (e.g. 288 for a day of 5-minute samples), >= 1.
  // Throws std::invalid_argument otherwise.
  explicit SeasonalNaiveForecaster(std::size_t season);

  std::string_view name() const override { return "seasonal-naive"; }
  std::string describe() const override;
  std::size_t memory_bytes() const override { return sizeof(*this) + last_season_.heap_bytes(); }
  std::size_t season() const noexcept { return last_season_.size(); }

 protected:
  void fit_scaled(std::span<const double> history) override;
  void update_scaled(double y) noexcept override;
  double forecast_scaled(int h) const override;
  void skip_scaled(std::uint64_t missing) noexcept override;

 private:
  SeasonalRing last_season_;  // y(t-m+1) .. y(t), oldest first
  std::size_t filled_ = 0;    // samples in the ring, up to m
};

}  // namespace meshgw::routing::predict
