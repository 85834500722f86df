// SPDX-License-Identifier: BSD-3-Clause
// Property tests on thousands of random graphs: Dijkstra, A* and Bellman-Ford
// agree on cost, and the costs equal Boost.Graph's dijkstra_shortest_paths on
// the same weights; Yen's paths are loopless, distinct, in non-decreasing
// cost, and on small graphs equal the k best of all simple paths enumerated.
#include "routing/paths.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <set>

#include "random_graphs.hpp"

namespace meshgw::routing {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Independent reference: Boost.Graph on the CSR's weights.
// Returns costs by Topology index.
std::vector<double> boost_dijkstra(const CsrGraph& g, NodeIndex external_s) {
  const NodeIndex s = g.to_internal(external_s);
  using BoostGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                           boost::property<boost::edge_weight_t, double>>;
  BoostGraph bg(g.node_count());
  for (NodeIndex u = 0; u < g.node_count(); ++u) {
    // Nodes that may not be transits keep no out-edges (except the source).
    if (u != s && !g.transit_ok(u)) continue;
    for (const CsrEdge& e : g.out(u)) boost::add_edge(u, e.target, e.weight, bg);
  }
  std::vector<double> d(g.node_count());
  boost::dijkstra_shortest_paths(bg, s, boost::distance_map(d.data()));
  std::vector<double> by_topology(g.node_count());
  for (NodeIndex v = 0; v < g.node_count(); ++v) {
    if (d[v] == std::numeric_limits<double>::max()) d[v] = kInf;
    else if (v != s) d[v] -= g.entry_cost(v);
    by_topology[g.to_external(v)] = d[v];
  }
  return by_topology;
}

bool near(double a, double b) {
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
}

void expect_valid_path(const CsrGraph& g, const Path& p, NodeIndex s, NodeIndex t) {
  ASSERT_FALSE(p.nodes.empty());
  EXPECT_EQ(p.nodes.front(), s);
  EXPECT_EQ(p.nodes.back(), t);
  ASSERT_EQ(p.edges.size() + 1, p.nodes.size());
  for (std::size_t i = 0; i < p.edges.size(); ++i) {
    const NodeIndex from = g.to_internal(p.nodes[i]);
    EXPECT_EQ(g.to_external(g.edge(p.edges[i]).target), p.nodes[i + 1]);
    EXPECT_GE(p.edges[i], g.edge_begin(from));
    EXPECT_LT(p.edges[i], g.edge_begin(from + 1));
    if (i > 0) {
      EXPECT_TRUE(g.transit_ok(from));
    }
  }
  std::set<NodeIndex> unique(p.nodes.begin(), p.nodes.end());
  EXPECT_EQ(unique.size(), p.nodes.size()) << "path has a loop";
  EXPECT_TRUE(near(p.cost, path_cost(g, p.edges)));
}

struct Family {
  const char* name;
  test::RandomGraphSpec spec;
  CostKind kind;
  Constraints constraints;
};

std::vector<Family> families() {
  Constraints strict;
  strict.avoid_roles = {Role::edge};
  strict.min_security_level = 2;
  return {
      {"sparse-latency", {40, 80, true, false, 0.0}, CostKind::latency, {}},
      {"dense-latency", {30, 400, true, false, 0.0}, CostKind::latency, {}},
      {"arbitrary-latency", {50, 200, false, false, 0.0}, CostKind::latency, {}},
      {"zero-latencies", {40, 160, true, false, 0.3}, CostKind::latency, {}},
      {"hops", {60, 180, true, false, 0.0}, CostKind::hops, {}},
      {"weighted-state", {50, 220, true, true, 0.0}, CostKind::weighted, {}},
      {"weighted-constrained", {50, 260, true, true, 0.0}, CostKind::weighted, strict},
  };
}

TEST(PathsProperty, AlgorithmsAgreeWithEachOtherAndBoost) {
  std::mt19937_64 rng(4);
  std::size_t graphs = 0, compared = 0;
  PathFinder pf;
  for (const Family& fam : families()) {
    for (int iter = 0; iter < 300; ++iter, ++graphs) {
      SCOPED_TRACE(std::string(fam.name) + " #" + std::to_string(iter));
      const Topology topo = test::random_topology(fam.spec, rng);
      CostModel model;
      model.kind = fam.kind;
      const CsrGraph g(topo, model, fam.constraints);
      const auto s = static_cast<NodeIndex>(rng() % topo.node_count());
      const std::vector<double> ref = boost_dijkstra(g, s);
      pf.dijkstra(g, s);
      std::vector<double> dij(g.node_count());
      for (NodeIndex v = 0; v < g.node_count(); ++v) dij[v] = pf.cost_to(g, v);
      pf.bellman_ford(g, s);
      for (NodeIndex v = 0; v < g.node_count(); ++v) {
        ASSERT_TRUE(near(dij[v], ref[v])) << "dijkstra vs boost, node " << v;
        ASSERT_TRUE(near(pf.cost_to(g, v), ref[v])) << "bellman-ford vs boost, node " << v;
      }
      for (int q = 0; q < 5; ++q) {
        const auto t = static_cast<NodeIndex>(rng() % topo.node_count());
        for (Algorithm a : {Algorithm::dijkstra, Algorithm::astar, Algorithm::bellman_ford}) {
          const auto p = pf.shortest(g, s, t, a);
          ASSERT_EQ(p.has_value(), !std::isinf(ref[t])) << to_string(a);
          if (!p) continue;
          ASSERT_TRUE(near(p->cost, ref[t])) << to_string(a) << " " << p->cost << " vs " << ref[t];
          expect_valid_path(g, *p, s, t);
          ++compared;
        }
      }
    }
  }
  EXPECT_EQ(graphs, 2100u);
  EXPECT_GT(compared, 5000u);
}

TEST(PathsProperty, SameAnswerWhateverTheInputOrder) {
  std::mt19937_64 rng(11);
  PathFinder pf;
  for (int iter = 0; iter < 400; ++iter) {
    // Many equal-cost paths: hop costs on a dense graph, or latencies with
    // many zero-latency links (equal keys around the destination).
    const bool zeros = iter % 2 == 1;
    const Topology a = test::random_topology({25, 120, true, false, zeros ? 0.4 : 0.0}, rng);
    // The same topology with nodes and links listed in reverse.
    Topology b;
    for (std::size_t i = a.node_count(); i-- > 0;) b.add_node(a.nodes()[i]);
    for (std::size_t i = a.link_count(); i-- > 0;) {
      Link l = a.links()[i];
      l.src = *b.find(a.nodes()[l.src].id);
      l.dst = *b.find(a.nodes()[l.dst].id);
      b.add_link(l);
    }
    CostModel model;
    model.kind = zeros ? CostKind::latency : CostKind::hops;
    const CsrGraph ga(a, model), gb(b, model);
    const auto s = static_cast<NodeIndex>(rng() % a.node_count());
    const auto t = static_cast<NodeIndex>(rng() % a.node_count());
    const NodeIndex sb = *b.find(a.nodes()[s].id), tb = *b.find(a.nodes()[t].id);
    auto ids = [](const Topology& topo, const Path& p) {
      std::vector<std::string> out;
      for (NodeIndex v : p.nodes) out.push_back(topo.nodes()[v].id);
      return out;
    };
    std::vector<std::string> first;
    for (Algorithm algo : {Algorithm::dijkstra, Algorithm::astar, Algorithm::bellman_ford}) {
      const auto pa = pf.shortest(ga, s, t, algo);
      const auto pb = pf.shortest(gb, sb, tb, algo);
      ASSERT_EQ(pa.has_value(), pb.has_value());
      if (!pa) continue;
      EXPECT_EQ(ids(a, *pa), ids(b, *pb)) << to_string(algo) << " iteration " << iter;
      // And every algorithm applies the same rule.
      if (first.empty()) first = ids(a, *pa);
      EXPECT_EQ(ids(a, *pa), first) << to_string(algo) << " iteration " << iter;
    }
    const auto ka = pf.k_shortest(ga, s, t, 4), kb = pf.k_shortest(gb, sb, tb, 4);
    ASSERT_EQ(ka.size(), kb.size());
    for (std::size_t i = 0; i < ka.size(); ++i) EXPECT_EQ(ids(a, ka[i]), ids(b, kb[i])) << "yen " << i;
  }
}

// A tie won by fewer hops at a node already settled must reach its
// successors: s-r1-r2-z-t and s-q-u-a-t both cost 2 with 4 links; a < z.
TEST(Paths, TiesPropagateThroughSettledNodes) {
  Topology topo;
  for (const char* id : {"s", "p1", "p2", "p3", "q", "u", "a", "r1", "r2", "z", "t"}) topo.add_node({.id = id});
  auto link = [&](const char* x, const char* y, double ms) {
    Link l;
    l.src = *topo.find(x);
    l.dst = *topo.find(y);
    l.latency_ms = ms;
    topo.add_link(l);
  };
  link("s", "p1", 0), link("p1", "p2", 0), link("p2", "p3", 0), link("p3", "a", 1);
  link("s", "q", 0.5), link("q", "u", 0.5), link("u", "a", 0), link("a", "t", 1);
  link("s", "r1", 0), link("r1", "r2", 0), link("r2", "z", 1), link("z", "t", 1);
  CostModel model;
  model.kind = CostKind::latency;
  const CsrGraph g(topo, model);
  PathFinder pf;
  const std::vector<NodeIndex> want = {*topo.find("s"), *topo.find("q"), *topo.find("u"), *topo.find("a"),
                                       *topo.find("t")};
  for (Algorithm algo : {Algorithm::dijkstra, Algorithm::astar, Algorithm::bellman_ford}) {
    const auto p = pf.shortest(g, *topo.find("s"), *topo.find("t"), algo);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->nodes, want) << to_string(algo);
  }
  pf.dijkstra(g, *topo.find("s"));
  EXPECT_EQ(pf.path_to(g, *topo.find("t"))->nodes, want);
}

