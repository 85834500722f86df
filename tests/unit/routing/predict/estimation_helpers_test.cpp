// SPDX-License-Identifier: BSD-3-Clause
// The numerical helpers under the fits: Nelder-Mead, least squares by normal
// equations, the unit-root tests.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "routing/predict/nelder_mead.hpp"
#include "routing/predict/normal_equations.hpp"
#include "routing/predict/unit_root_tests.hpp"
#include "synthetic_series.hpp"

namespace meshgw::routing::predict {
namespace {

TEST(NelderMead, FindsTheMinimumOfAQuadraticAndRosenbrock) {
  const auto quadratic = [](std::span<const double> x) {
    return (x[0] - 3.0) * (x[0] - 3.0) + 2.0 * (x[1] + 1.0) * (x[1] + 1.0) + 5.0;
  };
  NelderMeadOptions options;
  options.max_evaluations = 1000;
  options.value_tolerance = 1e-14;
  auto r = minimize_nelder_mead(quadratic, {0.0, 0.0}, options);
  EXPECT_NEAR(r.x[0], 3.0, 1e-4);
  EXPECT_NEAR(r.x[1], -1.0, 1e-4);
  EXPECT_NEAR(r.value, 5.0, 1e-8);
  const auto rosenbrock = [](std::span<const double> x) {
    return 100.0 * std::pow(x[1] - x[0] * x[0], 2) + std::pow(1.0 - x[0], 2);
  };
  options.max_evaluations = 4000;
  r = minimize_nelder_mead(rosenbrock, {-1.2, 1.0}, options);
  EXPECT_NEAR(r.x[0], 1.0, 1e-3);
  EXPECT_NEAR(r.x[1], 1.0, 2e-3);
  EXPECT_LE(r.evaluations, 4000);
}

TEST(NelderMead, TreatsNonFiniteValuesAsInfinity) {
  const auto f = [](std::span<const double> x) { return x[0] < 0.0 ? std::nan("") : (x[0] - 1.0) * (x[0] - 1.0); };
  const auto r = minimize_nelder_mead(f, {0.5}, {});
  EXPECT_NEAR(r.x[0], 1.0, 1e-3);
}

TEST(NormalEquations, SolvesAndGivesStandardErrors) {
  // y = 2 + 3 x + noise(sd 0.5): the slope's standard error is sd / sqrt(sum (x - mean x)^2).
  std::mt19937_64 rng(4);
  std::normal_distribution<double> noise(0.0, 0.5);
  NormalEquations ne(2);
  double sxx = 0.0;
  for (int i = 0; i < 1000; ++i) {
    const double x = i / 100.0;
    ne.add_row(std::vector<double>{1.0, x}, 2.0 + 3.0 * x + noise(rng));
    sxx += (x - 4.995) * (x - 4.995);
  }
  const auto b = ne.solve();
  ASSERT_TRUE(b);
  EXPECT_NEAR((*b)[0], 2.0, 0.1);
  EXPECT_NEAR((*b)[1], 3.0, 0.02);
  EXPECT_NEAR(*ne.standard_error(*b, 1), 0.5 / std::sqrt(sxx), 0.002);
  EXPECT_EQ(ne.rows(), 1000u);
}

TEST(NormalEquations, SingularIsNullopt) {
  NormalEquations ne(2);
  for (int i = 0; i < 10; ++i) ne.add_row(std::vector<double>{1.0, 2.0}, i);  // collinear columns
  EXPECT_FALSE(ne.solve());
  EXPECT_TRUE(ne.solve(0.1));  // damping makes it solvable
}

TEST(UnitRootTests, MatchStatsmodels) {
  // Reference values from statsmodels 0.13.5 on the same deterministic series:
  // kpss(y, regression='c', nlags=floor(4 (n/100)^0.25)) and
  // adfuller(y, maxlag=floor((n-1)^(1/3)), autolag=None, regression='c').
  std::vector<double> a, b;
  double sum = 0.0;
  for (int t = 0; t < 300; ++t) {
    a.push_back(((t * 37) % 101) / 101.0);
    b.push_back(sum += a.back() - 0.5);
  }
  EXPECT_NEAR(kpss_level_statistic(a), 0.01763314142108857, 1e-9);
  EXPECT_NEAR(adf_statistic(a), -14.203963225717649, 1e-7);
  EXPECT_NEAR(kpss_level_statistic(b), 4.0878394433316485, 1e-9);
  EXPECT_NEAR(adf_statistic(b), -1.7622725249900824, 1e-7);
}

TEST(UnitRootTests, TellARandomWalkFromWhiteNoise) {
  const auto walk = testing::random_walk(500, 0.0, 1.0, 1);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> white(500);
  for (double& v : white) v = noise(rng);
  EXPECT_GT(kpss_level_statistic(walk), kKpssCritical5Percent);
  EXPECT_LT(kpss_level_statistic(white), kKpssCritical5Percent);
  EXPECT_GT(adf_statistic(walk), kAdfCritical5Percent);
  EXPECT_LT(adf_statistic(white), -5.0);
  EXPECT_EQ(choose_differencing(walk), 1);
  EXPECT_EQ(choose_differencing(white), 0);
  // Degenerate inputs: no rejection either way, no crash.
  EXPECT_EQ(kpss_level_statistic(std::vector<double>(100, 3.0)), 0.0);
  EXPECT_EQ(adf_statistic(std::vector<double>(100, 3.0)), 0.0);
  EXPECT_EQ(choose_differencing(std::vector<double>{1.0, 2.0}), 1);
}

}  // namespace
}  // namespace meshgw::routing::predict
