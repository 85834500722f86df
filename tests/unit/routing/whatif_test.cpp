// SPDX-License-Identifier: BSD-3-Clause
#include "routing/whatif.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace meshgw::routing {
namespace {

//   a --5ms-- b --5ms-- d        10 Mbit/s everywhere; a flow a->d of
//   |                   |        2 Mbit/s on a,b,d and one c->d of 1 Mbit/s.
//   +--8ms--- c --8ms---+
struct Square {
  Topology t;
  std::vector<DemandFlow> flows;
  explicit Square(Role b_role = Role::core) {
    for (const char* id : {"a", "b", "c", "d"}) t.add_node({.id = id, .role = std::string(id) == "b" ? b_role : Role::core});
    auto link = [&](const char* x, const char* y, double ms) {
      t.add_bidirectional({.src = *t.find(x), .dst = *t.find(y), .capacity_mbps = 10, .latency_ms = ms});
    };
    link("a", "b", 5);
    link("b", "d", 5);
    link("a", "c", 8);
    link("c", "d", 8);
    flows.push_back({.from = "a", .to = "d", .rate_bps = 2e6, .path = {"a", "b", "d"}});
    flows.push_back({.from = "c", .to = "d", .rate_bps = 1e6, .path = {"c", "d"}});
    load("a", "b", 0.2);
    load("b", "d", 0.2);
    load("c", "d", 0.1);
  }
  void load(const char* x, const char* y, double u) {
    for (LinkIndex i = 0; i < t.link_count(); ++i)
      if (t.links()[i].src == *t.find(x) && t.links()[i].dst == *t.find(y)) t.link(i).utilisation = u;
  }
};

WhatIfConfig config() {
  WhatIfConfig c;
  c.selector.hold_jitter_fraction = 0;
  return c;
}

const LinkOutcome& link(const WhatIfResult& r, const std::string& from, const std::string& to) {
  for (const LinkOutcome& l : r.links)
    if (l.from == from && l.to == to) return l;
  throw std::out_of_range(from + "->" + to);
}

TEST(WhatIf, FailedLinkMovesItsFlowsAtOnceAndLeavesTheOthers) {
  Square s;
  const auto r = what_if(s.t, s.flows, {.fail_links = {{"b", "a"}}}, config());
  ASSERT_EQ(r.flows.size(), 2u);
  EXPECT_EQ(r.flows[0].verdict, FlowVerdict::moves_now);
  ASSERT_TRUE(r.flows[0].before && r.flows[0].after);
  EXPECT_EQ(r.flows[0].before->nodes, (std::vector<std::string>{"a", "b", "d"}));
  EXPECT_EQ(r.flows[0].after->nodes, (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_GT(r.flows[0].after->cost, r.flows[0].before->cost);
  EXPECT_EQ(r.flows[1].verdict, FlowVerdict::stays);
  EXPECT_EQ(r.flows[1].after->nodes, (std::vector<std::string>{"c", "d"}));
  // Both directions of the cut link fail; the flow's rate leaves its old path for the new.
  EXPECT_TRUE(link(r, "a", "b").failed && link(r, "b", "a").failed);
  EXPECT_DOUBLE_EQ(link(r, "a", "b").load_before_bps, 2e6);
  EXPECT_DOUBLE_EQ(link(r, "a", "b").load_after_bps, 0);
  EXPECT_DOUBLE_EQ(link(r, "b", "d").load_after_bps, 0);
  EXPECT_DOUBLE_EQ(link(r, "a", "c").load_after_bps, 2e6);
  EXPECT_DOUBLE_EQ(link(r, "c", "d").load_after_bps, 3e6);
  EXPECT_NEAR(link(r, "c", "d").utilisation_after, 0.3, 1e-12);
  EXPECT_FALSE(link(r, "c", "d").hot_after);
}

TEST(WhatIf, FailedGatewayEndsItsOwnFlowsAndMovesThoseThroughIt) {
  Square s;
  s.flows.push_back({.from = "b", .to = "d", .rate_bps = 5e5, .path = {"b", "d"}});
  const auto r = what_if(s.t, s.flows, {.fail_gateways = {"b"}}, config());
  EXPECT_EQ(r.flows[0].verdict, FlowVerdict::moves_now);
  EXPECT_EQ(r.flows[0].after->nodes, (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(r.flows[2].verdict, FlowVerdict::ends);
  EXPECT_FALSE(r.flows[2].after);
  EXPECT_TRUE(link(r, "d", "b").failed);
}

TEST(WhatIf, NoPathLeftIsLost) {
  Square s;
  const auto r = what_if(s.t, s.flows, {.fail_links = {{"a", "b"}, {"a", "c"}}}, config());
  EXPECT_EQ(r.flows[0].verdict, FlowVerdict::lost);
  EXPECT_FALSE(r.flows[0].after);
  EXPECT_EQ(r.flows[1].verdict, FlowVerdict::stays);
}

TEST(WhatIf, PolicyIsTheGatewaysOwn) {
  Square s(Role::edge);  // b may relay only when the policy allows edge transits
  s.flows[0].path = {"a", "c", "d"};
  const WhatIfChange cut{.fail_links = {{"c", "d"}}};
  EXPECT_EQ(what_if(s.t, s.flows, cut, config()).flows[0].verdict, FlowVerdict::lost);
  WhatIfConfig allow = config();
  allow.edge_transit = true;
  const auto r = what_if(s.t, s.flows, cut, allow);
  EXPECT_EQ(r.flows[0].verdict, FlowVerdict::moves_now);
  EXPECT_EQ(r.flows[0].after->nodes, (std::vector<std::string>{"a", "b", "d"}));
}

TEST(WhatIf, AddedDemandRunsALinkHotAndPushesOthersAwayAfterTheHold) {
  Square s;
  const auto r = what_if(s.t, s.flows, {.add_demand = {{.from = "a", .to = "d", .rate_bps = 7e6}}}, config());
  ASSERT_EQ(r.flows.size(), 3u);
  EXPECT_EQ(r.flows[2].verdict, FlowVerdict::placed);
  EXPECT_EQ(r.flows[2].after->nodes, (std::vector<std::string>{"a", "b", "d"}));
  // 9 of 10 Mbit/s on a,b,d: the existing flow's path now costs far more
  // than a,c,d, so its gateway moves it once the hold time has passed.
  EXPECT_EQ(r.flows[0].verdict, FlowVerdict::moves_after_hold);
  EXPECT_EQ(r.flows[0].after->nodes, (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(r.flows[1].verdict, FlowVerdict::stays);
  EXPECT_DOUBLE_EQ(link(r, "a", "b").load_after_bps, 7e6);
  EXPECT_DOUBLE_EQ(link(r, "a", "c").load_after_bps, 2e6);
  EXPECT_FALSE(link(r, "a", "b").hot_before);
  EXPECT_FALSE(link(r, "a", "b").hot_after);  // 0.7 < 0.8
  WhatIfConfig strict = config();
  strict.hot_utilisation = 0.7;
  EXPECT_TRUE(link(what_if(s.t, s.flows, {.add_demand = {{.from = "a", .to = "d", .rate_bps = 7e6}}}, strict), "a", "b").hot_after);
}

TEST(WhatIf, AFlowThatWouldMoveAnywayIsNotBlamedOnTheChange) {
  Square s;
  s.flows[0].path = {"a", "c", "d"};  // worse than a,b,d already: its gateway moves it regardless
  s.load("a", "b", 0);
  s.load("b", "d", 0);
  s.load("a", "c", 0.2);
  s.load("c", "d", 0.3);
  const auto r = what_if(s.t, s.flows, {.add_demand = {{.from = "c", .to = "d", .rate_bps = 1e5}}}, config());
  EXPECT_EQ(r.flows[0].verdict, FlowVerdict::stays);
  EXPECT_EQ(r.flows[0].after->nodes, (std::vector<std::string>{"a", "c", "d"}));
}

TEST(WhatIf, RefusesWhatItCannotAnswer) {
  Square s;
  auto refused = [&](const WhatIfChange& c, const std::string& words) {
    try {
      what_if(s.t, s.flows, c, config());
      ADD_FAILURE() << "accepted: " << words;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  refused({}, "name a link or gateway");
  refused({.fail_links = {{"a", "zz"}}}, "zz is not a gateway");
  refused({.fail_links = {{"b", "c"}}}, "no link between b and c");
  refused({.fail_gateways = {"q"}}, "q is not a gateway");
  refused({.add_demand = {{.from = "a", .to = "a", .rate_bps = 1}}}, "to itself");
  refused({.add_demand = {{.from = "a", .to = "d", .rate_bps = 0}}}, "positive");
  refused({.add_demand = {{.from = "a", .to = "d", .rate_bps = -1}}}, "positive");
  refused({.add_demand = {{.from = "a", .to = "d", .traffic_class = "gold", .rate_bps = 1}}}, "traffic class");
}

}  // namespace
}  // namespace meshgw::routing
