// SPDX-License-Identifier: BSD-3-Clause
// Routing engine benchmarks on random geometric graphs (nodes on a patch of
// the globe, links to nearby nodes, latency = distance / fibre speed with
// detours): single-source shortest paths against Boost.Graph's
// dijkstra_shortest_paths on the same graph in the same run, A* and Dijkstra
// point to point, Yen k=4, and policy classification with 10,000 rules.
// Scale is one argument, so each dimension can be varied on its own.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <random>

#include "routing/paths.hpp"
#include "routing/policy.hpp"

using namespace meshgw::routing;

namespace {

Topology geometric_graph(std::uint32_t nodes, std::uint32_t links_per_node, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> lat(30, 60), lon(-10, 40), unit(0, 1);
  Topology t;
  // Grid of cells about sqrt(n) x sqrt(n) so neighbours are found locally.
  const auto side = static_cast<std::uint32_t>(std::sqrt(static_cast<double>(nodes) / 4.0)) + 1;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<NodeIndex>> cells;
  for (std::uint32_t i = 0; i < nodes; ++i) {
    Node n;
    n.id = "gw" + std::to_string(i);
    n.lat = lat(rng);
    n.lon = lon(rng);
    const auto cx = static_cast<std::uint32_t>((*n.lat - 30) / 30 * side);
    const auto cy = static_cast<std::uint32_t>((*n.lon + 10) / 50 * side);
    cells[{cx, cy}].push_back(t.add_node(std::move(n)));
  }
  for (NodeIndex u = 0; u < nodes; ++u) {
    const Node& a = t.nodes()[u];
    const auto cx = static_cast<std::uint32_t>((*a.lat - 30) / 30 * side);
    const auto cy = static_cast<std::uint32_t>((*a.lon + 10) / 50 * side);
    std::vector<NodeIndex> near;
    for (std::uint32_t x = cx == 0 ? 0 : cx - 1; x <= cx + 1; ++x)
      for (std::uint32_t y = cy == 0 ? 0 : cy - 1; y <= cy + 1; ++y)
        if (auto it = cells.find({x, y}); it != cells.end()) near.insert(near.end(), it->second.begin(), it->second.end());
    std::shuffle(near.begin(), near.end(), rng);
    std::uint32_t made = 0;
    for (std::size_t k = 0; k < near.size() && made < links_per_node; ++k) {
      const NodeIndex v = near[k];
      if (v == u) continue;
      ++made;
      const Node& b = t.nodes()[v];
      Link l;
      l.src = u;
      l.dst = v;
      l.latency_ms = great_circle_km(*a.lat, *a.lon, *b.lat, *b.lon) / kFibreKmPerMs * (1.0 + 0.5 * unit(rng));
      l.capacity_mbps = 10000;
      l.utilisation = unit(rng) * 0.9;
      t.add_link(l);
    }
  }
  return t;
}

struct Fixture {
  Topology topo;
  CsrGraph graph;
};

const Fixture& fixture(std::uint32_t nodes) {
  static std::map<std::uint32_t, std::unique_ptr<Fixture>> cache;
  auto& f = cache[nodes];
  if (!f) {
    f = std::make_unique<Fixture>();
    f->topo = geometric_graph(nodes, 10, nodes);
    CostModel model;
    model.kind = CostKind::latency;
    f->graph = CsrGraph(f->topo, model);
  }
  return *f;
}

void BM_SsspDijkstra(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<std::uint32_t>(state.range(0)));
  PathFinder pf;
  NodeIndex s = 0;
  for (auto _ : state) {
    pf.dijkstra(f.graph, s);
    benchmark::DoNotOptimize(pf.cost_to(f.graph, 1));
    s = (s + 7919) % static_cast<NodeIndex>(f.graph.node_count());
  }
  state.counters["nodes"] = static_cast<double>(f.graph.node_count());
  state.counters["links"] = static_cast<double>(f.graph.edge_count());
}

// Single-source runs from rotating sources, like BM_SsspDijkstra.
template <class Graph>
void time_boost_sssp(benchmark::State& state, const Graph& g, std::size_t n) {
  std::vector<double> dist(n);
  std::vector<std::size_t> pred(n);
  std::size_t s = 0;
  for (auto _ : state) {
    boost::dijkstra_shortest_paths(
        g, s,
        boost::distance_map(boost::make_iterator_property_map(dist.begin(), boost::get(boost::vertex_index, g)))
            .predecessor_map(boost::make_iterator_property_map(pred.begin(), boost::get(boost::vertex_index, g))));
    benchmark::DoNotOptimize(dist[1]);
    s = (s + 7919) % n;
  }
}

// Boost.Graph's general-purpose adjacency_list, as most Boost users hold a graph.
void BM_SsspBoostAdjacencyList(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<std::uint32_t>(state.range(0)));
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                     boost::property<boost::edge_weight_t, double>>;
  Graph g(f.graph.node_count());
  for (NodeIndex u = 0; u < f.graph.node_count(); ++u)
    for (const CsrEdge& e : f.graph.out(u))
      boost::add_edge(f.graph.to_external(u), f.graph.to_external(e.target), e.weight, g);
  time_boost_sssp(state, g, f.graph.node_count());
}

