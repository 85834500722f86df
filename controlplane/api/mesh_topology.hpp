// SPDX-License-Identifier: BSD-3-Clause
// The mesh state as the routing engine sees it: a routing::Topology built
// from the JSON the controller publishes (gateways with role, site, region,
// coordinates, declared bandwidth, load, status; links with RTT, jitter,
// loss, capacity and utilisation). The controller (GET /v1/paths) and the
// gateway agent build it the same way, so both compute the same paths.
// Revoked gateways are left out; gateways that are not up, links touching
// them, and links whose every probe was lost are kept but down. Control path; throws std::runtime_error
// for malformed input.
#pragma once

#include <nlohmann/json.hpp>

#include "routing/topology.hpp"

namespace meshgw::api {

// gateways: an array of gateway objects, or an object of them keyed by id.
routing::Topology topology_from_state(const nlohmann::json& gateways, const nlohmann::json& links);

}  // namespace meshgw::api
