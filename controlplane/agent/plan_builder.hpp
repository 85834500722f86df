// SPDX-License-Identifier: BSD-3-Clause
// The forwarding plan from the mesh state: what the static configuration
// says, plus what the mesh gives this gateway: the relay entries of every
// SPI whose path crosses it (next hop and the previous hop it must come
// from, by their underlay addresses in the mesh state), its tunnels (whose
// keys the tunnel manager agreed with their other ends) and the active one
// per egress and class, routes to every other gateway's sites, and the mesh
// policy's rules. Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mesh_view.hpp"
#include "tunnel_manager.hpp"
#include "routing/forwarding_plan.hpp"

namespace meshgw::agent {

// A gateway's first IPv4 underlay address in the view (host order, port).
std::optional<routing::UnderlayEndpoint> underlay_of(const MeshView& view, const std::string& gateway);

// Something of the mesh state that did not make it into the plan, and why.
struct PlanProblem {
  std::uint32_t spi = 0;  // the SPI concerned (0: none)
  std::string why;        // e.g. "gateway gw-7 has no IPv4 underlay address in the mesh state"
};

// Relays for self from view.spis(), sorted by SPI. SPIs the static plan
// already relays are left to it. Entries that cannot be built are reported,
// not guessed.
std::vector<routing::PlanRelay> relays_from_view(const MeshView& view, const std::string& self,
                                                 const routing::ForwardingPlan& static_plan,
                                                 std::vector<PlanProblem>* problems = nullptr);

// What the tunnel manager contributes.
struct MeshTunnels {
  routing::UnderlayEndpoint local;  // our WAN address (outer source)
  std::uint16_t mtu = 1400;
  std::vector<ReadyTunnel> tunnels;
  std::vector<routing::PlanActivePath> active;
};

// static_plan with the view's relays added and, when tunnels is given, the
// tunnels (outer destination: the underlay address of the path's second
// gateway in the view; inner sources allowed back: the egress's sites),
// their active paths, a route to every site of every other gateway that is
// not revoked (the static plan's prefixes win; a prefix two gateways claim
// goes to the smaller id, and the other claim is reported) and the mesh
// policy's rules after the static ones. A tunnel whose next hop has no
// address is left out (with its active entry) and reported.
routing::ForwardingPlan plan_from_view(const routing::ForwardingPlan& static_plan, const MeshView& view,
                                       const std::string& self, std::vector<PlanProblem>* problems = nullptr,
                                       const MeshTunnels* tunnels = nullptr);

}  // namespace meshgw::agent
