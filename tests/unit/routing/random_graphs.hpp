// SPDX-License-Identifier: BSD-3-Clause
// Random topologies for property tests: geometric graphs on a patch of the
// globe (so A* has a real bound) with link costs either tied to distance or
// arbitrary.
#pragma once

#include <random>
#include <string>

#include "routing/topology.hpp"

namespace meshgw::routing::test {

struct RandomGraphSpec {
  std::uint32_t nodes = 50;
  std::uint32_t links = 150;       // directed links
  bool latency_from_distance = true;  // else arbitrary latencies in [0, 50)
  bool with_state = false;            // loss, utilisation, load, security...
  double zero_latency_fraction = 0.0;
};

inline Topology random_topology(const RandomGraphSpec& spec, std::mt19937_64& rng) {
  Topology t;
  std::uniform_real_distribution<double> lat(30, 60), lon(-10, 30), unit(0, 1);
  for (std::uint32_t i = 0; i < spec.nodes; ++i) {
    Node n;
    // Appends, not operator+: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
    n.id = "n";
    n.id += std::to_string((i * 7919u) % 100000u);
    n.id += '-';
    n.id += std::to_string(i);
    n.lat = lat(rng);
    n.lon = lon(rng);
    if (spec.with_state) {
      n.role = static_cast<Role>(rng() % 3);
      n.load = unit(rng) * 0.9;
      n.security_level = static_cast<int>(rng() % 6);
      n.money_cost = unit(rng) * 3;
      n.region = rng() % 4 == 0 ? "eu-north" : "eu-west";
    }
    t.add_node(std::move(n));
  }
  for (std::uint32_t i = 0; i < spec.links; ++i) {
    Link l;
    l.src = static_cast<NodeIndex>(rng() % spec.nodes);
    l.dst = static_cast<NodeIndex>(rng() % spec.nodes);
    const Node& a = t.nodes()[l.src];
    const Node& b = t.nodes()[l.dst];
    const double km = great_circle_km(*a.lat, *a.lon, *b.lat, *b.lon);
    l.latency_ms = spec.latency_from_distance ? km / kFibreKmPerMs * (1.0 + unit(rng)) : unit(rng) * 50;
    if (unit(rng) < spec.zero_latency_fraction) l.latency_ms = 0;
    if (spec.with_state) {
      l.capacity_mbps = 100 + unit(rng) * 10000;
      l.utilisation = unit(rng);
      l.predicted_utilisation = unit(rng) * 1.1;
      l.loss = unit(rng) < 0.2 ? unit(rng) * 0.05 : 0;
      l.jitter_ms = unit(rng) * 5;
      l.money_cost = unit(rng);
      l.up = unit(rng) > 0.05;
    }
    t.add_link(l);
  }
  return t;
}

}  // namespace meshgw::routing::test
