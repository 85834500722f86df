// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_topology.hpp"

#include <algorithm>
#include <stdexcept>

namespace meshgw::api {

using nlohmann::json;

routing::Topology topology_from_state(const json& gateways, const json& links) {
  routing::Topology t;
  try {
    auto add = [&t](const json& g) {
      const std::string status = g.at("status").get<std::string>();
      if (status == "revoked") return;  // never routed through, nor to
      routing::Node n;
      n.id = g.at("id").get<std::string>();
      n.role = routing::role_from_string(g.at("role").get<std::string>()).value_or(routing::Role::edge);
      n.site = g.value("site", "");
      n.region = g.value("region", "");
      const double lat = g.value("latitude", 0.0), lon = g.value("longitude", 0.0);
      if (lat != 0 || lon != 0) {
        n.lat = lat;
        n.lon = lon;
      }
      n.capacity_mbps = g.value("declared_bps", 0.0) / 1e6;
      n.load = std::clamp(g.value("load_permille", 0.0) / 1000.0, 0.0, 1.0);
      n.up = status == "up";
      t.add_node(std::move(n));
    };
    if (gateways.is_object()) {
      for (const auto& [id, g] : gateways.items()) add(g);
    } else {
      for (const auto& g : gateways) add(g);
    }
    for (const json& l : links) {
      const auto src = t.find(l.at("from").get<std::string>());
      const auto dst = t.find(l.at("to").get<std::string>());
      if (!src || !dst) continue;  // an end left or was revoked
      routing::Link link;
      link.src = *src;
      link.dst = *dst;
      link.latency_ms = l.at("rtt_us").get<double>() / 2000.0;  // one way
      link.jitter_ms = l.value("jitter_us", 0.0) / 1000.0;
      link.loss = std::clamp(l.value("loss_ppm", 0.0) / 1e6, 0.0, 1.0);
      link.capacity_mbps = l.value("capacity_bps", 0.0) / 1e6;
      link.utilisation = std::clamp(l.value("utilisation", 0.0), 0.0, 10.0);
      // Every probe lost: the measuring end cannot reach the other one.
      link.up = t.nodes()[*src].up && t.nodes()[*dst].up && l.value("loss_ppm", 0.0) < 1e6;
      t.add_link(link);
    }
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("mesh state: ") + e.what());
  }
  return t;
}

}  // namespace meshgw::api
