// SPDX-License-Identifier: BSD-3-Clause
#include "csr_graph.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace meshgw::routing {

namespace {

// Breadth-first order over the links taken as undirected, each component
// from its first node: neighbours end up with nearby numbers.
std::vector<NodeIndex> breadth_first_order(const Topology& topo) {
  const std::size_t n = topo.node_count();
  std::vector<std::uint32_t> start(n + 1, 0);
  for (const Link& l : topo.links()) {
    ++start[l.src + 1];
    ++start[l.dst + 1];
  }
  for (std::size_t i = 0; i < n; ++i) start[i + 1] += start[i];
  std::vector<NodeIndex> adj(start[n]);
  std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
  for (const Link& l : topo.links()) {
    adj[fill[l.src]++] = l.dst;
    adj[fill[l.dst]++] = l.src;
  }
  std::vector<NodeIndex> order;
  order.reserve(n);
  std::vector<std::uint8_t> seen(n, 0);
  for (NodeIndex root = 0; root < n; ++root) {
    if (seen[root]) continue;
    seen[root] = 1;
    order.push_back(root);
    for (std::size_t head = order.size() - 1; head < order.size(); ++head) {
      const NodeIndex u = order[head];
      for (std::uint32_t i = start[u]; i < start[u + 1]; ++i) {
        if (!seen[adj[i]]) {
          seen[adj[i]] = 1;
          order.push_back(adj[i]);
        }
      }
    }
  }
  return order;
}

}  // namespace

CsrGraph::CsrGraph(const Topology& topo, const CostModel& model, const Constraints& constraints) {
  validate(model);
  const std::size_t n = topo.node_count();
  external_ = breadth_first_order(topo);
  internal_.resize(n);
  for (NodeIndex i = 0; i < n; ++i) internal_[external_[i]] = i;
  transit_ok_.resize(n);
  entry_cost_.resize(n);
  for (NodeIndex i = 0; i < n; ++i) {
    const Node& node = topo.nodes()[external_[i]];
    transit_ok_[i] = transit_allowed(node, constraints) ? 1 : 0;
    entry_cost_[i] = node_cost(node, model);
  }
  std::vector<NodeIndex> by_id(n);
  std::iota(by_id.begin(), by_id.end(), 0);
  std::sort(by_id.begin(), by_id.end(), [&](NodeIndex a, NodeIndex b) {
    return topo.nodes()[external_[a]].id < topo.nodes()[external_[b]].id;
  });
  rank_.resize(n);
  for (std::uint32_t r = 0; r < n; ++r) rank_[by_id[r]] = r;

  // Usable links as (src, target, weight, link), cheapest first per (src, target).
  struct Candidate {
    NodeIndex src;
    CsrEdge edge;
  };
  std::vector<Candidate> cand;
  cand.reserve(topo.link_count());
  for (LinkIndex l = 0; l < topo.link_count(); ++l) {
    const Link& link = topo.links()[l];
    if (!topo.nodes()[link.src].up || !topo.nodes()[link.dst].up) continue;  // a down gateway neither sends nor receives
    if (link.src == link.dst) continue;  // a self-loop is never on a shortest path
    const double w = link_cost(link, model);
    if (!std::isfinite(w)) continue;
    const NodeIndex src = internal_[link.src], dst = internal_[link.dst];
    cand.push_back({src, {w + entry_cost_[dst], dst, l}});
  }
  std::sort(cand.begin(), cand.end(), [](const Candidate& a, const Candidate& b) {
    if (a.src != b.src) return a.src < b.src;
    if (a.edge.target != b.edge.target) return a.edge.target < b.edge.target;
    if (a.edge.weight != b.edge.weight) return a.edge.weight < b.edge.weight;
    return a.edge.link < b.edge.link;
  });
  offsets_.assign(n + 1, 0);
  edges_.reserve(cand.size());
  usable_links_ = cand.size();
  for (std::size_t i = 0; i < cand.size(); ++i) {
    if (i > 0 && cand[i].src == cand[i - 1].src && cand[i].edge.target == cand[i - 1].edge.target) {
      has_parallel_ = true;
      continue;  // parallel link, more expensive
    }
    edges_.push_back(cand[i].edge);
    ++offsets_[cand[i].src + 1];
  }
  for (std::size_t u = 0; u < n; ++u) offsets_[u + 1] += offsets_[u];

  // A* bound: needs coordinates on every node.
  bool all_coords = n > 0;
  for (const Node& node : topo.nodes()) all_coords = all_coords && node.lat && node.lon;
  if (!all_coords) return;
  lat_rad_.resize(n);
  lon_rad_.resize(n);
  cos_lat_.resize(n);
  for (NodeIndex u = 0; u < n; ++u) {
    lat_rad_[u] = *topo.nodes()[external_[u]].lat * kDegToRad;
    lon_rad_[u] = *topo.nodes()[external_[u]].lon * kDegToRad;
    cos_lat_[u] = std::cos(lat_rad_[u]);
  }
  edge_km_.resize(edges_.size());
  for (NodeIndex u = 0; u < n; ++u)
    for (std::uint32_t e = offsets_[u]; e < offsets_[u + 1]; ++e) edge_km_[e] = great_circle(u, edges_[e].target);
  compute_heuristic_scale();
}

