// SPDX-License-Identifier: BSD-3-Clause
#include "topology.hpp"

#include <cmath>
#include <stdexcept>

namespace meshgw::routing {

const char* to_string(Role role) noexcept {
  switch (role) {
    case Role::core: return "core";
    case Role::edge: return "edge";
    case Role::transit: return "transit";
  }
  return "core";
}

std::optional<Role> role_from_string(const std::string& name) noexcept {
  if (name == "core") return Role::core;
  if (name == "edge") return Role::edge;
  if (name == "transit") return Role::transit;
  return std::nullopt;
}

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

bool finite_nonneg(double v) { return std::isfinite(v) && v >= 0; }

}  // namespace

NodeIndex Topology::add_node(Node node) {
  require(!node.id.empty(), "node id must not be empty");
  require(index_.count(node.id) == 0, "duplicate node id '" + node.id + "'");
  if (node.lat || node.lon) {
    require(node.lat && node.lon, "node '" + node.id + "': lat and lon go together");
    require(std::isfinite(*node.lat) && *node.lat >= -90 && *node.lat <= 90,
            "node '" + node.id + "': lat must be within [-90, 90]");
    require(std::isfinite(*node.lon) && *node.lon >= -180 && *node.lon <= 180,
            "node '" + node.id + "': lon must be within [-180, 180]");
  }
  require(finite_nonneg(node.capacity_mbps), "node '" + node.id + "': capacity must be >= 0");
  require(std::isfinite(node.load) && node.load >= 0 && node.load <= 1,
          "node '" + node.id + "': load must be within [0, 1]");
  require(finite_nonneg(node.money_cost), "node '" + node.id + "': money_cost must be >= 0");
  const auto index = static_cast<NodeIndex>(nodes_.size());
  index_.emplace(node.id, index);
  nodes_.push_back(std::move(node));
  ++version_;
  return index;
}

LinkIndex Topology::add_link(Link link) {
  require(link.src < nodes_.size() && link.dst < nodes_.size(), "link endpoint is not a known node");
  const std::string name = "link " + nodes_[link.src].id + "->" + nodes_[link.dst].id;
  require(finite_nonneg(link.latency_ms), name + ": latency_ms must be a finite number >= 0");
  require(finite_nonneg(link.capacity_mbps), name + ": capacity must be >= 0");
  require(finite_nonneg(link.jitter_ms), name + ": jitter_ms must be >= 0");
  require(std::isfinite(link.loss) && link.loss >= 0 && link.loss <= 1, name + ": loss must be within [0, 1]");
  require(std::isfinite(link.utilisation) && link.utilisation >= 0,
          name + ": utilisation must be >= 0");
  require(!link.predicted_utilisation ||
              (std::isfinite(*link.predicted_utilisation) && *link.predicted_utilisation >= 0),
          name + ": predicted_utilisation must be >= 0");
  require(finite_nonneg(link.money_cost), name + ": money_cost must be >= 0");
  require(!link.weight || finite_nonneg(*link.weight), name + ": weight must be >= 0");
  links_.push_back(link);
  ++version_;
  return static_cast<LinkIndex>(links_.size() - 1);
}

void Topology::add_bidirectional(Link link) {
  add_link(link);
  std::swap(link.src, link.dst);
  add_link(link);
}

std::optional<NodeIndex> Topology::find(const std::string& id) const {
  const auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

double haversine_km(double lat1_rad, double lon1_rad, double cos_lat1, double lat2_rad, double lon2_rad,
                    double cos_lat2) noexcept {
  const double s1 = std::sin((lat2_rad - lat1_rad) / 2), s2 = std::sin((lon2_rad - lon1_rad) / 2);
  const double h = s1 * s1 + cos_lat1 * cos_lat2 * s2 * s2;
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

double great_circle_km(double lat1, double lon1, double lat2, double lon2) noexcept {
  return haversine_km(lat1 * kDegToRad, lon1 * kDegToRad, std::cos(lat1 * kDegToRad), lat2 * kDegToRad,
                      lon2 * kDegToRad, std::cos(lat2 * kDegToRad));
}

}  // namespace meshgw::routing
