// SPDX-License-Identifier: BSD-3-Clause
// POST /v1/whatif: routing::what_if over the controller's view. The flows
// are what the data planes carry: each gateway's reported tunnel rates on
// the SPIs' paths (one flow per ingress and path), plus the path choices
// the gateways reported that carry nothing yet. The topology and policy are
// the ones GET /v1/paths uses, with the links' forecast loads when forecasts is
// given (a link predicted hot is hot). Called under the Controller's lock.
#pragma once

#include <nlohmann/json.hpp>

#include "controlplane/common/link_demand.hpp"
#include "mesh_state.hpp"
#include "routing/whatif.hpp"

namespace meshgw::controller {

std::vector<routing::DemandFlow> flows_of(const MeshState& state);

// body: {"fail_links": ["A-B" | ["A", "B"]], "fail_gateways": ["G"],
// "add_demand": [{"from", "to", "rate_bps", "class"}], "hot_utilisation"}.
// A gateway is named by its ID or, when no other shares it, its site.
// Throws rest::ApiError (400 naming the field) for a bad body.
nlohmann::json what_if_json(const MeshState& state, const std::string& body,
                            const common::LinkDemand* forecasts = nullptr);

}  // namespace meshgw::controller