// The smallest cost per great-circle km over all edges: scaling distances by
// it never overestimates, whatever the weights (consistent by the triangle
// inequality: s * (km(u,t) - km(v,t)) <= s * km(u,v) <= cost(u,v)).
void CsrGraph::compute_heuristic_scale() {
  if (lat_rad_.empty()) return;
  double scale = std::numeric_limits<double>::infinity();
  for (std::size_t e = 0; e < edges_.size(); ++e)
    if (edge_km_[e] > 0) scale = std::min(scale, edges_[e].weight / edge_km_[e]);
  h_scale_ = std::isfinite(scale) ? scale * (1.0 - 1e-9) : 0;
}

bool CsrGraph::refresh(const Topology& topo, const CostModel& model, const Constraints& constraints) {
  validate(model);
  const std::size_t n = topo.node_count();
  if (n != node_count() || has_parallel_) return false;
  // Without parallel links every usable link is an edge: the structure is
  // unchanged iff the usable links are exactly the edges' links.
  std::size_t usable = 0;
  for (const Link& link : topo.links())
    usable += link.src != link.dst && link.up && (model.kind != CostKind::weighted || link.loss < 1.0) && topo.nodes()[link.src].up &&
              topo.nodes()[link.dst].up;  // exactly when link_cost() is finite
  if (usable != usable_links_) return false;
  for (NodeIndex i = 0; i < n; ++i) {
    const Node& node = topo.nodes()[external_[i]];
    transit_ok_[i] = transit_allowed(node, constraints) ? 1 : 0;
    entry_cost_[i] = node_cost(node, model);
  }
  for (CsrEdge& e : edges_) {
    if (e.link >= topo.link_count()) return false;
    const Link& link = topo.links()[e.link];
    const double w = link_cost(link, model);
    // Same count of usable links and every edge still usable: same structure.
    if (!std::isfinite(w) || !topo.nodes()[link.src].up || !topo.nodes()[link.dst].up) return false;
    e.weight = w + entry_cost_[e.target];
  }
  compute_heuristic_scale();
  return true;
}

double CsrGraph::great_circle(NodeIndex a, NodeIndex b) const noexcept {
  return haversine_km(lat_rad_[a], lon_rad_[a], cos_lat_[a], lat_rad_[b], lon_rad_[b], cos_lat_[b]);
}

double CsrGraph::heuristic(NodeIndex u, NodeIndex t) const noexcept {
  return h_scale_ > 0 ? h_scale_ * great_circle(u, t) : 0.0;
}

}  // namespace meshgw::routing
