// SPDX-License-Identifier: BSD-3-Clause
// The real Abilene top-10 traffic file of ../shared/data: it reads as 10
// series of 4896 five-minute samples with one gap, and the automatic
// forecaster fitted on the first 80% is not worse than persistence on the
// rest by more than 2%, with a few KB of state per series. Skips when the
// data is absent (a user's clone has no ../shared).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "routing/predict/auto_forecaster.hpp"
#include "routing/predict/persistence.hpp"
#include "routing/predict/rolling_evaluation.hpp"
#include "routing/predict/traffic_csv.hpp"

namespace meshgw::routing::predict {
namespace {

namespace fs = std::filesystem;

fs::path abilene_top10() {
  const char* env = std::getenv("MESHGW_SHARED_DATA");
  return env ? fs::path(env) / "traffic" / "abilene" / "abilene_top10.csv" : fs::path();
}

TEST(RealTraffic, AbileneTop10) {
  const fs::path path = abilene_top10();
  if (path.empty() || !fs::exists(path)) GTEST_SKIP() << "../shared/data is absent (set MESHGW_SHARED_DATA)";
  std::ifstream in(path);
  const auto series = read_traffic_csv(in);
  ASSERT_EQ(series.size(), 10u);
  double auto_mae = 0.0, persistence_mae = 0.0;
  for (const TrafficSeries& s : series) {
    SCOPED_TRACE(s.src + "->" + s.dst);
    ASSERT_EQ(s.values.size(), 4896u);
    EXPECT_EQ(s.t.front(), 0);
    EXPECT_EQ(s.t.back(), 10079);
    EXPECT_EQ(gaps_in_t(s), 1u);
    EXPECT_EQ(samples_per_day(s), 288u);

    const std::size_t train = s.values.size() - s.values.size() / 5;
    const std::span<const double> history(s.values.data(), train);
    AutoForecaster automatic({samples_per_day(s), 4});
    automatic.fit(history);
    EXPECT_LT(automatic.memory_bytes(), 4096u) << automatic.describe();
    PersistenceForecaster persistence;
    persistence.fit(history);
    auto_mae += evaluate_rolling(automatic, s.values, train, 1, s.t)[0].mae;
    persistence_mae += evaluate_rolling(persistence, s.values, train, 1, s.t)[0].mae;
  }
  EXPECT_LT(auto_mae, 1.02 * persistence_mae);
}

}  // namespace
}  // namespace meshgw::routing::predict
