// SPDX-License-Identifier: BSD-3-Clause
// Compressed sparse row form of a Topology under one cost model and one set
// of constraints: out-edges of node u are edges()[offsets()[u] .. offsets()[u+1]),
// each with its final weight = link cost + cost of entering the far node as a
// transit. Parallel links are collapsed to the cheapest; links that cannot
// carry traffic (down, infinite cost) are left out. Rebuilt when the
// topology version or the model changes (cheap: O(V + E log E)).
//
// Nodes are renumbered internally in breadth-first order, so that nodes
// near each other in the graph are near each other in memory: a search then
// finds a node's neighbours' labels and edges in cache (measured: the main
// reason single-source Dijkstra here beats Boost.Graph on the same graph).
// Everything indexed by node in this class uses internal indices;
// to_internal()/to_external() convert from and to Topology indices.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cost.hpp"
#include "topology.hpp"

namespace meshgw::routing {

struct CsrEdge {
  double weight;
  NodeIndex target;  // internal index
  LinkIndex link;    // index into Topology::links()
};

class CsrGraph {
 public:
  CsrGraph() = default;
  CsrGraph(const Topology& topology, const CostModel& model, const Constraints& constraints = {});

  // Patch in place after metrics changed (latency, loss, utilisation, load,
  // predictions, weights): O(V + E), no sort, no allocation. Returns false,
  // leaving the graph unusable until rebuilt, when the structure changed: a
  // link became usable or unusable, links or nodes were added, or a pair has
  // parallel links (whose cheapest may have changed).
  [[nodiscard]] bool refresh(const Topology& topology, const CostModel& model, const Constraints& constraints = {});

  std::size_t node_count() const noexcept { return transit_ok_.size(); }
  NodeIndex to_internal(NodeIndex topology_index) const noexcept { return internal_[topology_index]; }
  NodeIndex to_external(NodeIndex internal) const noexcept { return external_[internal]; }
  std::size_t edge_count() const noexcept { return edges_.size(); }
  std::span<const CsrEdge> out(NodeIndex u) const noexcept {
    return {edges_.data() + offsets_[u], edges_.data() + offsets_[u + 1]};
  }
  std::uint32_t edge_begin(NodeIndex u) const noexcept { return offsets_[u]; }
  const CsrEdge& edge(std::uint32_t e) const noexcept { return edges_[e]; }

  // Whether paths may pass through u (source and destination always may).
  bool transit_ok(NodeIndex u) const noexcept { return transit_ok_[u] != 0; }
  // What entering u costs when it is a transit (included in edge weights).
  double entry_cost(NodeIndex u) const noexcept { return entry_cost_[u]; }
  // Position of u when nodes are sorted by id: ties are broken on it, so
  // the answer does not depend on the order nodes were listed in.
  std::uint32_t rank(NodeIndex u) const noexcept { return rank_[u]; }

  // A*: an admissible and consistent lower bound on the cost from u to t:
  // heuristic_scale() * great-circle km, where the scale is the smallest
  // cost per km over all edges, so it never overestimates whatever the
  // weights are. 0 when some node has no coordinates.
  double heuristic(NodeIndex u, NodeIndex t) const noexcept;
  double heuristic_scale() const noexcept { return h_scale_; }

 private:
  double great_circle(NodeIndex a, NodeIndex b) const noexcept;

  std::vector<NodeIndex> internal_;  // by topology index
  std::vector<NodeIndex> external_;  // by internal index
  std::vector<std::uint32_t> offsets_;
  std::vector<CsrEdge> edges_;
  std::vector<std::uint8_t> transit_ok_;
  std::vector<double> entry_cost_;
  std::vector<std::uint32_t> rank_;
  std::vector<double> lat_rad_, lon_rad_, cos_lat_;
  std::vector<double> edge_km_;  // great-circle length per edge, for the A* scale
  double h_scale_ = 0;
  std::size_t usable_links_ = 0;  // links that passed the filter at build time
  bool has_parallel_ = false;

  void compute_heuristic_scale();
};

}  // namespace meshgw::routing
