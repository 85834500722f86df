// SPDX-License-Identifier: BSD-3-Clause
// The cost of a path, and the hard constraints on it.
//
// cost(path) = sum over its links l = (u -> v) of link_cost(l)
//            + sum over its transit nodes n (not source, not destination) of node_cost(n)
//
// link_cost(l) = w.latency * (latency_ms + queue_ms(l))
//              + w.jitter  * jitter_ms
//              + w.loss    * -ln(1 - loss)        (additive over hops; 1% loss ~ 0.01)
//              + w.money   * money_cost(l)
//              + w.headroom * min(rho / (1 - rho), max_headroom_penalty)
// The headroom term prices running out of bandwidth whatever the link speed
// (on a 10 Gbit/s link the M/M/1 mean delay stays in microseconds up to 95%,
// yet bursts will drop packets there); rho as below.
// queue_ms(l)  = M/M/1 mean sojourn time 1 / (mu - lambda) for packets of
//                mean_packet_bytes on a link of capacity C, at the predicted
//                utilisation rho (measured if no prediction):
//                mu = C / (8 * mean_packet_bytes), lambda = rho * mu,
//                rho capped at max_utilisation and the result at max_queue_ms,
//                0 when the capacity is unknown.
// node_cost(n) = w.security * max(0, max_security_level - security_level(n))
//              + w.money    * money_cost(n)
//              + w.load     * min(load / (1 - load), max_load_penalty)
//              + w.hop
// All terms are in "latency-equivalent milliseconds" with the default weights
// (w.latency = 1), so a cost reads as a delay. Every weight is >= 0, so costs
// are non-negative and Dijkstra applies.
//
// CostKind::latency makes a link's cost exactly its latency_ms (no node
// costs) and CostKind::hops exactly 1, so any shortest-path tool can check
// an answer; CostKind::weight uses the link's operator-given weight.
//
// Constraints are hard: an excluded node is never a transit (it may still be
// the source or the destination); a path longer than max_hops is not a path.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "topology.hpp"

namespace meshgw::routing {

enum class CostKind : std::uint8_t { weighted, latency, hops, weight };

const char* to_string(CostKind kind) noexcept;
std::optional<CostKind> cost_kind_from_string(const std::string& name) noexcept;

// Weights of one traffic class. All >= 0.
struct CostWeights {
  double latency = 1.0;   // per ms of one-way delay
  double jitter = 0.0;    // per ms of jitter
  double loss = 1000.0;   // per unit of -ln(1 - loss): 1% loss costs ~10 ms
  double money = 0.0;     // per unit of money cost
  double headroom = 1.0;  // per unit of rho / (1 - rho): 1 at 50% use, 9 at 90%
  double security = 0.0;  // per security level below the best
  double load = 10.0;     // per unit of load / (1 - load) at a transit
  double hop = 0.0;       // fixed cost per transit
};

struct CostParams {
  double mean_packet_bytes = 1000;
  double max_utilisation = 0.98;
  double max_queue_ms = 200;
  double max_load_penalty = 50;
  double max_headroom_penalty = 50;
  int max_security_level = 5;
};

struct CostModel {
  CostKind kind = CostKind::weighted;
  CostWeights weights;
  CostParams params;
};

// Throws std::invalid_argument naming the first weight or parameter that is
// negative or not finite (a negative weight would break Dijkstra silently),
// or a parameter out of its range. CsrGraph checks every model it is given.
void validate(const CostModel& model);

// Named traffic classes with sensible weights: "default", "realtime"
// (latency and jitter dominate), "bulk" (money and load matter, latency
// less), "secure" (transit security weighs heavily). nullopt if unknown.
std::optional<CostWeights> class_weights(const std::string& traffic_class);

struct Constraints {
  std::set<Role> avoid_roles;
  std::set<std::string> avoid_nodes;
  std::set<std::string> avoid_regions;
  int min_security_level = 0;   // for transit nodes
  std::optional<int> max_hops;  // links on the path
  std::optional<std::string> waypoint;
  bool operator==(const Constraints&) const = default;
};

// Per-link terms, for explanations (meshctl path prints them).
struct LinkCostBreakdown {
  double latency_ms = 0;
  double queue_ms = 0;
  double jitter_term = 0;
  double loss_term = 0;
  double money_term = 0;
  double headroom_term = 0;
  double link_cost = 0;    // sum of the above, weighted
  double transit_cost = 0;  // node_cost of the link's far end when it is a transit
};

double queue_delay_ms(const Link& link, const CostParams& params) noexcept;
// +inf when the link cannot carry traffic (down, 100% loss).
double link_cost(const Link& link, const CostModel& model) noexcept;
double node_cost(const Node& node, const CostModel& model) noexcept;
LinkCostBreakdown explain_link(const Link& link, const CostModel& model) noexcept;
// Whether a node may be a transit under the constraints.
bool transit_allowed(const Node& node, const Constraints& constraints) noexcept;

}  // namespace meshgw::routing
