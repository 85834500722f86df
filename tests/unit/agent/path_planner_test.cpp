// SPDX-License-Identifier: BSD-3-Clause
// The agent's path choice with an injected clock: the first answer at once,
// a better path only after the hold time, a failed primary replaced at once
// by its backup, no edge transit unless the policy allows it, departed
// gateways forgotten, and explain() naming cost terms, hysteresis and every
// rejected alternative. Also the debouncer's min/max backoff.
#include <gtest/gtest.h>

#include "controlplane/agent/debounce.hpp"
#include "controlplane/agent/path_planner.hpp"

using namespace meshgw::agent;
using namespace meshgw::routing;

namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;

void add_link(Topology& topo, const char* x, const char* y, double ms, bool up = true) {
  Link l;
  l.src = *topo.find(x);
  l.dst = *topo.find(y);
  l.latency_ms = ms;
  l.up = up;
  topo.add_bidirectional(l);
}

// a -> t -> z (transit, 10 + 10 ms), a -> u -> z (core, 12 + 12 ms), a -> e -> z (edge, 1 + 1 ms).
Topology mesh(double t_ms = 10, bool t_up = true) {
  Topology topo;
  topo.add_node({.id = "a", .role = Role::core});
  topo.add_node({.id = "t", .role = Role::transit});
  topo.add_node({.id = "u", .role = Role::core});
  topo.add_node({.id = "e", .role = Role::edge});
  topo.add_node({.id = "z", .role = Role::core});
  auto link = [&](const char* x, const char* y, double ms, bool up = true) { add_link(topo, x, y, ms, up); };
  link("a", "t", t_ms, t_up);
  link("t", "z", t_ms, t_up);
  link("a", "u", 12);
  link("u", "z", 12);
  link("a", "e", 1);
  link("e", "z", 1);
  return topo;
}

PlannerConfig config() {
  PlannerConfig c;
  c.self = "a";
  c.selector.hold_ns = 10 * kSecond;
  c.selector.hold_jitter_fraction = 0;
  return c;
}

const Selection& route(const PathPlanner& p, const char* egress) { return p.routes().at({egress, "default"}); }

TEST(PathPlanner, FirstAnswerThenHysteresisThenFailover) {
  PathPlanner p(config());
  auto moved = p.plan(mesh(), 0);
  EXPECT_EQ(moved.size(), 4u);  // t, u, e, z: all new
  EXPECT_EQ(route(p, "z").primary.nodes, (std::vector<std::string>{"a", "t", "z"}));  // no edge transit
  ASSERT_FALSE(route(p, "z").backups.empty());
  EXPECT_EQ(route(p, "z").backups[0].nodes, (std::vector<std::string>{"a", "u", "z"}));
  // u becomes much cheaper: not taken before the hold time has passed.
  Topology cheaper_u = mesh(30);
  moved = p.plan(cheaper_u, 1 * kSecond);
  EXPECT_EQ(route(p, "z").primary.nodes, (std::vector<std::string>{"a", "t", "z"}));
  EXPECT_EQ(route(p, "z").reason, SelectionReason::pending);
  moved = p.plan(cheaper_u, 12 * kSecond);
  EXPECT_EQ(route(p, "z").primary.nodes, (std::vector<std::string>{"a", "u", "z"}));
  EXPECT_EQ(route(p, "z").reason, SelectionReason::better_for_hold);
  // The primary fails: its backup takes over at once, no hold.
  Topology u_down = mesh(10);
  for (LinkIndex l = 0; l < u_down.link_count(); ++l)
    if (u_down.nodes()[u_down.links()[l].src].id == "u" || u_down.nodes()[u_down.links()[l].dst].id == "u")
      u_down.link(l).up = false;
  moved = p.plan(u_down, 12 * kSecond + 1);
  EXPECT_EQ(route(p, "z").primary.nodes, (std::vector<std::string>{"a", "t", "z"}));
  EXPECT_EQ(route(p, "z").reason, SelectionReason::primary_failed);
  EXPECT_TRUE(std::any_of(moved.begin(), moved.end(), [](const PlannedRoute& r) { return r.egress == "z"; }));
}

TEST(PathPlanner, EdgeTransitOnlyWhereThePolicyAllows) {
  PlannerConfig c = config();
  c.edge_transit = true;
  PathPlanner p(c);
  p.plan(mesh(), 0);
  EXPECT_EQ(route(p, "z").primary.nodes, (std::vector<std::string>{"a", "e", "z"}));
  EXPECT_THROW(PathPlanner({.self = "a", .classes = {"platinum"}}), std::invalid_argument);
}

TEST(PathPlanner, DepartedGatewaysAreForgotten) {
  PathPlanner p(config());
  p.plan(mesh(), 0);
  Topology smaller;
  smaller.add_node({.id = "a", .role = Role::core});
  smaller.add_node({.id = "z", .role = Role::core});
  Link l;
  l.src = 0;
  l.dst = 1;
  l.latency_ms = 5;
  smaller.add_bidirectional(l);
  const auto moved = p.plan(smaller, kSecond);
  EXPECT_EQ(p.routes().size(), 1u);
  EXPECT_EQ(route(p, "z").primary.nodes, (std::vector<std::string>{"a", "z"}));
  EXPECT_EQ(std::count_if(moved.begin(), moved.end(), [](const PlannedRoute& r) { return !r.selection.has_route; }), 3);
}

