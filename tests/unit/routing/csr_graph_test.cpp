// SPDX-License-Identifier: BSD-3-Clause
#include "routing/csr_graph.hpp"
#include "routing/graph_cache.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "random_graphs.hpp"
#include "routing/paths.hpp"

namespace meshgw::routing {
namespace {

TEST(CsrGraph, NumberingRoundTripsAndRanksFollowIds) {
  std::mt19937_64 rng(1);
  const Topology t = test::random_topology({30, 90, true, false, 0.0}, rng);
  const CsrGraph g(t, CostModel{});
  for (NodeIndex v = 0; v < t.node_count(); ++v) EXPECT_EQ(g.to_external(g.to_internal(v)), v);
  for (NodeIndex a = 0; a < t.node_count(); ++a)
    for (NodeIndex b = 0; b < t.node_count(); ++b)
      EXPECT_EQ(g.rank(g.to_internal(a)) < g.rank(g.to_internal(b)), t.nodes()[a].id < t.nodes()[b].id);
}

TEST(CsrGraph, ParallelLinksCollapseToTheCheapest) {
  Topology t;
  t.add_node({.id = "a"});
  t.add_node({.id = "b"});
  for (double ms : {5.0, 2.0, 9.0}) {
    Link l;
    l.src = 0;
    l.dst = 1;
    l.latency_ms = ms;
    t.add_link(l);
  }
  CostModel m;
  m.kind = CostKind::latency;
  const CsrGraph g(t, m);
  ASSERT_EQ(g.edge_count(), 1u);
  EXPECT_DOUBLE_EQ(g.edge(0).weight, 2.0);
  EXPECT_EQ(g.edge(0).link, 1u);
}

// The same topology without parallel links (refresh() rebuilds those).
Topology without_parallel_links(const Topology& t) {
  Topology out;
  for (const Node& n : t.nodes()) out.add_node(n);
  std::set<std::pair<NodeIndex, NodeIndex>> seen;
  for (const Link& l : t.links())
    if (seen.insert({l.src, l.dst}).second) out.add_link(l);
  return out;
}

// Metrics change, structure does not: refresh() gives the same answers as a rebuild.
TEST(CsrGraph, RefreshEqualsRebuildAfterMetricChanges) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> unit(0, 1);
  PathFinder a, b;
  int refreshed = 0, refused = 0;
  for (int iter = 0; iter < 200; ++iter) {
    test::RandomGraphSpec spec{40, 120, true, true, 0.0};
    Topology t = iter % 10 == 0 ? test::random_topology(spec, rng)
                                : without_parallel_links(test::random_topology(spec, rng));
    CostModel m;
    CsrGraph g(t, m);
    for (LinkIndex l = 0; l < t.link_count(); ++l) {
      t.link(l).latency_ms *= 0.5 + unit(rng);
      t.link(l).predicted_utilisation = unit(rng);
      t.link(l).loss = unit(rng) < 0.1 ? 0.02 : 0.0;
    }
    for (NodeIndex v = 0; v < t.node_count(); ++v) t.node(v).load = unit(rng) * 0.9;
    if (!g.refresh(t, m)) {
      ++refused;  // parallel links in this random graph: rebuild instead
      continue;
    }
    ++refreshed;
    const CsrGraph fresh(t, m);
    const auto s = static_cast<NodeIndex>(rng() % t.node_count());
    a.dijkstra(g, s);
    b.dijkstra(fresh, s);
    for (NodeIndex v = 0; v < t.node_count(); ++v) {
      const double x = a.cost_to(g, v), y = b.cost_to(fresh, v);
      if (std::isinf(y)) {
        ASSERT_TRUE(std::isinf(x));
      } else {
        ASSERT_NEAR(x, y, 1e-9 * std::max(1.0, y));
      }
    }
    EXPECT_DOUBLE_EQ(g.heuristic_scale(), fresh.heuristic_scale());
  }
  EXPECT_GT(refreshed, 150);
  EXPECT_GT(refused, 0);  // the graphs with parallel links
}

// a - b - c, both ways, 1 ms per link; links 0/1 are a-b, 2/3 b-c.
Topology line_abc(bool bc_up) {
  Topology t;
  for (const char* id : {"a", "b", "c"}) t.add_node({.id = id});
  Link l;
  l.src = 0;
  l.dst = 1;
  l.latency_ms = 1;
  t.add_bidirectional(l);
  l.src = 1;
  l.dst = 2;
  l.up = bc_up;
  t.add_bidirectional(l);
  return t;
}

TEST(CsrGraph, RefreshRefusesStructuralChanges) {
  Topology t = line_abc(true);
  CostModel m;
  CsrGraph g(t, m);
  t.link(0).latency_ms = 3;
  EXPECT_TRUE(g.refresh(t, m));
  EXPECT_DOUBLE_EQ(g.edge(g.edge_begin(g.to_internal(0))).weight, 3.0);
  t.link(1).up = false;
  EXPECT_FALSE(g.refresh(t, m));
  t.link(1).up = true;
  EXPECT_TRUE(g.refresh(t, m));
  t.node(2).up = false;
  EXPECT_FALSE(g.refresh(t, m));
}

// A self-loop going down while another link comes up keeps the count of
// usable links; it must still be seen as a change of structure.
TEST(CsrGraph, SelfLoopsDoNotHideStructuralChanges) {
  Topology t;
  for (const char* id : {"a", "b", "c"}) t.add_node({.id = id});
  auto link = [&](NodeIndex x, NodeIndex y, bool up) {
    Link l;
    l.src = x;
    l.dst = y;
    l.latency_ms = 1;
    l.up = up;
    return t.add_link(l);
  };
  const LinkIndex loop = link(0, 0, true);
  link(0, 1, true);
  const LinkIndex bc = link(1, 2, false);
  CostModel m;
  CsrGraph g(t, m);
  t.link(loop).up = false;
  t.link(bc).up = true;
  EXPECT_FALSE(g.refresh(t, m));
  const CsrGraph fresh(t, m);
  PathFinder pf;
  EXPECT_TRUE(pf.shortest(fresh, 0, 2, Algorithm::dijkstra));
}

TEST(GraphCache, FollowsTheTopologyVersion) {
  Topology t = line_abc(false);
  CostModel model;
  model.kind = CostKind::latency;
  GraphCache cache(model, {});
  PathFinder pf;
  EXPECT_FALSE(pf.shortest(cache.graph(t), 0, 2, Algorithm::dijkstra));
  EXPECT_EQ(cache.rebuilds(), 1u);
  cache.graph(t);  // same version: nothing to do
  EXPECT_EQ(cache.rebuilds() + cache.refreshes(), 1u);
  t.link(0).latency_ms = 5;  // metrics only
  EXPECT_DOUBLE_EQ(pf.shortest(cache.graph(t), 0, 1, Algorithm::dijkstra)->cost, 5.0);
  EXPECT_EQ(cache.refreshes(), 1u);
  t.link(2).up = t.link(3).up = true;  // structure
  EXPECT_DOUBLE_EQ(pf.shortest(cache.graph(t), 0, 2, Algorithm::dijkstra)->cost, 6.0);
  EXPECT_EQ(cache.rebuilds(), 2u);
}

}  // namespace
}  // namespace meshgw::routing