// All simple paths by DFS, for small graphs (internal indices inside).
std::vector<double> all_simple_path_costs(const CsrGraph& g, NodeIndex external_s, NodeIndex external_t,
                                          std::optional<int> max_hops) {
  const NodeIndex s = g.to_internal(external_s), t = g.to_internal(external_t);
  std::vector<double> costs;
  std::vector<std::uint8_t> on(g.node_count(), 0);
  std::vector<std::uint32_t> edges;
  std::function<void(NodeIndex)> dfs = [&](NodeIndex u) {
    if (u == t) {
      costs.push_back(path_cost(g, edges));
      return;
    }
    if (u != s && !g.transit_ok(u)) return;
    if (max_hops && static_cast<int>(edges.size()) >= *max_hops) return;
    on[u] = 1;
    for (std::uint32_t e = g.edge_begin(u); e < g.edge_begin(u + 1); ++e) {
      const NodeIndex v = g.edge(e).target;
      if (on[v]) continue;
      edges.push_back(e);
      dfs(v);
      edges.pop_back();
    }
    on[u] = 0;
  };
  dfs(s);
  std::sort(costs.begin(), costs.end());
  return costs;
}

TEST(PathsProperty, YenIsLooplessDistinctOrderedAndMatchesEnumeration) {
  std::mt19937_64 rng(5);
  PathFinder pf;
  for (int iter = 0; iter < 400; ++iter) {
    SCOPED_TRACE(iter);
    const bool state = iter % 2 == 1;
    const Topology topo = test::random_topology({9, 30, true, state, 0.0}, rng);
    CostModel model;
    model.kind = state ? CostKind::weighted : CostKind::latency;
    const CsrGraph g(topo, model);
    const auto s = static_cast<NodeIndex>(rng() % 9);
    const auto t = static_cast<NodeIndex>((s + 1 + rng() % 8) % 9);
    std::optional<int> max_hops;
    if (iter % 3 == 0) max_hops = 3;
    const std::size_t k = 1 + rng() % 8;
    const auto paths = pf.k_shortest(g, s, t, k, max_hops);
    const auto all = all_simple_path_costs(g, s, t, max_hops);
    ASSERT_EQ(paths.size(), std::min(k, all.size()));
    std::set<std::vector<NodeIndex>> distinct;
    for (std::size_t i = 0; i < paths.size(); ++i) {
      expect_valid_path(g, paths[i], s, t);
      if (max_hops) {
        EXPECT_LE(static_cast<int>(paths[i].hops()), *max_hops);
      }
      EXPECT_TRUE(near(paths[i].cost, all[i])) << "path " << i << ": " << paths[i].cost << " vs " << all[i];
      if (i > 0) {
        EXPECT_GE(paths[i].cost, paths[i - 1].cost - 1e-9);
      }
      distinct.insert(paths[i].nodes);
    }
    EXPECT_EQ(distinct.size(), paths.size());
  }
}

