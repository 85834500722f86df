// SPDX-License-Identifier: BSD-3-Clause
// PersistenceForecaster: every future value equals the last one seen. The
// baseline every other method must beat, and what they fall back to when
// they have too little history. Threads: see Forecaster.
#pragma once

#include "forecaster.hpp"

namespace meshgw::routing::predict {

class PersistenceForecaster final : public CopyableForecaster<PersistenceForecaster> {
 public:
  std::string_view name() const override { return "persistence"; }
  std::string describe() const override { return "persistence (last value)"; }
  std::size_t memory_bytes() const override { return sizeof(*this); }

 protected:
  // The base class already keeps the last sample; nothing else to hold.
  void fit_scaled(std::span<const double>) override {}
  void update_scaled(double) noexcept override {}
  double forecast_scaled(int) const override { return last_scaled(); }
};

}  // namespace meshgw::routing::predict
