// SPDX-License-Identifier: BSD-3-Clause
// The agent's path choice: for every other gateway of the mesh (egress) and
// every traffic class, the k best loopless paths (Yen) under the class's
// cost weights and the mesh policy (an edge gateway is a transit only when
// the policy allows it), handed to routing::PathSelector for hysteresis and
// per-gateway hold jitter, which keeps a primary and link-disjoint-first
// backups. The current primary is re-priced and offered each time while it
// is still usable, as the selector expects. explain() says why: each link's
// cost terms, the hysteresis state, and every alternative with its cost and
// the reason it is not the primary. Pure (the topology and time are passed
// in); one thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "routing/path_selector.hpp"
#include "routing/topology.hpp"

namespace meshgw::agent {

struct PlannerConfig {
  std::string self;                         // this gateway's id
  std::vector<std::string> classes = {"default"};
  std::size_t candidates = 4;               // Yen's k
  routing::SelectorConfig selector;
  bool edge_transit = false;                // from the mesh policy
};

struct PlannedRoute {
  std::string egress;
  std::string traffic_class;
  routing::Selection selection;
};

class PathPlanner {
 public:
  // Throws std::invalid_argument for an unknown traffic class.
  explicit PathPlanner(PlannerConfig config);

  // Recomputes every (egress, class) over topo at now_ns. Returns the routes
  // whose primary moved (or appeared or went). Destinations that left the
  // mesh are forgotten.
  std::vector<PlannedRoute> plan(const routing::Topology& topo, std::uint64_t now_ns);
  void set_edge_transit(bool allowed) noexcept { config_.edge_transit = allowed; }
  // What this gateway sends to each egress now (Mbit/s, all classes): the
  // candidates other than the primary are priced with it on their links
  // (routing::CandidateQuery::own_mbps).
  void set_own_rates(std::map<std::string, double> mbps_by_egress) { own_mbps_ = std::move(mbps_by_egress); }

  // The last selection per (egress, class).
  const std::map<std::pair<std::string, std::string>, routing::Selection>& routes() const noexcept { return routes_; }

  // Why traffic to egress in class takes its path: {"from", "to", "class",
  // "primary": {"nodes", "cost", "links": [cost terms]}, "hysteresis": {...},
  // "alternatives": [{"nodes", "cost", "verdict"}], "excluded": [{"gateway", "reason"}]}.
  nlohmann::json explain(const routing::Topology& topo, const std::string& egress, const std::string& traffic_class,
                         std::uint64_t now_ns) const;

 private:
  std::vector<routing::NamedPath> candidates(const routing::Topology& topo, const std::string& egress,
                                             const std::string& traffic_class) const;
  PlannerConfig config_;
  routing::PathSelector selector_;
  std::map<std::pair<std::string, std::string>, routing::Selection> routes_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> pending_since_;
  std::map<std::string, double> own_mbps_;
};

}  // namespace meshgw::agent