TEST(PathsProperty, HopBoundedMatchesEnumeration) {
  std::mt19937_64 rng(6);
  PathFinder pf;
  for (int iter = 0; iter < 500; ++iter) {
    const Topology topo = test::random_topology({10, 35, false, false, 0.0}, rng);
    CostModel model;
    model.kind = CostKind::latency;
    const CsrGraph g(topo, model);
    const auto s = static_cast<NodeIndex>(rng() % 10);
    const auto t = static_cast<NodeIndex>((s + 1 + rng() % 9) % 10);
    const int h = 1 + static_cast<int>(rng() % 4);
    const auto all = all_simple_path_costs(g, s, t, h);
    const auto p = pf.shortest(g, s, t, Algorithm::bellman_ford, h);
    ASSERT_EQ(p.has_value(), !all.empty()) << iter;
    if (!p) continue;
    EXPECT_LE(static_cast<int>(p->hops()), h);
    EXPECT_TRUE(near(p->cost, all.front())) << iter;
    expect_valid_path(g, *p, s, t);
  }
}

Topology line_with_shortcut() {
  // a - b - c - d, plus a - x - d through an edge gateway x.
  Topology t;
  for (const char* id : {"a", "b", "c", "d"}) t.add_node({.id = id});
  Node x;
  x.id = "x";
  x.role = Role::edge;
  x.security_level = 1;
  t.add_node(x);
  auto link = [&](const char* u, const char* v, double ms) {
    Link l;
    l.src = *t.find(u);
    l.dst = *t.find(v);
    l.latency_ms = ms;
    t.add_bidirectional(l);
  };
  link("a", "b", 1);
  link("b", "c", 1);
  link("c", "d", 1);
  link("a", "x", 1);
  link("x", "d", 1);
  return t;
}

