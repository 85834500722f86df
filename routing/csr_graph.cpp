// SPDX-License-Identifier: BSD-3-Clause
#include "csr_graph.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace meshgw::routing {

namespace {
constexpr double kDegToRad = 3.14159265358979323846 / 180.0;
constexpr double kEarthRadiusKm = 6371.0;
}  // namespace

CsrGraph::CsrGraph(const Topology& topo, const CostModel& model, const Constraints& constraints) {
  const std::size_t n = topo.node_count();
  transit_ok_.resize(n);
  entry_cost_.resize(n);
  for (NodeIndex u = 0; u < n; ++u) {
    const Node& node = topo.nodes()[u];
    transit_ok_[u] = transit_allowed(node, constraints) ? 1 : 0;
    entry_cost_[u] = node_cost(node, model);
  }
  std::vector<NodeIndex> by_id(n);
  std::iota(by_id.begin(), by_id.end(), 0);
  std::sort(by_id.begin(), by_id.end(),
            [&](NodeIndex a, NodeIndex b) { return topo.nodes()[a].id < topo.nodes()[b].id; });
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
    if (!topo.nodes()[link.src].up && !topo.nodes()[link.dst].up) continue;
    const double w = link_cost(link, model);
    if (!std::isfinite(w)) continue;
    cand.push_back({link.src, {w + entry_cost_[link.dst], link.dst, l}});
  }
  std::sort(cand.begin(), cand.end(), [](const Candidate& a, const Candidate& b) {
    if (a.src != b.src) return a.src < b.src;
    if (a.edge.target != b.edge.target) return a.edge.target < b.edge.target;
    if (a.edge.weight != b.edge.weight) return a.edge.weight < b.edge.weight;
    return a.edge.link < b.edge.link;
  });
  offsets_.assign(n + 1, 0);
  edges_.reserve(cand.size());
  for (std::size_t i = 0; i < cand.size(); ++i) {
    if (i > 0 && cand[i].src == cand[i - 1].src && cand[i].edge.target == cand[i - 1].edge.target)
      continue;  // parallel link, more expensive
    if (cand[i].src == cand[i].edge.target) continue;  // self-loop: never on a shortest path
    edges_.push_back(cand[i].edge);
    ++offsets_[cand[i].src + 1];
  }
  for (std::size_t u = 0; u < n; ++u) offsets_[u + 1] += offsets_[u];

  // A* bound: cost per great-circle km, minimised over edges.
  bool all_coords = n > 0;
  for (const Node& node : topo.nodes()) all_coords = all_coords && node.lat && node.lon;
  if (!all_coords) return;
  lat_rad_.resize(n);
  lon_rad_.resize(n);
  cos_lat_.resize(n);
  for (NodeIndex u = 0; u < n; ++u) {
    lat_rad_[u] = *topo.nodes()[u].lat * kDegToRad;
    lon_rad_[u] = *topo.nodes()[u].lon * kDegToRad;
    cos_lat_[u] = std::cos(lat_rad_[u]);
  }
  double scale = std::numeric_limits<double>::infinity();
  for (NodeIndex u = 0; u < n; ++u) {
    for (const CsrEdge& e : out(u)) {
      const double km = great_circle(u, e.target);
      if (km > 0) scale = std::min(scale, e.weight / km);
    }
  }
  h_scale_ = std::isfinite(scale) ? scale * (1.0 - 1e-9) : 0;
}

double CsrGraph::great_circle(NodeIndex a, NodeIndex b) const noexcept {
  const double dlat = lat_rad_[b] - lat_rad_[a], dlon = lon_rad_[b] - lon_rad_[a];
  const double s1 = std::sin(dlat / 2), s2 = std::sin(dlon / 2);
  const double h = s1 * s1 + cos_lat_[a] * cos_lat_[b] * s2 * s2;
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

double CsrGraph::heuristic(NodeIndex u, NodeIndex t) const noexcept {
  return h_scale_ > 0 ? h_scale_ * great_circle(u, t) : 0.0;
}

}  // namespace meshgw::routing
