// SPDX-License-Identifier: BSD-3-Clause
// The routing engine over the controller's view: the mesh as a
// routing::Topology (gateways that are up, links measured by their probes,
// capacity and offered load), who may be a transit, and the path query of
// GET /v1/paths. The same routing code the gateways run. Called under the
// Controller's lock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mesh_state.hpp"
#include "routing/topology.hpp"

namespace meshgw::controller {

routing::Topology topology_of(const MeshState& state);

// Why `path` (ingress first, egress last) may not be used, or nullopt when
// it may: every gateway known and not revoked, no gateway twice, and each
// transit allowed by its role (an edge gateway relays only when the policy
// says edge_transit) .
std::optional<std::string> path_refusal(const MeshState& state, const std::vector<std::string>& path);

struct PathQuery {
  std::string from, to;
  std::string traffic_class = "default";
  std::size_t k = 1;
};

// {"from", "to", "class", "reachable", "paths": [{"nodes", "cost", "hops", "latency_ms"}]}.
// Throws std::invalid_argument for an unknown gateway or class.
nlohmann::json query_paths(const MeshState& state, const PathQuery& q);

}  // namespace meshgw::controller
