// SPDX-License-Identifier: BSD-3-Clause
// The forwarding plan from the mesh state: what the static configuration
// says, plus what the controller has allocated through this gateway. Today:
// the relay entries of every SPI whose path crosses it (next hop and the
// previous hop it must come from, by their underlay addresses in the mesh
// state). Tunnels of its own, with keys from the exchange between tunnel
// ends, come next. Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mesh_view.hpp"
#include "routing/forwarding_plan.hpp"

namespace meshgw::agent {

// A gateway's first IPv4 underlay address in the view (host order, port).
std::optional<routing::UnderlayEndpoint> underlay_of(const MeshView& view, const std::string& gateway);

struct RelayProblem {
  std::uint32_t spi;
  std::string why;  // e.g. "next hop gw-7 has no IPv4 address in the mesh state"
};

// Relays for self from view.spis(), sorted by SPI. SPIs the static plan
// already relays are left to it. Entries that cannot be built are reported,
// not guessed.
std::vector<routing::PlanRelay> relays_from_view(const MeshView& view, const std::string& self,
                                                 const routing::ForwardingPlan& static_plan,
                                                 std::vector<RelayProblem>* problems = nullptr);

// static_plan with the view's relays added.
routing::ForwardingPlan plan_from_view(const routing::ForwardingPlan& static_plan, const MeshView& view,
                                       const std::string& self, std::vector<RelayProblem>* problems = nullptr);

}  // namespace meshgw::agent
