// SPDX-License-Identifier: BSD-3-Clause
// The mesh as the routing engine sees it: gateways (nodes) and directed links
// with their measured and predicted state. A plain value: the controller and
// the agent fill it (from the controller's state, beacons, probes, forecasts;
// meshctl from a topology file) and the solver reads it. Threads: owned by one
// control thread; copy it to hand it to another.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace meshgw::routing {

enum class Role : std::uint8_t { core, edge, transit };

const char* to_string(Role role) noexcept;
std::optional<Role> role_from_string(const std::string& name) noexcept;

using NodeIndex = std::uint32_t;
using LinkIndex = std::uint32_t;
inline constexpr NodeIndex kNoNode = ~NodeIndex{0};

struct Node {
  std::string id;                 // unique gateway id
  Role role = Role::core;
  std::string site;
  std::string region;
  std::optional<double> lat, lon;  // degrees; A* needs both on every node
  double capacity_mbps = 0;       // forwarding capacity, 0 = unknown
  double load = 0;                // 0..1, current CPU/forwarding load
  int security_level = 0;         // higher is more trusted (policy minimum)
  double money_cost = 0;          // per unit of traffic relayed through this node
  bool up = true;
};

struct Link {
  NodeIndex src = kNoNode, dst = kNoNode;
  double capacity_mbps = 0;           // 0 = unknown (no queueing term)
  double latency_ms = 0;              // one-way propagation (or measured RTT/2)
  double jitter_ms = 0;
  double loss = 0;                    // 0..1
  double utilisation = 0;             // 0..1, measured now
  std::optional<double> predicted_utilisation;  // 0..1, from the forecasters
  double money_cost = 0;              // per unit of traffic on this link
  std::optional<double> weight;       // operator-given metric (e.g. IGP weight)
  bool up = true;
};

class Topology {
 public:
  // Throws std::invalid_argument on a duplicate or empty id.
  NodeIndex add_node(Node node);
  // Throws std::invalid_argument on unknown endpoints or invalid numbers.
  LinkIndex add_link(Link link);
  // Adds src->dst and dst->src with the same attributes.
  void add_bidirectional(Link link);

  std::optional<NodeIndex> find(const std::string& id) const;
  const std::vector<Node>& nodes() const noexcept { return nodes_; }
  const std::vector<Link>& links() const noexcept { return links_; }
  // Mutable access counts as a change: the version moves, so a GraphCache
  // (or anyone comparing versions) sees every metric a caller may have set.
  // Throws std::out_of_range for an index past the end.
  Node& node(NodeIndex i) {
    ++version_;
    return nodes_.at(i);
  }
  Link& link(LinkIndex i) {
    ++version_;
    return links_.at(i);
  }
  std::size_t node_count() const noexcept { return nodes_.size(); }
  std::size_t link_count() const noexcept { return links_.size(); }

  // Moves on every change made through this object (adds, mutable access);
  // the CSR cache compares it.
  std::uint64_t version() const noexcept { return version_; }

 private:
  std::uint64_t version_ = 0;
  std::vector<Node> nodes_;
  std::vector<Link> links_;
  std::unordered_map<std::string, NodeIndex> index_;
};

inline constexpr double kDegToRad = 3.14159265358979323846 / 180.0;
inline constexpr double kEarthRadiusKm = 6371.0;

// Haversine on angles already in radians, with the cosines of the latitudes
// given, so a caller that measures many distances computes them once.
double haversine_km(double lat1_rad, double lon1_rad, double cos_lat1, double lat2_rad, double lon2_rad,
                    double cos_lat2) noexcept;

// Great-circle distance in km (haversine, R = 6371 km), degrees in.
double great_circle_km(double lat1, double lon1, double lat2, double lon2) noexcept;

// Propagation speed in fibre, km per ms (about 2/3 c).
inline constexpr double kFibreKmPerMs = 200.0;

}  // namespace meshgw::routing
