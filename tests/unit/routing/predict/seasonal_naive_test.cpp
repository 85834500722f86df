// SPDX-License-Identifier: BSD-3-Clause
// Seasonal naive repeats the last observed season exactly, and persistence
// the last value.
#include "routing/predict/seasonal_naive.hpp"

#include <gtest/gtest.h>

#include "routing/predict/persistence.hpp"
#include "synthetic_series.hpp"

namespace meshgw::routing::predict {
namespace {

TEST(Persistence, ForecastsTheLastValueAtEveryHorizon) {
  PersistenceForecaster f;
  f.fit(std::vector<double>{1.0, 5.0, 2.5});
  for (int h = 1; h <= 20; ++h) EXPECT_EQ(f.forecast(h), 2.5);
  f.update(9.75);
  EXPECT_EQ(f.forecast(3), 9.75);
  EXPECT_EQ(f.name(), "persistence");
}

TEST(SeasonalNaive, RepeatsTheLastSeasonExactly) {
  // Values exactly representable in float, so the float ring is exact too.
  const std::vector<double> season = {10.5, 3.25, 0.0, 7.0, 100.125, 42.0, 8.5};
  // A different earlier season: only the last one may be repeated.
  std::vector<double> y = testing::repeated_season({1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0}, 20);
  for (std::size_t i = 0; i < 2 * season.size(); ++i) y.push_back(season[(y.size()) % season.size()]);
  SeasonalNaiveForecaster f(season.size());
  f.fit(y);
  for (int h = 1; h <= 30; ++h)
    EXPECT_EQ(f.forecast(h), y[y.size() - season.size() + static_cast<std::size_t>(h - 1) % season.size()]) << h;
}

TEST(SeasonalNaive, UpdatesRollTheSeasonForward) {
  SeasonalNaiveForecaster f(4);
  f.fit(std::vector<double>{1.0, 2.0, 3.0, 4.0});
  EXPECT_EQ(f.forecast(1), 1.0);
  f.update(11.0);  // replaces the value one season back
  EXPECT_EQ(f.forecast(1), 2.0);
  EXPECT_EQ(f.forecast(4), 11.0);
  EXPECT_EQ(f.forecast(8), 11.0);
}

TEST(SeasonalNaive, PersistenceUntilOneSeasonIsSeen) {
  SeasonalNaiveForecaster f(10);
  f.fit(std::vector<double>{5.0, 6.0, 7.0});
  EXPECT_EQ(f.forecast(1), 7.0);
  EXPECT_EQ(f.forecast(9), 7.0);
  for (int i = 0; i < 7; ++i) f.update(static_cast<double>(i));
  EXPECT_EQ(f.forecast(1), 5.0);  // now one full season: 5, 6, 7, 0, ..., 6
}

TEST(SeasonalNaive, SkipKeepsThePhase) {
  SeasonalNaiveForecaster f(4);
  f.fit(std::vector<double>{1.0, 2.0, 3.0, 4.0});
  f.skip(6);  // six intervals never measured: the next sample is at phase (4 + 6) mod 4 = 2
  EXPECT_EQ(f.forecast(1), 3.0);
}

TEST(SeasonalNaive, RejectsSeasonZero) { EXPECT_THROW(SeasonalNaiveForecaster(0), std::invalid_argument); }

}  // namespace
}  // namespace meshgw::routing::predict
