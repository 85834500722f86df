// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for the traffic CSV reader (meshctl forecast --csv): any
// input parses or throws TrafficCsvError; parsed series are well formed and
// can be forecast.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "routing/predict/auto_forecaster.hpp"
#include "routing/predict/traffic_csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::vector<meshgw::routing::predict::TrafficSeries> series;
  try {
    series = meshgw::routing::predict::read_traffic_csv(in);
  } catch (const meshgw::routing::predict::TrafficCsvError&) {
    return 0;
  }
  for (const auto& s : series) {
    if (s.values.size() != s.t.size() || s.values.empty()) std::abort();
    for (std::size_t i = 1; i < s.t.size(); ++i)
      if (s.t[i] <= s.t[i - 1]) std::abort();
    meshgw::routing::predict::AutoForecaster f({4, 2});
    f.fit(s.values);
    if (!std::isfinite(f.forecast(2))) std::abort();
  }
  return 0;
}