// Boost.Graph on the same edges and weights, numbered as the topology
// numbers its nodes, in Boost's fastest form (compressed_sparse_row_graph).
void BM_SsspBoost(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<std::uint32_t>(state.range(0)));
  using Csr = boost::compressed_sparse_row_graph<boost::directedS, boost::no_property,
                                                 boost::property<boost::edge_weight_t, double>>;
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  std::vector<double> weights;
  for (NodeIndex u = 0; u < f.graph.node_count(); ++u)
    for (const CsrEdge& e : f.graph.out(u)) {
      edges.emplace_back(f.graph.to_external(u), f.graph.to_external(e.target));
      weights.push_back(e.weight);
    }
  Csr g(boost::edges_are_unsorted_multi_pass, edges.begin(), edges.end(), weights.begin(), f.graph.node_count());
  time_boost_sssp(state, g, f.graph.node_count());
  state.counters["nodes"] = static_cast<double>(f.graph.node_count());
  state.counters["links"] = static_cast<double>(f.graph.edge_count());
}

template <Algorithm kAlgo>
void BM_PointToPoint(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<std::uint32_t>(state.range(0)));
  PathFinder pf;
  std::mt19937 rng(1);
  const auto n = static_cast<NodeIndex>(f.graph.node_count());
  for (auto _ : state) {
    auto p = pf.shortest(f.graph, static_cast<NodeIndex>(rng() % n), static_cast<NodeIndex>(rng() % n), kAlgo);
    benchmark::DoNotOptimize(p);
  }
}

void BM_YenK4(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<std::uint32_t>(state.range(0)));
  PathFinder pf;
  std::mt19937 rng(2);
  const auto n = static_cast<NodeIndex>(f.graph.node_count());
  for (auto _ : state) {
    auto paths = pf.k_shortest(f.graph, static_cast<NodeIndex>(rng() % n), static_cast<NodeIndex>(rng() % n), 4);
    benchmark::DoNotOptimize(paths);
  }
}

void BM_CsrBuild(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<std::uint32_t>(state.range(0)));
  CostModel model;  // the full weighted model, as the agent rebuilds it
  for (auto _ : state) {
    CsrGraph g(f.topo, model);
    benchmark::DoNotOptimize(g.edge_count());
  }
}

// Only metrics changed: patch weights in place instead of rebuilding.
void BM_CsrRefresh(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<std::uint32_t>(state.range(0)));
  CostModel model;
  CsrGraph g(f.topo, model);
  for (auto _ : state) {
    const bool ok = g.refresh(f.topo, model);
    benchmark::DoNotOptimize(ok);
  }
}

void BM_PolicyClassify(benchmark::State& state) {
  const auto rule_count = static_cast<std::uint32_t>(state.range(0));
  std::mt19937_64 rng(3);
  std::vector<PolicyRule> rules;
  for (std::uint32_t i = 0; i < rule_count; ++i) {
    PolicyRule r;
    r.name = std::to_string(i);
    r.priority = static_cast<int>(rng() % 8) * 10;
    IpPrefix dst;
    dst.bytes = {198, 51, static_cast<std::uint8_t>(rng() % 256), static_cast<std::uint8_t>(rng() % 256)};
    dst.length = static_cast<std::uint8_t>(std::array<int, 3>{16, 24, 32}[rng() % 3]);
    for (int bit = dst.length; bit < 32; ++bit) dst.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
    r.dst = dst;
    if (rng() % 2) {
      IpPrefix src;
      src.bytes = {192, 0, static_cast<std::uint8_t>(rng() % 4), 0};
      src.length = 24;
      r.src = src;
    }
    if (rng() % 2) {
      r.protocol = 6;
      const auto lo = static_cast<std::uint16_t>(rng() % 60000);
      r.dst_ports = {lo, static_cast<std::uint16_t>(lo + rng() % 100)};
    }
    rules.push_back(std::move(r));
  }
  const PolicyClassifier c(std::move(rules));
  std::vector<FlowKey> flows(4096);
  for (auto& f : flows) {
    f.src = {192, 0, static_cast<std::uint8_t>(rng() % 4), static_cast<std::uint8_t>(rng())};
    f.dst = {198, 51, static_cast<std::uint8_t>(rng()), static_cast<std::uint8_t>(rng())};
    f.protocol = 6;
    f.dst_port = static_cast<std::uint16_t>(rng());
  }
  std::size_t i = 0, matched = 0;
  for (auto _ : state) {
    matched += c.classify(flows[i]) >= 0;
    i = (i + 1) & 4095;
  }
  benchmark::DoNotOptimize(matched);
  state.counters["rules"] = static_cast<double>(rule_count);
  state.counters["groups"] = static_cast<double>(c.group_count());
}

}  // namespace

BENCHMARK(BM_SsspDijkstra)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SsspBoost)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SsspBoostAdjacencyList)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PointToPoint<Algorithm::dijkstra>)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PointToPoint<Algorithm::astar>)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_YenK4)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsrBuild)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsrRefresh)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PolicyClassify)->Arg(100)->Arg(10000);
BENCHMARK_MAIN();
