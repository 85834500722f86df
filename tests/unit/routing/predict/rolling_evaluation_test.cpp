// SPDX-License-Identifier: BSD-3-Clause
// The rolling-origin evaluation scores exactly the forecasts made from
// earlier samples, against the values they predict.
#include "routing/predict/rolling_evaluation.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "routing/predict/holt_winters.hpp"
#include "routing/predict/persistence.hpp"
#include "synthetic_series.hpp"

namespace meshgw::routing::predict {
namespace {

TEST(RollingEvaluation, PersistenceErrorsByHand) {
  const std::vector<double> y = {10, 12, 11, 15, 14, 20};
  PersistenceForecaster f;
  f.fit(std::span(y).first(3));
  const auto e = evaluate_rolling(f, y, 3, 2);
  ASSERT_EQ(e.size(), 2u);
  // h=1: origins 3,4,5 forecast y[2],y[3],y[4] for y[3],y[4],y[5]: |11-15|,|15-14|,|14-20|
  EXPECT_EQ(e[0].forecasts, 3u);
  EXPECT_DOUBLE_EQ(e[0].mae, (4.0 + 1.0 + 6.0) / 3.0);
  EXPECT_NEAR(e[0].smape_pct, (200.0 * 4 / 26 + 200.0 * 1 / 29 + 200.0 * 6 / 34) / 3.0, 1e-12);
  // h=2: origins 3,4 forecast y[2],y[3] for y[4],y[5]: |11-14|,|15-20|
  EXPECT_EQ(e[1].forecasts, 2u);
  EXPECT_DOUBLE_EQ(e[1].mae, 4.0);
  EXPECT_EQ(f.samples_seen(), y.size());
}

TEST(RollingEvaluation, SmapeOfTwoZerosIsZero) {
  ErrorAccumulator a(1);
  a.add(1, 0.0, 0.0);
  a.add(1, 0.0, 5.0);
  EXPECT_DOUBLE_EQ(a.result()[0].smape_pct, 100.0);
}

TEST(RollingEvaluation, PairedErrorsAreSignedAndAligned) {
  const std::vector<double> y = {1, 2, 4, 8, 16};
  PersistenceForecaster f;
  f.fit(std::span(y).first(2));
  const PairedErrors e = rolling_errors(f, y, 2, 2);
  ASSERT_EQ(e.one_step.size(), 3u);
  EXPECT_EQ(e.one_step[0], 2.0 - 4.0);
  EXPECT_EQ(e.one_step[2], 8.0 - 16.0);
  EXPECT_EQ(e.multi_step[0], 2.0 - 8.0);
  EXPECT_TRUE(std::isnan(e.multi_step[2]));  // its target is beyond the series
}

TEST(RollingEvaluation, GapsInTheTimeIndexCallSkip) {
  // A level jump right after a hole: with the time index, Holt-Winters
  // restarts there and is right from the next sample on.
  std::vector<double> y(300, 10.0);
  for (std::size_t i = 200; i < y.size(); ++i) y[i] = 90.0;
  std::vector<std::int64_t> t(y.size());
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::int64_t>(i < 200 ? i : i + 5000);
  HoltWintersForecaster with_gaps({0, TrendKind::damped}), without({0, TrendKind::damped});
  const auto noisy = testing::random_walk(150, 10.0, 0.5, 2);
  with_gaps.fit(noisy);
  without.fit(noisy);
  std::copy(noisy.begin(), noisy.end(), y.begin());
  const auto a = evaluate_rolling(with_gaps, y, 150, 1, t);
  const auto b = evaluate_rolling(without, y, 150, 1);
  EXPECT_LE(a[0].mae, b[0].mae);
  EXPECT_NEAR(with_gaps.forecast(1), 90.0, 1e-9);
  EXPECT_THROW(evaluate_rolling(with_gaps, y, 0, 1, std::span(t).first(10)), std::invalid_argument);
  EXPECT_THROW(evaluate_rolling(with_gaps, y, y.size() + 1, 1), std::invalid_argument);
  EXPECT_THROW(evaluate_rolling(with_gaps, y, 0, 0), std::invalid_argument);
}

}  // namespace
}  // namespace meshgw::routing::predict