TEST(PathPlanner, ExplainNamesCostsHysteresisAndRejections) {
  PathPlanner p(config());
  p.plan(mesh(), 0);
  Topology cheaper_u = mesh(30);
  p.plan(cheaper_u, kSecond);
  const auto e = p.explain(cheaper_u, "z", "default", kSecond);
  EXPECT_EQ(e["primary"]["nodes"], (std::vector<std::string>{"a", "t", "z"}));
  ASSERT_EQ(e["primary"]["links"].size(), 2u);
  EXPECT_DOUBLE_EQ(e["primary"]["links"][0]["latency_ms"].get<double>(), 30);
  EXPECT_EQ(e["reason"], "better_candidate_pending");
  EXPECT_TRUE(e["hysteresis"]["challenger_pending"].get<bool>());
  EXPECT_EQ(e["hysteresis"]["hold_ns"], 10 * kSecond);
  bool saw_u = false;
  for (const auto& alt : e["alternatives"])
    if (alt["nodes"] == std::vector<std::string>{"a", "u", "z"}) {
      saw_u = true;
      EXPECT_NE(alt["verdict"].get<std::string>().find("hold time"), std::string::npos) << alt.dump();
    }
  EXPECT_TRUE(saw_u);
  ASSERT_EQ(e["excluded"].size(), 1u);
  EXPECT_EQ(e["excluded"][0]["gateway"], "e");
  const auto none = p.explain(cheaper_u, "nowhere", "default", kSecond);
  EXPECT_TRUE(none["primary"].is_null());
}

TEST(Debouncer, MinMaxBackoff) {
  Debouncer d(100, 1000);
  EXPECT_FALSE(d.due(0));
  d.trigger(0);
  EXPECT_EQ(d.deadline(), 100u);
  EXPECT_FALSE(d.due(99));
  EXPECT_TRUE(d.due(100));
  d.trigger(50);  // a second event: the wait doubles from now
  EXPECT_EQ(d.deadline(), 250u);
  for (std::uint64_t t = 60; t < 2000; t += 10) d.trigger(t);  // flapping
  EXPECT_EQ(d.deadline(), 1000u) << "never later than max after the first event";
  EXPECT_TRUE(d.due(1000));
  d.ran();
  EXPECT_FALSE(d.deadline());
  d.trigger(5000);
  EXPECT_EQ(d.deadline(), 5100u);
  EXPECT_THROW(Debouncer(0, 10), std::invalid_argument);
  EXPECT_THROW(Debouncer(10, 5), std::invalid_argument);
}

}  // namespace

TEST(PathPlanner, TheFirstBackupSharesNoLinkWithThePrimaryWhenOneExists) {
  // a has two neighbours, b (1 ms) and c (20 ms); from b a ladder of many
  // short ways to z, so Yen's 4 shortest all leave by a-b. The backup must
  // not: a-b failing would take it down with the primary.
  Topology topo;
  for (const char* id : {"a", "b", "c", "m1", "m2", "m3", "m4", "z"}) topo.add_node({.id = id, .role = Role::core});
  auto link = [&](const char* x, const char* y, double ms) { add_link(topo, x, y, ms); };
  link("a", "b", 1);
  link("a", "c", 20);
  link("c", "z", 20);
  for (const char* m : {"m1", "m2", "m3", "m4"}) {
    link("b", m, 1);
    link(m, "z", 1);
  }
  PathPlanner p(config());
  p.plan(topo, 0);
  const Selection& s = route(p, "z");
  ASSERT_FALSE(s.backups.empty());
  EXPECT_EQ(s.primary.nodes[1], "b");
  EXPECT_EQ(s.backups[0].nodes, (std::vector<std::string>{"a", "c", "z"}));
}

namespace {

// a -> t -> z and a -> u -> z, 10 Mbit/s each; t's links run hot (8 Mbit/s,
// all of it ours when `ours` says so), u's are idle but 4 ms longer.
Topology loaded(double t_load_mbps) {
  Topology topo = mesh();
  for (LinkIndex l = 0; l < topo.link_count(); ++l) {
    Link& link = topo.link(l);
    link.capacity_mbps = 10;
    const std::string s = topo.nodes()[link.src].id, d = topo.nodes()[link.dst].id;
    if (s == "u" || d == "u") link.latency_ms = 14;
    if ((s == "a" && d == "t") || (s == "t" && d == "z")) link.utilisation = t_load_mbps / 10;
  }
  return topo;
}

TEST(PathPlanner, AFlowIsPricedOnTheLinksItWouldMoveTo) {
  for (const double own : {0.5, 8.0}) {
    PathPlanner p(config());
    p.plan(loaded(0), 0);
    ASSERT_EQ(route(p, "z").primary.nodes, (std::vector<std::string>{"a", "t", "z"}));
    // The t path fills to 8 Mbit/s. With 0.5 Mbit/s of ours on it, u is
    // cheaper after the move too; with all 8 ours, u would be as full after
    // it: no move (else the flow fills u and comes back, and so on).
    p.set_own_rates({{"z", own}});
    p.plan(loaded(8), 1 * kSecond);
    p.plan(loaded(8), 12 * kSecond);
    const auto& r = route(p, "z");
    if (own < 1) {
      EXPECT_EQ(r.primary.nodes, (std::vector<std::string>{"a", "u", "z"})) << "a small flow leaves the hot link";
    } else {
      EXPECT_EQ(r.primary.nodes, (std::vector<std::string>{"a", "t", "z"})) << "a flow as big as the load stays";
    }
  }
}

}  // namespace
