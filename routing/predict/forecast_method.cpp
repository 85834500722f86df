// SPDX-License-Identifier: BSD-3-Clause
#include "forecast_method.hpp"

#include <stdexcept>

#include "arima.hpp"
#include "auto_forecaster.hpp"
#include "ensemble.hpp"
#include "holt_winters.hpp"
#include "persistence.hpp"
#include "seasonal_naive.hpp"

namespace meshgw::routing::predict {

namespace {

constexpr std::array<std::pair<Method, std::string_view>, 6> kNames = {{
    {Method::persistence, "persistence"},
    {Method::seasonal_naive, "seasonal-naive"},
    {Method::holt_winters, "holt-winters"},
    {Method::arima, "arima"},
    {Method::ensemble, "ensemble"},
    {Method::automatic, "auto"},
}};

}  // namespace

std::string_view to_string(Method m) noexcept {
  for (const auto& [method, name] : kNames)
    if (method == m) return name;
  return "unknown";
}

std::optional<Method> method_from_string(std::string_view name) noexcept {
  for (const auto& [method, text] : kNames)
    if (text == name) return method;
  return std::nullopt;
}

std::unique_ptr<Forecaster> make_forecaster(Method method, const ForecasterConfig& config) {
  switch (method) {
    case Method::persistence:
      return std::make_unique<PersistenceForecaster>();
    case Method::seasonal_naive:
      if (config.season == 0) throw std::invalid_argument("seasonal-naive needs a season length >= 1");
      return std::make_unique<SeasonalNaiveForecaster>(config.season);
    case Method::holt_winters:
      return std::make_unique<HoltWintersForecaster>(HoltWintersOptions{config.season, TrendKind::damped});
    case Method::arima:
      return std::make_unique<ArimaForecaster>();
    case Method::ensemble:
      return std::make_unique<EnsembleForecaster>(config.season);
    case Method::automatic:
      return std::make_unique<AutoForecaster>(config);
  }
  throw std::invalid_argument("unknown forecasting method");
}

}  // namespace meshgw::routing::predict