TEST(Paths, ConstraintsExcludeTransitsButNotEndpoints) {
  const Topology t = line_with_shortcut();
  CostModel model;
  model.kind = CostKind::latency;
  PathFinder pf;
  const NodeIndex a = *t.find("a"), d = *t.find("d"), x = *t.find("x");
  auto p = pf.shortest(CsrGraph(t, model), a, d, Algorithm::dijkstra);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nodes, (std::vector<NodeIndex>{a, x, d}));
  Constraints no_edge;
  no_edge.avoid_roles = {Role::edge};
  p = pf.shortest(CsrGraph(t, model, no_edge), a, d, Algorithm::dijkstra);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hops(), 3u);
  // x may still be the destination.
  EXPECT_TRUE(pf.shortest(CsrGraph(t, model, no_edge), a, x, Algorithm::astar));
  Constraints secure;
  secure.min_security_level = 1;  // b, c have 0
  p = pf.shortest(CsrGraph(t, model, secure), a, d, Algorithm::bellman_ford);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nodes.size(), 3u);
  secure.avoid_nodes = {"x"};
  EXPECT_FALSE(pf.shortest(CsrGraph(t, model, secure), a, d, Algorithm::dijkstra));
  // Max hops 2 forces the shortcut even when b-c-d is cheaper.
  Topology t2 = line_with_shortcut();
  for (LinkIndex l = 0; l < t2.link_count(); ++l)
    if (t2.links()[l].src == x || t2.links()[l].dst == x) t2.link(l).latency_ms = 10;
  const CsrGraph g2(t2, model);
  EXPECT_EQ(pf.shortest(g2, a, d, Algorithm::dijkstra)->hops(), 3u);
  EXPECT_EQ(pf.shortest(g2, a, d, Algorithm::dijkstra, 2)->hops(), 2u);
  EXPECT_FALSE(pf.shortest(g2, a, d, Algorithm::dijkstra, 1));
}

TEST(Paths, WaypointIsVisitedWithoutLoops) {
  const Topology t = line_with_shortcut();
  CostModel model;
  model.kind = CostKind::latency;
  PathFinder pf;
  const CsrGraph g(t, model);
  const auto p = pf.via_waypoint(g, *t.find("a"), *t.find("c"), *t.find("d"), Algorithm::dijkstra);
  ASSERT_TRUE(p);
  std::vector<std::string> ids;
  for (NodeIndex v : p->nodes) ids.push_back(t.nodes()[v].id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_DOUBLE_EQ(p->cost, 3.0);
}

TEST(Paths, DownLinksAndNodesAreNotUsed) {
  Topology t = line_with_shortcut();
  CostModel model;
  model.kind = CostKind::latency;
  t.node(*t.find("x")).up = false;
  PathFinder pf;
  auto p = pf.shortest(CsrGraph(t, model), *t.find("a"), *t.find("d"), Algorithm::dijkstra);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hops(), 3u);
  for (LinkIndex l = 0; l < t.link_count(); ++l)
    if (t.nodes()[t.links()[l].src].id == "b") t.link(l).up = false;
  EXPECT_FALSE(pf.shortest(CsrGraph(t, model), *t.find("a"), *t.find("d"), Algorithm::astar));
}

