// SPDX-License-Identifier: BSD-3-Clause
// The candidate paths a gateway offers its PathSelector for one egress and
// traffic class: Yen's k best under the class's weights and the policy's
// edge-transit rule, the current primary re-priced while it is still usable
// (the selector's contract), and the best path sharing no link with the
// primary (Yen's next few often leave by the same first link, and a backup
// that fails with the primary is no backup). One place, so the agent's
// planner and the controller's what-if query choose alike. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "routing/cost.hpp"
#include "routing/csr_graph.hpp"
#include "routing/path_selector.hpp"
#include "routing/paths.hpp"
#include "routing/topology.hpp"

namespace meshgw::routing {

// The cost model of a named class; throws std::invalid_argument naming the
// known classes for any other.
CostModel model_for_class(const std::string& traffic_class);
// An edge gateway is a transit only when the policy allows it.
Constraints transit_constraints(bool edge_transit);

NamedPath named_path(const Topology& t, const Path& p);
// The CSR edges of a path named by node ids, when every hop still exists in
// g and every transit may still be one; nullopt otherwise (the path failed).
std::optional<std::vector<std::uint32_t>> edges_of(const Topology& t, const CsrGraph& g,
                                                   const std::vector<std::string>& nodes);

struct CandidateQuery {
  std::string from, to;
  std::string traffic_class = "default";
  std::size_t k = 4;                   // Yen's k
  bool edge_transit = false;
  const NamedPath* primary = nullptr;  // the current primary, if any
  // The traffic the asking gateway sends to `to` now (Mbit/s), on the
  // primary. The link loads it is priced on include it there already; every
  // other candidate is priced with it added to the links it does not share
  // with the primary: the load it would see after the move. Without this a
  // flow big against a link moves onto it, fills it, and moves back (and
  // every flow that leaves a hot link for the same cold one looks cheaper
  // than it will be). 0: priced on the loads as they are.
  double own_mbps = 0;
};

// Sorted by cost, best first, distinct as node sequences; empty when the
// ends are unknown or unreachable.
std::vector<NamedPath> candidate_paths(const Topology& topo, const CandidateQuery& q);

// The cost of a named path on topo under the class (nullopt: not usable).
std::optional<double> named_path_cost(const Topology& topo, const std::vector<std::string>& nodes,
                                      const std::string& traffic_class, bool edge_transit);

}  // namespace meshgw::routing
