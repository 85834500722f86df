// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_paths.hpp"

#include <set>
#include <stdexcept>

#include "controlplane/api/mesh_topology.hpp"
#include "routing/csr_graph.hpp"
#include "routing/paths.hpp"

namespace meshgw::controller {

using nlohmann::json;

routing::Topology topology_of(const MeshState& state) {
  json gateways = json::array();
  for (const auto& [id, g] : state.gateways()) gateways.push_back(state.gateway_json(g));
  return api::topology_from_state(gateways, state.links_json());
}

std::optional<std::string> path_refusal(const MeshState& state, const std::vector<std::string>& path) {
  if (path.size() < 2) return "a path needs at least the ingress and the egress";
  std::set<std::string> seen;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const GatewayLive* g = state.gateway(path[i]);
    if (g == nullptr) return "gateway " + path[i] + " is not in the mesh";
    if (g->record.status == GatewayStatus::revoked) return "gateway " + path[i] + " is revoked";
    if (!seen.insert(path[i]).second) return "gateway " + path[i] + " appears twice";
    const bool transit = i > 0 && i + 1 < path.size();
    if (transit && g->record.role == routing::Role::edge && !state.policy().edge_transit)
      return "gateway " + path[i] + " is an edge gateway and the policy does not allow edge transits";
  }
  return std::nullopt;
}

json query_paths(const MeshState& state, const PathQuery& q) {
  const routing::Topology topo = topology_of(state);
  const auto s = topo.find(q.from);
  const auto t = topo.find(q.to);
  if (!s) throw std::invalid_argument("from: " + q.from + " is not a gateway of the mesh");
  if (!t) throw std::invalid_argument("to: " + q.to + " is not a gateway of the mesh");
  routing::CostModel model;
  const auto weights = routing::class_weights(q.traffic_class);
  if (!weights) throw std::invalid_argument("class: unknown traffic class (default, realtime, bulk, secure)");
  model.weights = *weights;
  routing::Constraints constraints;
  if (!state.policy().edge_transit) constraints.avoid_roles.insert(routing::Role::edge);
  const routing::CsrGraph g(topo, model, constraints);
  routing::PathFinder pf;
  std::vector<routing::Path> paths;
  if (q.k <= 1) {
    if (auto p = pf.shortest(g, *s, *t, routing::Algorithm::dijkstra)) paths.push_back(std::move(*p));
  } else {
    paths = pf.k_shortest(g, *s, *t, q.k);
  }
  json out = json::array();
  for (const routing::Path& p : paths) {
    json nodes = json::array();
    double latency = 0;
    for (routing::NodeIndex v : p.nodes) nodes.push_back(topo.nodes()[v].id);
    for (std::uint32_t e : p.edges) latency += topo.links()[g.edge(e).link].latency_ms;
    out.push_back({{"nodes", std::move(nodes)}, {"cost", p.cost}, {"hops", p.hops()}, {"latency_ms", latency}});
  }
  return {{"from", q.from}, {"to", q.to}, {"class", q.traffic_class}, {"reachable", !out.empty()}, {"paths", out}};
}

}  // namespace meshgw::controller
