// SPDX-License-Identifier: BSD-3-Clause
// AutoForecaster picks what the series calls for, exposes its backtest, and
// stays with persistence unless another method is better by more than chance.
#include "routing/predict/auto_forecaster.hpp"

#include <gtest/gtest.h>

#include <random>

#include "routing/predict/baseline_comparison.hpp"
#include "routing/predict/rolling_evaluation.hpp"
#include "synthetic_series.hpp"

namespace meshgw::routing::predict {
namespace {

const CandidateScore& score_of(const AutoForecaster& a, Method m) {
  for (const CandidateScore& c : a.backtest())
    if (c.method == m) return c;
  throw std::logic_error("no such method");
}

TEST(AutoForecaster, PicksASeasonalMethodForARepeatingSeason) {
  std::vector<double> season;
  for (int i = 0; i < 24; ++i) season.push_back(50.0 + 30.0 * ((i * 7) % 24) / 24.0);  // jagged, not a sine
  AutoForecaster a({24, 4});
  a.fit(testing::repeated_season(season, 24 * 30, 0.5));
  EXPECT_TRUE(a.chosen() == Method::seasonal_naive || a.chosen() == Method::holt_winters ||
              a.chosen() == Method::ensemble)
      << a.describe();
  EXPECT_LT(score_of(a, Method::seasonal_naive).score, 0.2) << a.describe();
  EXPECT_NEAR(score_of(a, Method::persistence).score, 1.0, 1e-12);
  EXPECT_TRUE(score_of(a, Method::holt_winters).evaluated);
  EXPECT_GT(score_of(a, Method::seasonal_naive).mae_one_step, 0.0);
}

TEST(AutoForecaster, PicksArimaOrEnsembleForAnAutoregressiveSeries) {
  AutoForecaster a({0, 4});
  a.fit(testing::ar2(3000, 0.9, -0.5, 100.0, 3));
  EXPECT_TRUE(a.chosen() == Method::arima || a.chosen() == Method::ensemble) << a.describe();
  EXPECT_FALSE(score_of(a, Method::seasonal_naive).evaluated);  // no season configured
  EXPECT_LT(score_of(a, Method::arima).score_upper_bound, 1.0);
}

TEST(AutoForecaster, KeepsPersistenceForARandomWalk) {
  // Nothing beats the last value of a random walk by more than chance.
  int persistence = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    AutoForecaster a({0, 4});
    a.fit(testing::random_walk(1000, 500.0, 5.0, seed));
    persistence += a.chosen() == Method::persistence;
  }
  EXPECT_GE(persistence, 7);
}

TEST(AutoForecaster, ShortHistoryIsPersistenceWithoutBacktest) {
  AutoForecaster a({24, 4});
  a.fit(testing::sine_with_trend(AutoForecaster::kMinHistory - 1, 24));
  EXPECT_EQ(a.chosen(), Method::persistence);
  for (const CandidateScore& c : a.backtest()) EXPECT_FALSE(c.evaluated);
}

TEST(AutoForecaster, ForecastsWhatItsChosenMethodForecasts) {
  const auto y = testing::ar2(2000, 0.8, -0.2, 40.0, 9);
  AutoForecaster a({0, 4});
  a.fit(y);
  auto same = make_forecaster(a.chosen(), {0, 4});
  same->fit(y);
  for (int h = 1; h <= 6; ++h) EXPECT_NEAR(a.forecast(h), same->forecast(h), 1e-9);
  a.update(41.0);
  same->update(41.0);
  EXPECT_NEAR(a.forecast(1), same->forecast(1), 1e-9);
  EXPECT_EQ(a.memory_bytes(), sizeof(AutoForecaster) + same->memory_bytes());
}

TEST(BaselineComparison, ScoresRelativeToTheBaselineWithABound) {
  PairedErrors baseline{std::vector<double>(200, 2.0), std::vector<double>(200, -4.0)};
  PairedErrors better{std::vector<double>(200, 1.0), std::vector<double>(200, 2.0)};
  auto c = compare_to_baseline(better, baseline, 4, 1.645);
  EXPECT_DOUBLE_EQ(c.score, 0.5);
  EXPECT_DOUBLE_EQ(c.score_upper_bound, 0.5);  // no spread at all
  EXPECT_EQ(c.origins, 200u);
  c = compare_to_baseline(baseline, baseline, 4, 1.645);
  EXPECT_DOUBLE_EQ(c.score, 1.0);
  // Noisy and only slightly better on average: the bound stays above 1.
  PairedErrors short_baseline{std::vector<double>(50, 2.0), std::vector<double>(50, -4.0)};
  PairedErrors noisy = short_baseline;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> spread(0.0, 3.96);
  for (double& e : noisy.one_step) e = spread(rng);
  c = compare_to_baseline(noisy, short_baseline, 4, 1.645);
  EXPECT_LT(c.score, 1.0);
  EXPECT_GT(c.score_upper_bound, 1.0);
  // NaN origins are skipped.
  better.one_step[0] = std::nan("");
  EXPECT_EQ(compare_to_baseline(better, baseline, 4, 1.645).origins, 199u);
  EXPECT_EQ(compare_to_baseline({}, {}, 4, 1.645).origins, 0u);
}

}  // namespace
}  // namespace meshgw::routing::predict
