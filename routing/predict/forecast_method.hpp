// SPDX-License-Identifier: BSD-3-Clause
// The forecasting methods by name, and the factory that builds one for a
// series. Names are the command-line spellings (meshctl forecast --method).
// Threads: pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "forecaster.hpp"

namespace meshgw::routing::predict {

enum class Method : std::uint8_t { persistence, seasonal_naive, holt_winters, arima, ensemble, automatic };

// Every method but auto, in the order reports list them (persistence first:
// AutoForecaster compares the others with it).
inline constexpr std::array<Method, 5> kSingleMethods = {Method::persistence, Method::seasonal_naive,
                                                         Method::holt_winters, Method::arima, Method::ensemble};

std::string_view to_string(Method m) noexcept;  // "persistence" .. "auto"
std::optional<Method> method_from_string(std::string_view name) noexcept;

struct ForecasterConfig {
  // Samples per season (a day: 288 at 5 minutes, 96 at 15); 0 = no season.
  // Seasonal naive needs one (>= 1); Holt-Winters runs without a season if 0.
  std::size_t season = 0;
  // The multi-step horizon AutoForecaster scores candidates at (with h = 1).
  int selection_horizon = 4;
};

// Throws std::invalid_argument if the method cannot run with config (seasonal
// naive without a season, selection_horizon < 1).
std::unique_ptr<Forecaster> make_forecaster(Method method, const ForecasterConfig& config);

}  // namespace meshgw::routing::predict
