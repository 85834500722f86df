// SPDX-License-Identifier: BSD-3-Clause
// ARIMA: coefficients of simulated processes are recovered by CSS, AIC picks
// the simulated order, d comes from the unit-root tests, and the online
// recursion matches a forecast written out by hand.
#include "routing/predict/arima.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "routing/predict/arima_estimation.hpp"
#include "routing/predict/unit_root_tests.hpp"
#include "synthetic_series.hpp"

namespace meshgw::routing::predict {
namespace {

TEST(Arima, RecoversAr2CoefficientsAndAicPicksOrder2) {
  const auto y = testing::ar2(3000, 0.6, -0.3, 50.0, 2026);
  std::vector<ArimaModel> fitted;
  const ArimaModel m = select_arima(y, DifferencingRule::unit_root_tests, &fitted);
  EXPECT_EQ(m.order, (ArimaOrder{2, 0, 0})) << m.to_string();
  EXPECT_NEAR(m.phi[0], 0.6, 0.04);
  EXPECT_NEAR(m.phi[1], -0.3, 0.04);
  EXPECT_NEAR(m.mean, 50.0, 0.15);
  EXPECT_NEAR(m.sigma2, 1.0, 0.08);
  EXPECT_EQ(fitted.size(), 12u);  // p 0..3 x q 0..2 at the tested d
  // The same through the forecaster, which scales the series first.
  ArimaForecaster f;
  f.fit(y);
  EXPECT_EQ(f.model().order, (ArimaOrder{2, 0, 0}));
  EXPECT_NEAR(f.model().phi[0], 0.6, 0.04);
  EXPECT_NEAR(f.model().phi[1], -0.3, 0.04);
}

TEST(Arima, RecoversArma11ByGaussNewton) {
  std::mt19937_64 rng(99);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> y;
  double x = 0.0, e_prev = 0.0;
  for (int t = 0; t < 4000; ++t) {
    const double e = noise(rng);
    x = 0.7 * x + e + 0.4 * e_prev;
    e_prev = e;
    y.push_back(10.0 + x);
  }
  const ArimaModel m = fit_arima(y, {1, 0, 1});
  EXPECT_NEAR(m.phi[0], 0.7, 0.04);
  EXPECT_NEAR(m.theta[0], 0.4, 0.05);
  EXPECT_NEAR(m.mean, 10.0, 0.25);
}

TEST(Arima, DifferencesARandomWalk) {
  const auto y = testing::random_walk(2000, 100.0, 1.0, 5);
  EXPECT_EQ(choose_differencing(y), 1);
  ArimaForecaster f;
  f.fit(y);
  EXPECT_EQ(f.model().order.d, 1);
}

TEST(Arima, FixedOrderIsKept) {
  ArimaForecaster f(ArimaOrder{2, 1, 1});
  f.fit(testing::ar2(500, 0.5, 0.2, 10.0, 1));
  EXPECT_EQ(f.model().order, (ArimaOrder{2, 1, 1}));
  EXPECT_THROW(ArimaForecaster(ArimaOrder{4, 0, 0}), std::invalid_argument);
  EXPECT_THROW(ArimaForecaster(ArimaOrder{0, 2, 0}), std::invalid_argument);
}

TEST(Arima, OnlineForecastMatchesTheRecursionByHand) {
  // ARIMA(1,1,1): w(t) = phi w(t-1) + e(t) + theta e(t-1), y = cumulative w.
  const auto y = testing::random_walk(1500, 200.0, 3.0, 17);
  ArimaForecaster f(ArimaOrder{1, 1, 1});
  f.fit(y);
  const double phi = f.model().phi[0], theta = f.model().theta[0];
  // Replay the model in the fitted (scaled) units is unnecessary: the model
  // is linear, so scaling commutes; recompute the last error here.
  double e = 0.0, w_prev = 0.0;
  for (std::size_t t = 1; t < y.size(); ++t) {
    const double w = y[t] - y[t - 1];
    e = t >= 2 ? w - phi * w_prev - theta * e : 0.0;
    w_prev = w;
  }
  const double w1 = phi * w_prev + theta * e;
  const double w2 = phi * w1;
  EXPECT_NEAR(f.forecast(1), y.back() + w1, 1e-6);
  EXPECT_NEAR(f.forecast(2), y.back() + w1 + w2, 1e-6);
  EXPECT_NEAR(f.forecast(3), y.back() + w1 + w2 + phi * w2, 1e-6);
}

TEST(Arima, TooShortIsPersistence) {
  ArimaForecaster f;
  f.fit(std::vector<double>{1.0, 4.0, 2.0, 8.0, 5.0, 7.0});
  EXPECT_EQ(f.model().order, (ArimaOrder{0, 1, 0}));
  EXPECT_EQ(f.forecast(3), 7.0);
  EXPECT_NE(f.describe().find("too short"), std::string::npos);
}

TEST(Arima, OrderSelectionByAicAlsoAvailableOverD) {
  const auto y = testing::ar2(2000, 0.6, -0.3, 50.0, 7);
  std::vector<ArimaModel> fitted;
  select_arima(y, DifferencingRule::aic, &fitted);
  EXPECT_EQ(fitted.size(), 24u);  // the whole grid
}

TEST(RootsOutside, MatchesKnownPolynomials) {
  // 1 - 0.5 z: root 2.
  EXPECT_TRUE(roots_outside(std::vector<double>{0.5}, 1.0));
  EXPECT_FALSE(roots_outside(std::vector<double>{0.5}, 2.5));
  // 1 - z: unit root.
  EXPECT_FALSE(roots_outside(std::vector<double>{1.0}, 1.0));
  // 1 - 1.5 z + 0.56 z^2 = (1 - 0.7 z)(1 - 0.8 z): roots 1.43 and 1.25.
  EXPECT_TRUE(roots_outside(std::vector<double>{1.5, -0.56}, 1.2));
  EXPECT_FALSE(roots_outside(std::vector<double>{1.5, -0.56}, 1.3));
  // 1 - 1.2 z + ... explosive: (1 - 1.1 z)(1 - 0.5 z) = 1 - 1.6 z + 0.55 z^2.
  EXPECT_FALSE(roots_outside(std::vector<double>{1.6, -0.55}, 1.0));
  EXPECT_TRUE(roots_outside(std::vector<double>{}, 1.0));
}

}  // namespace
}  // namespace meshgw::routing::predict
