// SPDX-License-Identifier: BSD-3-Clause
// Predictive routing end to end: a link whose load is forecast to approach
// its capacity gets a large queueing cost, and traffic moves to another path
// before the link congests.
#include "routing/predict/link_load_predictor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "routing/graph_cache.hpp"
#include "routing/paths.hpp"

namespace meshgw::routing::predict {
namespace {

// a -> z directly (3 ms over a 10 Mbit/s edge uplink, where queueing
// matters) or a -> b -> z (2 x 8 ms over 10 Gbit/s).
Topology two_paths() {
  Topology t;
  for (const char* id : {"a", "b", "z"}) t.add_node({.id = id});
  auto link = [&](const char* u, const char* v, double ms, double mbps) {
    Link l;
    l.src = *t.find(u);
    l.dst = *t.find(v);
    l.latency_ms = ms;
    l.capacity_mbps = mbps;
    t.add_link(l);
  };
  link("a", "z", 3, 10);
  link("a", "b", 8, 10000);
  link("b", "z", 8, 10000);
  return t;
}

std::vector<std::string> best_path(Topology& t) {
  CostModel model;
  model.params.mean_packet_bytes = 1500;
  PathFinder pf;
  const auto p = pf.shortest(CsrGraph(t, model), *t.find("a"), *t.find("z"), Algorithm::dijkstra);
  std::vector<std::string> ids;
  for (NodeIndex v : p->nodes) ids.push_back(t.nodes()[v].id);
  return ids;
}

TEST(LinkLoadPredictor, ARisingLoadMovesTrafficBeforeTheLinkSaturates) {
  // Load on a->z grows by 0.1 Mbit/s per interval: 2.0 .. 7.9 over 60 samples.
  std::vector<double> history;
  for (int i = 0; i < 60; ++i) history.push_back(2.0 + 0.1 * i);
  LinkLoadPredictor predictor({.season = 0, .selection_horizon = 12}, 12);
  predictor.fit("a", "z", history);
  predictor.update("a", "b", 5.0);

  Topology t = two_paths();
  // 79% now: 3 ms + 5.7 ms of M/M/1 queueing (1500 B) + 3.8 headroom = 12.5 < 16.
  t.link(0).utilisation = history.back() / 10.0;
  EXPECT_EQ(best_path(t), (std::vector<std::string>{"a", "z"})) << "now, the direct link still wins";

  ASSERT_EQ(predictor.apply(t), 2u);
  // The trend forecaster sees ~9.1 Mbit/s twelve intervals ahead: 3 + ~13 + ~10 > 16.
  EXPECT_GT(*t.link(0).predicted_utilisation, 0.85);
  EXPECT_LE(*t.link(0).predicted_utilisation, 1.0);
  EXPECT_EQ(best_path(t), (std::vector<std::string>{"a", "b", "z"})) << "planned ahead, it moves";
}

TEST(LinkLoadPredictor, AFallingForecastNeverHidesLoadNow) {
  std::vector<double> history;
  for (int i = 0; i < 60; ++i) history.push_back(9.0 - 0.1 * i);  // falling to 3.1
  LinkLoadPredictor predictor({}, 20);
  predictor.fit("a", "z", history);
  Topology t = two_paths();
  t.link(0).utilisation = 0.6;
  predictor.apply(t);
  EXPECT_GE(*t.link(0).predicted_utilisation, 0.6);
}

TEST(LinkLoadPredictor, LinksWithoutCapacityOrForecastAreLeftAlone) {
  LinkLoadPredictor predictor({}, 4);
  Topology t = two_paths();
  t.link(1).capacity_mbps = 0;
  predictor.update("a", "b", 50);
  EXPECT_EQ(predictor.apply(t), 0u);
  EXPECT_FALSE(t.link(0).predicted_utilisation.has_value());
  EXPECT_THROW(LinkLoadPredictor({}, 0), std::invalid_argument);
}

}  // namespace
}  // namespace meshgw::routing::predict

namespace meshgw::routing::predict {
namespace {

// A long-running caller keeps one GraphCache; the predictor's writes must
// reach it without anyone bumping a version by hand.
TEST(LinkLoadPredictor, ACachedGraphSeesThePrediction) {
  std::vector<double> history;
  for (int i = 0; i < 60; ++i) history.push_back(2.0 + 0.1 * i);
  LinkLoadPredictor predictor({.season = 0, .selection_horizon = 12}, 12);
  predictor.fit("a", "z", history);
  predictor.update("a", "b", 5.0);
  Topology t = two_paths();
  t.link(0).utilisation = history.back() / 10.0;
  CostModel model;
  model.params.mean_packet_bytes = 1500;
  GraphCache cache(model, {});
  PathFinder pf;
  const auto before = pf.shortest(cache.graph(t), *t.find("a"), *t.find("z"), Algorithm::dijkstra);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->hops(), 1u);
  const std::uint64_t v = t.version();
  ASSERT_EQ(predictor.apply(t), 2u);
  EXPECT_GT(t.version(), v);
  const auto after = pf.shortest(cache.graph(t), *t.find("a"), *t.find("z"), Algorithm::dijkstra);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->hops(), 2u) << "the cached graph was refreshed with the predicted utilisation";
}

}  // namespace
}  // namespace meshgw::routing::predict

