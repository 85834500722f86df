// SPDX-License-Identifier: BSD-3-Clause
// Topology files: the JSON interchange format of ../shared/data (nodes with
// id/lat/lon, undirected links with src/dst/capacity/latency_ms), extended
// with the mesh's own optional fields. Control path; throws TopologyError
// whose message names the file and the line or the field.
//
// {"directed": false,                       optional, default false
//  "nodes": [{"id": "gw1",                  string (a number is taken as its text)
//             "lat": 52.5, "lon": 13.4,     optional, together
//             "role": "core|edge|transit", "site": "", "region": "",
//             "capacity": Mbit/s, "load": 0..1, "security_level": int,
//             "money_cost": >= 0, "up": true}],
//  "links": [{"src": "gw1", "dst": "gw2",
//             "latency_ms": >= 0,           required unless both ends have coordinates
//                                           (then great-circle km / 200 km/ms)
//             "capacity": Mbit/s or null, "jitter_ms", "loss": 0..1,
//             "utilisation", "predicted_utilisation" (fractions of capacity, 0..10),
//             "money_cost", "weight", "up"}]}
// Other fields are ignored. Undirected links become two directed links.
#pragma once

#include <stdexcept>
#include <string>

#include "routing/topology.hpp"

namespace meshgw::common {

class TopologyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

routing::Topology parse_topology_json(const std::string& text, const std::string& source_name);
routing::Topology load_topology_json(const std::string& path);

}  // namespace meshgw::common
