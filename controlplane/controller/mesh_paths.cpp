// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_paths.hpp"

#include <set>
#include <stdexcept>

#include "routing/csr_graph.hpp"
#include "routing/paths.hpp"

namespace meshgw::controller {

using nlohmann::json;

routing::Topology topology_of(const MeshState& state) {
  routing::Topology t;
  for (const auto& [id, g] : state.gateways()) {
    if (g.record.status == GatewayStatus::revoked) continue;  // never routed through, nor to
    routing::Node n;
    n.id = id;
    n.role = g.record.role;
    n.site = g.record.site;
    n.region = g.record.region;
    if (g.latitude_e6 != 0 || g.longitude_e6 != 0) {
      n.lat = g.latitude_e6 / 1e6;
      n.lon = g.longitude_e6 / 1e6;
    }
    n.capacity_mbps = static_cast<double>(g.declared_bps) / 1e6;
    n.load = g.load_permille / 1000.0;
    n.up = g.record.status == GatewayStatus::up;
    t.add_node(std::move(n));
  }
  const json links = state.links_json();
  for (const json& l : links) {
    const auto src = t.find(l["from"].get<std::string>());
    const auto dst = t.find(l["to"].get<std::string>());
    if (!src || !dst) continue;
    routing::Link link;
    link.src = *src;
    link.dst = *dst;
    link.latency_ms = l["rtt_us"].get<double>() / 2000.0;  // one way
    link.jitter_ms = l["jitter_us"].get<double>() / 1000.0;
    link.loss = l["loss_ppm"].get<double>() / 1e6;
    link.capacity_mbps = l["capacity_bps"].get<double>() / 1e6;
    link.utilisation = std::min(10.0, l["utilisation"].get<double>());
    link.up = t.nodes()[*src].up && t.nodes()[*dst].up;
    t.add_link(link);
  }
  return t;
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
