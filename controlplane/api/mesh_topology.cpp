// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_topology.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace meshgw::api {

using nlohmann::json;

routing::Topology topology_from_state(const json& gateways, const json& links) {
  routing::Topology t;
  std::set<std::string> behind_nat;
  try {
    auto add = [&t, &behind_nat](const json& g) {
      const std::string status = g.at("status").get<std::string>();
      if (status == "revoked") return;  // never routed through, nor to
      routing::Node n;
      n.id = g.at("id").get<std::string>();
      if (g.value("behind_nat", false)) behind_nat.insert(n.id);
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
    // Nobody can probe a gateway behind a NAT (its NAT drops what it did
    // not ask for), so only its own side of each link is measured. The way
    // back is its NAT's mapping, which its keepalives hold open: the link
    // it measured, reversed, unless the other side measured one too.
    const std::size_t measured = t.link_count();
    for (routing::LinkIndex l = 0; l < measured; ++l) {
      const routing::Link link = t.links()[l];
      if (!behind_nat.contains(t.nodes()[link.src].id)) continue;
      bool reverse_known = false;
      for (routing::LinkIndex k = 0; k < measured && !reverse_known; ++k)
        reverse_known = t.links()[k].src == link.dst && t.links()[k].dst == link.src;
      if (reverse_known) continue;
      routing::Link back = link;
      std::swap(back.src, back.dst);
      back.utilisation = 0;  // the other direction's load is not this one's
      t.add_link(back);
    }
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("mesh state: ") + e.what());
  }
  return t;
}

}  // namespace meshgw::api
