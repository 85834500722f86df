// SPDX-License-Identifier: BSD-3-Clause
// Holt-Winters: a pure sine plus a linear trend is forecast almost exactly;
// fitted parameters stay in their bounds; components that do not pay for
// themselves are dropped.
#include "routing/predict/holt_winters.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "synthetic_series.hpp"

namespace meshgw::routing::predict {
namespace {

TEST(HoltWinters, ForecastsSinePlusTrendAlmostExactly) {
  constexpr std::size_t kPeriod = 24;
  const auto all = testing::sine_with_trend(24 * 20 + 48, kPeriod, 100.0, 0.05, 20.0);
  const std::vector<double> history(all.begin(), all.end() - 48);
  HoltWintersForecaster f({kPeriod, TrendKind::additive});
  f.fit(history);
  EXPECT_EQ(f.season_in_use(), kPeriod);
  EXPECT_TRUE(f.trend_in_use());
  for (int h = 1; h <= 48; ++h) {
    const double actual = all[history.size() + static_cast<std::size_t>(h) - 1];
    EXPECT_NEAR(f.forecast(h), actual, 0.05) << "h=" << h;  // amplitude 20: 0.25%
  }
  // Online: feed the true values, keep forecasting one step ahead.
  for (int h = 1; h <= 48; ++h) {
    const double actual = all[history.size() + static_cast<std::size_t>(h) - 1];
    EXPECT_NEAR(f.forecast(1), actual, 0.05);
    f.update(actual);
  }
}

TEST(HoltWinters, DampedTrendStillTracksTheSine) {
  constexpr std::size_t kPeriod = 48;
  const auto all = testing::sine_with_trend(48 * 12 + 12, kPeriod, 500.0, 0.0, 50.0);
  const std::vector<double> history(all.begin(), all.end() - 12);
  HoltWintersForecaster f({kPeriod, TrendKind::damped});
  f.fit(history);
  EXPECT_EQ(f.season_in_use(), kPeriod);
  for (int h = 1; h <= 12; ++h) EXPECT_NEAR(f.forecast(h), all[history.size() + h - 1], 0.5) << h;
}

TEST(HoltWinters, ParametersStayInBounds) {
  const auto y = testing::random_walk(2000, 100.0, 2.0, 11);
  HoltWintersForecaster f({96, TrendKind::damped});
  f.fit(y);
  const auto& p = f.params();
  EXPECT_GT(p.alpha, 0.0);
  EXPECT_LT(p.alpha, 1.0);
  EXPECT_GE(p.beta, 0.0);
  EXPECT_LE(p.beta, p.alpha);
  EXPECT_GE(p.gamma, 0.0);
  EXPECT_LE(p.gamma, 1.0 - p.alpha);
  if (f.trend_in_use()) {
    EXPECT_GE(p.phi, 0.8);
    EXPECT_LE(p.phi, 0.98);
  }
  // A random walk is best smoothed with alpha near 1 and has no season to pay for.
  EXPECT_GT(p.alpha, 0.9);
  EXPECT_EQ(f.season_in_use(), 0u);
}

TEST(HoltWinters, SeasonIsDroppedWhenTooShort) {
  HoltWintersForecaster f({100, TrendKind::damped});
  f.fit(testing::sine_with_trend(150, 100));
  EXPECT_EQ(f.season_in_use(), 0u);
  EXPECT_NE(f.describe().find("shorter than two seasons"), std::string::npos) << f.describe();
}

TEST(HoltWinters, SkipRestartsTheLevelAtTheNextSample) {
  HoltWintersForecaster f({0, TrendKind::damped});
  f.fit(std::vector<double>(200, 10.0));
  f.skip(1000);
  f.update(50.0);
  EXPECT_NEAR(f.forecast(1), 50.0, 1e-9);  // a jump after a hole is not a smoothing error
}

TEST(HoltWinters, KeepsASeasonThatPaysForItsStates) {
  std::vector<double> season;
  for (int i = 0; i < 96; ++i) season.push_back(100.0 + 40.0 * ((i * 37) % 96) / 96.0);  // jagged daily profile
  HoltWintersForecaster f({96, TrendKind::damped});
  f.fit(testing::repeated_season(season, 96 * 8, 1.0));
  EXPECT_EQ(f.season_in_use(), 96u) << f.describe();
  // A smooth slow sine is forecast one step ahead as well without 96 states: dropped.
  HoltWintersForecaster smooth({96, TrendKind::damped});
  smooth.fit(testing::sine_with_trend(96 * 8, 96));
  EXPECT_EQ(smooth.season_in_use(), 0u) << smooth.describe();
  EXPECT_NE(smooth.describe().find("AICc"), std::string::npos);
}

TEST(HoltWinters, StateIsTheSeasonInFloatsPlusAFewWords) {
  HoltWintersForecaster f({288, TrendKind::damped, false});
  f.fit(testing::sine_with_trend(288 * 4, 288));
  ASSERT_EQ(f.season_in_use(), 288u);
  EXPECT_LE(f.memory_bytes(), sizeof(HoltWintersForecaster) + 288 * sizeof(float));
}

}  // namespace
}  // namespace meshgw::routing::predict
