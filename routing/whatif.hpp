// SPDX-License-Identifier: BSD-3-Clause
// What-if: which flows would move, where to, and which links would run hot,
// if links or gateways failed or new demand appeared, before anything is
// done. Each flow is decided the way its ingress gateway would decide it:
// the same candidate paths (candidate_paths.hpp) and the same hysteresis
// (PathSelector, with the ingress's own hold jitter), over the topology as
// it would be.
//
// Order, so later decisions see the load earlier ones put on the links:
//  1. Flows that lose a link or a gateway of their path switch at once to
//     the best candidate (or are lost: no path; or end: an end gateway
//     failed), largest first.
//  2. Added demand takes its best path, largest first.
//  3. Every other flow keeps its path unless, with the new loads, a
//     candidate beats it by the selector's margins (it would move once the
//     hold time passes); a flow that would move even without the change is
//     not reported as moved by it.
// Loads: a link's load before is its measured (or predicted) utilisation
// times its capacity; a flow that moves takes its rate off its old path's
// links and onto its new one's. One round: the answer is the mesh's first
// reaction, not a fixed point. Pure.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "routing/path_selector.hpp"
#include "routing/topology.hpp"

namespace meshgw::routing {

struct DemandFlow {
  std::string from, to;
  std::string traffic_class = "default";
  double rate_bps = 0;
  std::vector<std::string> path;  // its path now (from first); empty for added demand
};

struct WhatIfChange {
  std::vector<std::pair<std::string, std::string>> fail_links;  // both directions fail
  std::vector<std::string> fail_gateways;
  std::vector<DemandFlow> add_demand;
};

struct WhatIfConfig {
  std::size_t candidates = 4;       // Yen's k, as the gateways use
  SelectorConfig selector;          // gateway_id is set per flow (its ingress)
  bool edge_transit = false;        // the mesh policy
  double hot_utilisation = 0.8;     // a link at or above this share of its capacity runs hot
};

enum class FlowVerdict { stays, moves_now, moves_after_hold, lost, ends, placed, unplaced };
const char* to_string(FlowVerdict v) noexcept;

struct FlowOutcome {
  DemandFlow flow;
  FlowVerdict verdict = FlowVerdict::stays;
  std::optional<NamedPath> before;  // its path now, priced now (not for added demand)
  std::optional<NamedPath> after;   // its path then, priced then (none: lost, ends, unplaced)
};

struct LinkOutcome {
  std::string from, to;
  double capacity_bps = 0;  // 0: unknown
  double load_before_bps = 0, load_after_bps = 0;
  double utilisation_before = 0, utilisation_after = 0;
  bool failed = false;
  bool hot_before = false, hot_after = false;
};

struct WhatIfResult {
  std::vector<FlowOutcome> flows;  // every flow given, then the added demand
  std::vector<LinkOutcome> links;  // every directed link of the topology
};

// Throws std::invalid_argument naming the first bad part of change: an
// unknown gateway, a link that does not exist, a demand with equal ends, a
// rate not finite and positive, an unknown traffic class; or a change that
// names nothing.
WhatIfResult what_if(const Topology& now, const std::vector<DemandFlow>& flows, const WhatIfChange& change,
                     const WhatIfConfig& config);

}  // namespace meshgw::routing