namespace meshgw::routing::predict {
namespace {

// A flat, noisy history (what a link carries before a surge): the fitted
// forecasters learn its mean and no trend.
std::vector<double> flat_history(std::size_t n, double level) {
  std::vector<double> h;
  std::uint32_t x = 12345;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    h.push_back(level + 0.3 * (static_cast<double>(x >> 16 & 0x7fff) / 0x7fff - 0.5));
  }
  return h;
}

TEST(LocalTrend, ASignificantRiseIsExtrapolatedNoFurtherThanItsWindow) {
  LocalTrend t({.window = 10, .min_t = 4});
  for (int i = 0; i < 9; ++i) t.update(1.0 + 0.5 * i);
  EXPECT_FALSE(t.forecast(5)) << "not a full window yet";
  t.update(5.5);  // 1.0 .. 5.5, a perfect line
  ASSERT_TRUE(t.forecast(4));
  EXPECT_NEAR(*t.forecast(4), 7.5, 1e-9);
  EXPECT_NEAR(*t.forecast(100), 5.5 + 0.5 * 10, 1e-9) << "capped at the window";
  EXPECT_NEAR(t.slope(), 0.5, 1e-12);
  t.update(std::nan(""));  // ignored
  EXPECT_NEAR(*t.forecast(1), 6.0, 1e-9);
}

TEST(LocalTrend, NoiseFlatOrFallingIsNoRise) {
  LocalTrend t({.window = 20, .min_t = 4});
  for (double y : flat_history(200, 5.0)) {
    t.update(y);
    EXPECT_FALSE(t.forecast(10)) << "noise around a level read as a rise";
  }
  LocalTrend down({.window = 5, .min_t = 0});
  for (int i = 0; i < 5; ++i) down.update(10.0 - i);
  EXPECT_FALSE(down.forecast(3));
  LocalTrend off({.window = 0});
  off.update(1);
  off.update(2);
  EXPECT_FALSE(off.forecast(1));
  EXPECT_THROW(LocalTrend({.window = 2}), std::invalid_argument);
  EXPECT_THROW(LocalTrend({.window = 5, .min_t = -1}), std::invalid_argument);
  EXPECT_THROW(LinkLoadPredictor({}, 5, {.window = 1}), std::invalid_argument);
}

// The case proactive rerouting is for: the forecaster was fitted on a flat
// history, and a surge builds after it. The fitted model forecasts the old
// mean; the local trend sees the rise, and traffic moves while the link
// still has room.
TEST(LinkLoadPredictor, ASurgeAfterAFlatHistoryIsSeenBeforeTheLinkSaturates) {
  for (const bool with_trend : {false, true}) {
    LinkLoadPredictor predictor({.season = 0, .selection_horizon = 12}, 12,
                                {.window = with_trend ? std::size_t{20} : 0, .min_t = 4});
    predictor.fit("a", "z", flat_history(240, 2.0));
    predictor.update("a", "b", 5.0);
    double now = 2.0;
    for (int i = 0; i < 40; ++i) predictor.update("a", "z", now = 2.0 + 0.15 * i);  // to 7.85 Mbit/s
    Topology t = two_paths();
    t.link(0).utilisation = now / 10.0;  // 79%: the direct link still wins on what it carries now
    EXPECT_EQ(best_path(t), (std::vector<std::string>{"a", "z"}));
    predictor.apply(t);
    const auto p = predictor.predicted("a", "z");
    ASSERT_TRUE(p);
    if (with_trend) {
      EXPECT_TRUE(p->rising);
      EXPECT_NEAR(p->mbps, 7.85 + 0.15 * 12, 0.05);
      EXPECT_EQ(best_path(t), (std::vector<std::string>{"a", "b", "z"})) << "planned ahead, it moves";
    } else {
      EXPECT_FALSE(p->rising);
      EXPECT_LT(p->mbps, now) << "the flat fit forecasts below the load now";
      EXPECT_NEAR(*t.link(0).predicted_utilisation, 0.785, 1e-9) << "max(now, forecast): the load now";
      EXPECT_EQ(best_path(t), (std::vector<std::string>{"a", "z"})) << "without the trend, no lead";
    }
  }
}

}  // namespace
}  // namespace meshgw::routing::predict

namespace meshgw::routing::predict {
namespace {

TEST(LocalTrend, AStepIsNoTrend) {
  // Flows moved onto a link at once: its load jumps and stays. A line fits
  // the window with a significant slope, but nothing is rising any more.
  LocalTrend t({.window = 20, .min_t = 4});
  const auto noise = flat_history(20, 0);
  for (int i = 0; i < 20; ++i) t.update((i < 12 ? 2.0 : 6.0) + noise[i]);
  EXPECT_GT(t.slope(), 0.1);
  EXPECT_FALSE(t.forecast(10));
  for (int i = 0; i < 20; ++i) t.update(2.0 + 0.2 * i + noise[i]);  // a ramp through the same window
  EXPECT_TRUE(t.forecast(10));
  // Traffic starting: nothing, then a level reached within a few samples.
  LocalTrend start({.window = 20, .min_t = 4});
  for (int i = 0; i < 20; ++i) start.update((i < 8 ? 0.0 : i < 11 ? 1.0 * (i - 7) : 3.3) + noise[i]);
  EXPECT_FALSE(start.forecast(10));
}

}  // namespace
}  // namespace meshgw::routing::predict
