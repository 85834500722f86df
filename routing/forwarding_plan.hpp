// SPDX-License-Identifier: BSD-3-Clause
// The ForwardingPlan: everything a gateway's data plane forwards by, as a
// plain value (standard library types only, no DPDK), so that the routing
// engine, static configuration and the controller can all produce it, tests
// can compare it, and the data plane's snapshot compiler can tell from a diff
// which of its pieces to rebuild.
//
// Pieces, by the rate at which they change:
//  - routes:   site prefix -> egress gateway (+ traffic class). Rarely.
//  - tunnels:  a path to an egress with its SA pair (by SPI; keys are held
//              outside the plan), outer endpoints, MTU, the egress's sites.
//  - active:   (egress, traffic class) -> tunnel: a path switch changes
//              only this.
//  - relays:   SPI -> next hop, for the tunnels that cross this gateway.
//  - policies: routing/policy rules (deny, or a traffic class).
// Threads: a value; built and compared on control threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy.hpp"

namespace meshgw::routing {

// "0x00001001": how messages everywhere name an SPI.
std::string spi_text(std::uint32_t spi);
// Dotted quad of a host-order IPv4 address.
std::string ipv4_text(std::uint32_t ip);

// An underlay IPv4 address and UDP port, host byte order.
struct UnderlayEndpoint {
  std::uint32_t ip = 0;
  std::uint16_t port = 4500;
  bool operator==(const UnderlayEndpoint&) const = default;
};

struct PlanRoute {
  IpPrefix prefix;
  std::string egress;                     // gateway id
  std::string traffic_class = "default";  // a matching policy rule overrides it
  bool operator==(const PlanRoute&) const = default;
};

struct PlanTunnel {
  std::string id;                    // unique in the plan
  std::string egress;                // gateway id of the far end
  std::vector<std::string> path;     // gateway ids, this gateway first, egress last
  std::uint32_t out_spi = 0;         // outbound SA (keys held by the data plane's SA store)
  std::uint32_t in_spi = 0;          // inbound SA (egress -> us)
  UnderlayEndpoint local;            // our outer source
  UnderlayEndpoint next_hop;         // first hop of the path (outer destination)
  std::uint16_t mtu = 1400;          // largest inner packet the tunnel carries
  std::vector<IpPrefix> remote_sites;  // inner sources allowed on the inbound SA
  // Bumped when both ends replace the SAs' keys on the same SPIs (one end
  // restarted and lost its keys): the data plane makes new SAs then.
  std::uint32_t key_generation = 0;
  bool operator==(const PlanTunnel&) const = default;
};

struct PlanActivePath {
  std::string egress;
  std::string traffic_class = "default";
  std::string tunnel;  // PlanTunnel::id
  bool operator==(const PlanActivePath&) const = default;
};

struct PlanRelay {
  std::uint32_t spi = 0;
  UnderlayEndpoint next_hop;
  std::optional<std::uint32_t> expected_prev_hop;  // outer source the packet must come from
  bool operator==(const PlanRelay&) const = default;
};

struct ForwardingPlan {
  std::string gateway_id;
  std::vector<PlanRoute> routes;
  std::vector<PlanTunnel> tunnels;
  std::vector<PlanActivePath> active;
  std::vector<PlanRelay> relays;
  std::vector<PolicyRule> policies;
  bool operator==(const ForwardingPlan&) const = default;
};

// Which pieces differ between two plans.
struct PlanDiff {
  bool routes = false, tunnels = false, active = false, relays = false, policies = false;
  bool empty() const noexcept { return !(routes || tunnels || active || relays || policies); }
  bool operator==(const PlanDiff&) const = default;
};
PlanDiff diff(const ForwardingPlan& before, const ForwardingPlan& after);

// The traffic classes a plan names, "default" first, then sorted.
std::vector<std::string> traffic_classes(const ForwardingPlan& plan);

// Every rule a plan must satisfy as a whole, as messages naming the piece,
// the entry and the rule ("tunnel 'a-b': out_spi 0x00000010 is reserved
// (must be >= 256)"). Empty if the plan is valid. Checks: unique tunnel ids
// and SPIs (outbound, inbound and relay SPIs never shared), SPIs >= 256,
// non-empty ids, paths that start at this gateway and end at the tunnel's
// egress without repeating a gateway, MTU 576..9000 (IPv4 minimum; a jumbo
// frame), next hop and local addresses set, active paths naming an existing
// tunnel to the same egress and at most one per (egress, class), no duplicate
// route prefix, and valid policy rules.
std::vector<std::string> validate(const ForwardingPlan& plan);
// The same checks limited to what a change to the pieces in `changed` can
// break (routes: route rules; policies: policy rules; tunnels or relays:
// tunnel rules and SPI uniqueness; tunnels or active: active-path rules),
// so a path switch is not charged for 100,000 unchanged routes.
std::vector<std::string> validate(const ForwardingPlan& plan, const PlanDiff& changed);

}  // namespace meshgw::routing
