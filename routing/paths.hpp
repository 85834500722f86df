// SPDX-License-Identifier: BSD-3-Clause
// Shortest paths over a CsrGraph: Dijkstra (4-ary heap), A* (great-circle
// bound), Bellman-Ford (hop-bounded), Yen's k shortest loopless paths.
//
// Determinism: every gateway must compute the same answer from the same
// input, whatever order the input listed things in. Among paths of equal cost
// (within a relative 1e-12) the one with fewer hops wins, then the one whose
// last transit comes first by node id (CsrGraph::rank). Yen's candidates are
// ordered by (cost, hops, node ids along the path).
//
// Threads: a PathFinder is a reusable workspace (it allocates once per graph
// size); one per thread. Pure: no clocks, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "csr_graph.hpp"
#include "dary_heap.hpp"

namespace meshgw::routing {

enum class Algorithm : std::uint8_t { dijkstra, astar, bellman_ford };
const char* to_string(Algorithm a) noexcept;
std::optional<Algorithm> algorithm_from_string(const std::string& name) noexcept;

// Node indices in the public functions are Topology indices; CSR edge
// indices and Exclusions use the graph's internal numbering (csr_graph.hpp).
struct Path {
  std::vector<NodeIndex> nodes;     // Topology indices, source first, destination last
  std::vector<std::uint32_t> edges;  // CSR edge indices, nodes.size() - 1 of them
  double cost = 0;                  // per cost.hpp: links + transit nodes
  std::size_t hops() const noexcept { return edges.size(); }
};

// Nodes or edges a search must not use (Yen, waypoints). Empty vectors = none.
struct Exclusions {
  std::vector<std::uint8_t> nodes;  // indexed by internal node index
  std::vector<std::uint8_t> edges;  // indexed by CSR edge
};

class PathFinder {
 public:
  // Single-source shortest paths to every node (dist() and path_to() read them).
  // Throws std::out_of_range for a source that is not a node of g. The
  // point-to-point searches below return nullopt for such ends instead.
  void dijkstra(const CsrGraph& g, NodeIndex source);
  // Same answers with Bellman-Ford (no hop bound); for cross-checks.
  void bellman_ford(const CsrGraph& g, NodeIndex source);
  // Cost of the best path to v found by the last single-source run (+inf if none).
  double cost_to(const CsrGraph& g, NodeIndex v) const noexcept;
  std::optional<Path> path_to(const CsrGraph& g, NodeIndex v) const;

  // Point to point.
  std::optional<Path> shortest(const CsrGraph& g, NodeIndex s, NodeIndex t, Algorithm algo,
                               std::optional<int> max_hops = std::nullopt,
                               const Exclusions* excluded = nullptr);
  // Yen: up to k loopless paths in non-decreasing cost, distinct as node sequences.
  std::vector<Path> k_shortest(const CsrGraph& g, NodeIndex s, NodeIndex t, std::size_t k,
                               std::optional<int> max_hops = std::nullopt);
  // Shortest s -> w -> t without repeating a node; nullopt if none found.
  std::optional<Path> via_waypoint(const CsrGraph& g, NodeIndex s, NodeIndex w, NodeIndex t,
                                   Algorithm algo, std::optional<int> max_hops = std::nullopt);

 private:
  template <bool kAstar>
  std::optional<Path> best_first(const CsrGraph& g, NodeIndex s, NodeIndex t, const Exclusions* ex);
  std::optional<Path> hop_bounded(const CsrGraph& g, NodeIndex s, NodeIndex t, int max_hops,
                                  const Exclusions* ex);
  void reset(std::size_t n);
  bool improves(const CsrGraph& g, NodeIndex v, double d, std::uint32_t hops, NodeIndex via) const noexcept;
  void relabel(NodeIndex v, double d, NodeIndex via, std::uint32_t edge) noexcept;
  Path build(const CsrGraph& g, NodeIndex s, NodeIndex t) const;

  // Where a node's best label came from; one struct so an improvement writes
  // one cache line, while dist_ stays dense for the reads of every relaxation.
  struct Back {
    NodeIndex pred;
    std::uint32_t edge;
    std::uint32_t hops;
  };
  std::vector<double> dist_;
  std::vector<Back> back_;
  DaryHeap<4> heap_;
  NodeIndex source_ = kNoNode;
};

// Path cost from its CSR edges (links + transits), as Path::cost holds it.
double path_cost(const CsrGraph& g, const std::vector<std::uint32_t>& edges);

}  // namespace meshgw::routing
