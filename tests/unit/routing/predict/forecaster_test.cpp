// SPDX-License-Identifier: BSD-3-Clause
// What every forecaster must do, whatever its method: reject non-finite
// history, ignore and count non-finite samples, survive constant, zero,
// huge and very short series with finite forecasts, and keep a state whose
// size does not grow with the number of samples (O(1) per update).
#include "routing/predict/forecaster.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "routing/predict/forecast_method.hpp"
#include "synthetic_series.hpp"

namespace meshgw::routing::predict {
namespace {

constexpr std::size_t kSeason = 24;

class EveryMethod : public ::testing::TestWithParam<Method> {
 protected:
  std::unique_ptr<Forecaster> make() const { return make_forecaster(GetParam(), ForecasterConfig{kSeason, 4}); }
};

TEST_P(EveryMethod, RejectsNonFiniteHistoryNamingTheIndex) {
  auto f = make();
  std::vector<double> y = testing::sine_with_trend(100, kSeason);
  y[37] = std::nan("");
  try {
    f->fit(y);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("history[37]"), std::string::npos) << e.what();
  }
  y[37] = std::numeric_limits<double>::infinity();
  EXPECT_THROW(f->fit(y), std::invalid_argument);
  y[37] = -std::numeric_limits<double>::infinity();
  EXPECT_THROW(f->fit(y), std::invalid_argument);
}

TEST_P(EveryMethod, IgnoresAndCountsNonFiniteUpdates) {
  auto f = make();
  f->fit(testing::sine_with_trend(200, kSeason));
  const double before = f->forecast(1);
  const auto seen = f->samples_seen();
  f->update(std::nan(""));
  f->update(std::numeric_limits<double>::infinity());
  f->update(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(f->rejected_samples(), 3u);
  EXPECT_EQ(f->samples_seen(), seen);
  EXPECT_EQ(f->forecast(1), before);
}

TEST_P(EveryMethod, BadHorizonAndNoDataAreErrors) {
  auto f = make();
  EXPECT_THROW(f->forecast(1), std::logic_error);
  f->fit({});
  EXPECT_THROW(f->forecast(1), std::logic_error);
  f->update(5.0);
  EXPECT_DOUBLE_EQ(f->forecast(1), 5.0);  // one sample: persistence
  EXPECT_THROW(f->forecast(0), std::invalid_argument);
  EXPECT_THROW(f->forecast(-3), std::invalid_argument);
}

TEST_P(EveryMethod, VeryShortHistoriesFallBackToPersistence) {
  for (std::size_t n = 1; n <= 6; ++n) {
    auto f = make();
    std::vector<double> y;
    for (std::size_t i = 0; i < n; ++i) y.push_back(10.0 + static_cast<double>(i * i));
    f->fit(y);
    for (int h : {1, 2, 10}) EXPECT_DOUBLE_EQ(f->forecast(h), y.back()) << "n=" << n << " h=" << h;
  }
}

TEST_P(EveryMethod, ConstantSeriesForecastsTheConstant) {
  for (const double c : {0.0, 3.25, 1e-12, 7e9}) {
    auto f = make();
    f->fit(std::vector<double>(500, c));
    for (int h : {1, 4, 100}) EXPECT_NEAR(f->forecast(h), c, 1e-9 * std::max(1.0, c)) << c;
    for (int i = 0; i < 50; ++i) f->update(c);
    EXPECT_NEAR(f->forecast(1), c, 1e-9 * std::max(1.0, c));
  }
}

TEST_P(EveryMethod, MostlyZerosStayFinite) {
  std::vector<double> y(400, 0.0);
  for (std::size_t i = 0; i < y.size(); i += 37) y[i] = 5.0;
  auto f = make();
  f->fit(y);
  for (int h = 1; h <= 10; ++h) EXPECT_TRUE(std::isfinite(f->forecast(h)));
}

TEST_P(EveryMethod, HugeValuesStayFinite) {
  for (const double scale : {1e150, 1e300, 1.7e308}) {
    std::vector<double> y = testing::sine_with_trend(300, kSeason, 1.0, 0.001, 0.2);
    for (double& v : y) v *= scale / 2.0;
    auto f = make();
    f->fit(y);
    for (int h : {1, 5}) {
      const double v = f->forecast(h);
      EXPECT_TRUE(std::isfinite(v)) << scale;
      EXPECT_NEAR(v / (scale / 2.0), 1.0, 0.5) << scale;
    }
    f->update(std::numeric_limits<double>::max());
    f->update(-std::numeric_limits<double>::max());
    EXPECT_TRUE(std::isfinite(f->forecast(3))) << scale;
  }
}

TEST_P(EveryMethod, StateDoesNotGrowWithTheNumberOfUpdates) {
  // O(1) per update: the state after fitting is all there is; a million more
  // samples must not add a byte.
  auto f = make();
  f->fit(testing::sine_with_trend(300, kSeason));
  const std::size_t bytes = f->memory_bytes();
  EXPECT_GT(bytes, 0u);
  EXPECT_LT(bytes, 4096u) << "per-series state must stay a few KB";
  const auto extra = testing::random_walk(200'000, 100.0, 1.0, 7);
  for (const double v : extra) f->update(v);
  EXPECT_EQ(f->memory_bytes(), bytes);
  EXPECT_TRUE(std::isfinite(f->forecast(4)));
}

TEST_P(EveryMethod, RefittingReplacesState) {
  auto f = make();
  f->fit(testing::random_walk(300, 50.0, 1.0, 3));
  f->update(std::nan(""));
  f->fit(std::vector<double>(300, 8.0));
  EXPECT_EQ(f->rejected_samples(), 0u);
  EXPECT_NEAR(f->forecast(1), 8.0, 1e-9);
}

TEST_P(EveryMethod, CloneIsAnIndependentCopy) {
  auto f = make();
  f->fit(testing::sine_with_trend(400, kSeason));
  const auto copy = f->clone();
  EXPECT_EQ(copy->name(), f->name());
  EXPECT_EQ(copy->memory_bytes(), f->memory_bytes());
  for (int h = 1; h <= 5; ++h) EXPECT_EQ(copy->forecast(h), f->forecast(h));
  f->update(1000.0);
  EXPECT_NE(copy->forecast(1), f->forecast(1));
  copy->update(1000.0);
  EXPECT_EQ(copy->forecast(1), f->forecast(1));
}

// The one-pass path (what backtests use) equals forecast(h) at every h.
TEST_P(EveryMethod, ForecastPathEqualsForecastAtEachHorizon) {
  auto f = make();
  f->fit(testing::sine_with_trend(400, kSeason));
  std::vector<double> path(60);
  f->forecast_path(path);
  for (int h = 1; h <= 60; ++h)
    EXPECT_NEAR(path[static_cast<std::size_t>(h - 1)], f->forecast(h), 1e-9 * std::max(1.0, std::fabs(f->forecast(h))))
        << "h = " << h;
}

TEST_P(EveryMethod, SkipNeverBreaksTheForecast) {
  auto f = make();
  f->fit(testing::sine_with_trend(300, kSeason));
  f->skip(0);
  f->skip(5'000);
  f->update(42.0);
  EXPECT_TRUE(std::isfinite(f->forecast(1)));
}

INSTANTIATE_TEST_SUITE_P(Methods, EveryMethod,
                         ::testing::Values(Method::persistence, Method::seasonal_naive, Method::holt_winters,
                                           Method::arima, Method::ensemble, Method::automatic),
                         [](const ::testing::TestParamInfo<Method>& param_info) {
                           std::string name(to_string(param_info.param));
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

TEST(ForecastMethod, NamesRoundTrip) {
  for (const Method m : {Method::persistence, Method::seasonal_naive, Method::holt_winters, Method::arima,
                         Method::ensemble, Method::automatic}) {
    EXPECT_EQ(method_from_string(to_string(m)), m);
    EXPECT_EQ(make_forecaster(m, {kSeason, 4})->name(), to_string(m));
  }
  EXPECT_EQ(method_from_string("ARIMA"), std::nullopt);
  EXPECT_EQ(method_from_string(""), std::nullopt);
  EXPECT_THROW(make_forecaster(Method::seasonal_naive, {0, 4}), std::invalid_argument);
  EXPECT_THROW(make_forecaster(Method::automatic, {kSeason, 0}), std::invalid_argument);
}

TEST(ForecasterScale, IsAnExactPowerOfTwo) {
  EXPECT_EQ(power_of_two_scale(std::vector<double>{}), 1.0);
  EXPECT_EQ(power_of_two_scale(std::vector<double>{0.0, 0.0}), 1.0);
  EXPECT_EQ(power_of_two_scale(std::vector<double>{3.0, -5.0}), 8.0);
  EXPECT_EQ(power_of_two_scale(std::vector<double>{4.0}), 8.0);
  EXPECT_TRUE(std::isfinite(power_of_two_scale(std::vector<double>{std::numeric_limits<double>::max()})));
}

}  // namespace
}  // namespace meshgw::routing::predict
