// SPDX-License-Identifier: BSD-3-Clause
// Predictive routing end to end: a link whose load is forecast to approach
// its capacity gets a large queueing cost, and traffic moves to another path
// before the link congests.
#include "routing/predict/link_load_predictor.hpp"

#include <gtest/gtest.h>

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
