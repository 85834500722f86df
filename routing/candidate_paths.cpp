// SPDX-License-Identifier: BSD-3-Clause
#include "candidate_paths.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace meshgw::routing {

CostModel model_for_class(const std::string& traffic_class) {
  CostModel m;
  const auto w = class_weights(traffic_class);
  if (!w) throw std::invalid_argument("traffic class '" + traffic_class + "' (default, realtime, bulk, secure)");
  m.weights = *w;
  return m;
}

Constraints transit_constraints(bool edge_transit) {
  Constraints c;
  if (!edge_transit) c.avoid_roles.insert(Role::edge);
  return c;
}

NamedPath named_path(const Topology& t, const Path& p) {
  NamedPath n;
  for (NodeIndex v : p.nodes) n.nodes.push_back(t.nodes()[v].id);
  n.cost = p.cost;
  return n;
}

std::optional<std::vector<std::uint32_t>> edges_of(const Topology& t, const CsrGraph& g,
                                                   const std::vector<std::string>& nodes) {
  std::vector<std::uint32_t> edges;
  for (std::size_t i = 0; i + 1 < nodes.size(); ++i) {
    const auto a = t.find(nodes[i]), b = t.find(nodes[i + 1]);
    if (!a || !b) return std::nullopt;
    const NodeIndex u = g.to_internal(*a), v = g.to_internal(*b);
    if (u == kNoNode || v == kNoNode) return std::nullopt;
    if (i > 0 && !g.transit_ok(u)) return std::nullopt;
    std::optional<std::uint32_t> best;
    const auto out = g.out(u);
    for (std::uint32_t k = 0; k < out.size(); ++k)
      if (out[k].target == v && (!best || out[k].weight < g.edge(*best).weight)) best = g.edge_begin(u) + k;
    if (!best) return std::nullopt;
    edges.push_back(*best);
  }
  return edges;
}

std::vector<NamedPath> candidate_paths(const Topology& topo, const CandidateQuery& q) {
  const auto s = topo.find(q.from), t = topo.find(q.to);
  if (!s || !t) return {};
  const CostModel model = model_for_class(q.traffic_class);
  const CsrGraph g(topo, model, transit_constraints(q.edge_transit));
  PathFinder pf;
  std::vector<NamedPath> out;
  const auto by_cost = [](const NamedPath& a, const NamedPath& b) { return a.cost < b.cost; };
  const std::vector<Path> shortest = pf.k_shortest(g, *s, *t, q.k);
  for (const Path& p : shortest) out.push_back(named_path(topo, p));
  auto add = [&](const std::vector<std::string>& nodes, double cost) {
    if (std::any_of(out.begin(), out.end(), [&](const NamedPath& p) { return p.nodes == nodes; })) return;
    out.push_back({nodes, cost});
    std::stable_sort(out.begin(), out.end(), by_cost);
  };
  std::optional<std::vector<std::uint32_t>> primary_edges;
  if (q.primary != nullptr) {
    primary_edges = edges_of(topo, g, q.primary->nodes);
    if (primary_edges) add(q.primary->nodes, path_cost(g, *primary_edges));
  }
  const bool moving_own = q.own_mbps > 0 && q.primary != nullptr && primary_edges.has_value();
  if (!primary_edges && !shortest.empty()) primary_edges = shortest.front().edges;
  if (primary_edges) {
    Exclusions ex;
    ex.edges.assign(g.edge_count(), 0);
    for (const std::uint32_t e : *primary_edges) ex.edges[e] = 1;
    if (const auto p = pf.shortest(g, *s, *t, Algorithm::dijkstra, std::nullopt, &ex)) {
      const NamedPath n = named_path(topo, *p);
      add(n.nodes, n.cost);
    }
  }
  if (moving_own) {
    std::set<LinkIndex> on_primary;
    for (const std::uint32_t e : *primary_edges) on_primary.insert(g.edge(e).link);
    for (NamedPath& p : out) {
      if (p.nodes == q.primary->nodes) continue;
      const auto edges = edges_of(topo, g, p.nodes);
      if (!edges) continue;
      for (const std::uint32_t e : *edges) {
        const LinkIndex li = g.edge(e).link;
        const Link& l = topo.links()[li];
        if (on_primary.contains(li) || l.capacity_mbps <= 0) continue;
        Link with_own = l;
        with_own.utilisation += q.own_mbps / l.capacity_mbps;
        if (with_own.predicted_utilisation) *with_own.predicted_utilisation += q.own_mbps / l.capacity_mbps;
        p.cost += link_cost(with_own, model) - link_cost(l, model);
      }
    }
    std::stable_sort(out.begin(), out.end(), by_cost);
  }
  return out;
}

std::optional<double> named_path_cost(const Topology& topo, const std::vector<std::string>& nodes,
                                      const std::string& traffic_class, bool edge_transit) {
  const CsrGraph g(topo, model_for_class(traffic_class), transit_constraints(edge_transit));
  const auto edges = edges_of(topo, g, nodes);
  if (!edges) return std::nullopt;
  return path_cost(g, *edges);
}

}  // namespace meshgw::routing