TEST(Paths, AstarBoundIsAdmissibleWhateverTheWeights) {
  // Latencies far below what the distance allows (hidden inputs may do this):
  // the bound scales down so A* stays exact.
  std::mt19937_64 rng(8);
  PathFinder pf;
  for (int iter = 0; iter < 300; ++iter) {
    const Topology topo = test::random_topology({40, 160, false, false, 0.0}, rng);
    CostModel model;
    model.kind = CostKind::latency;
    const CsrGraph g(topo, model);
    EXPECT_GT(g.heuristic_scale(), 0.0);
    const auto s = static_cast<NodeIndex>(rng() % 40), t = static_cast<NodeIndex>(rng() % 40);
    pf.dijkstra(g, s);
    const double want = pf.cost_to(g, t);
    const auto p = pf.shortest(g, s, t, Algorithm::astar);
    ASSERT_EQ(p.has_value(), !std::isinf(want));
    if (p) {
      EXPECT_TRUE(near(p->cost, want));
    }
  }
}

// A long-running caller may hand any index: it is refused, never read past.
TEST(PathFinder, OutOfRangeEndsAreRefused) {
  Topology t;
  for (const char* id : {"a", "b", "c"}) t.add_node({.id = id});
  Link l;
  l.src = 0;
  l.dst = 1;
  l.latency_ms = 1;
  t.add_bidirectional(l);
  l.src = 1;
  l.dst = 2;
  t.add_bidirectional(l);
  const CsrGraph g(t, {});
  PathFinder pf;
  EXPECT_THROW(pf.dijkstra(g, 3), std::out_of_range);
  EXPECT_THROW(pf.bellman_ford(g, 1000), std::out_of_range);
  EXPECT_FALSE(pf.shortest(g, 0, 7, Algorithm::dijkstra));
  EXPECT_FALSE(pf.shortest(g, 9, 0, Algorithm::astar));
  EXPECT_FALSE(pf.via_waypoint(g, 0, 42, 2, Algorithm::dijkstra));
  EXPECT_FALSE(pf.via_waypoint(g, 0, 1, 42, Algorithm::dijkstra));
  EXPECT_TRUE(pf.k_shortest(g, 0, 99, 3).empty());
  EXPECT_TRUE(pf.via_waypoint(g, 0, 1, 2, Algorithm::dijkstra));
  EXPECT_THROW(t.link(99), std::out_of_range);
  EXPECT_THROW(t.node(3), std::out_of_range);
}

TEST(CostModel, NegativeOrNonFiniteWeightsAreRefused) {
  Topology t;
  t.add_node({.id = "a"});
  CostModel m;
  m.weights.latency = -1;
  try {
    CsrGraph g(t, m);
    FAIL() << "a negative weight was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("latency"), std::string::npos) << e.what();
  }
  m = {};
  m.weights.hop = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(CsrGraph(t, m), std::invalid_argument);
  m = {};
  m.params.max_utilisation = 1.0;
  EXPECT_THROW(CsrGraph(t, m), std::invalid_argument);
  m = {};
  CsrGraph g(t, m);
  m.weights.loss = -5;
  EXPECT_THROW((void)g.refresh(t, m, {}), std::invalid_argument);
}

TEST(Topology, EveryChangeMovesTheVersion) {
  Topology t;
  const std::uint64_t v0 = t.version();
  t.add_node({.id = "a"});
  t.add_node({.id = "b"});
  EXPECT_GT(t.version(), v0);
  Link l;
  l.src = 0;
  l.dst = 1;
  t.add_link(l);
  const std::uint64_t v1 = t.version();
  t.link(0).latency_ms = 4;
  EXPECT_GT(t.version(), v1);
  const std::uint64_t v2 = t.version();
  t.node(1).up = false;
  EXPECT_GT(t.version(), v2);
  const std::uint64_t v3 = t.version();
  (void)t.links();  // reading does not
  (void)t.nodes();
  EXPECT_EQ(t.version(), v3);
}

}  // namespace
}  // namespace meshgw::routing
