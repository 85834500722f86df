// SPDX-License-Identifier: BSD-3-Clause
// The mesh policy document as JSON (REST body of PUT /v1/policies, and what
// gateways receive): the ACL and policy-based routing rules of
// routing/policy plus mesh-wide transit permissions.
//
// {"edge_transit": false,        may edge gateways relay for others?
//  "predict": true,              do the gateways price forecast link loads
//                                (false: the loads measured now), mesh-wide
//  "rules": [{"name": "voice", "priority": 10, "src": "192.0.2.0/24",
//             "dst": "198.51.100.0/24", "protocol": "udp" | 17,
//             "src_ports": "1024-65535" | 53, "dst_ports": ..., "dscp": [46],
//             "action": "route" | "deny", "class": "realtime",
//             "avoid_roles": ["edge"], "avoid_nodes": [...], "avoid_regions": [...],
//             "min_security": 0, "max_hops": 4, "via": "gw-3",
//             "pinned_path": ["gw-1", "gw-3", "gw-5"]}]}
//
// Parsing is strict: unknown fields, wrong types and values out of range
// throw PolicyJsonError naming the field ("rules[2].dst"); the rules are then
// compiled by routing::PolicyClassifier, whose cross-field checks name the rule.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "routing/policy.hpp"

namespace meshgw::api {

class PolicyJsonError : public std::runtime_error {
 public:
  PolicyJsonError(const std::string& field, const std::string& what) : std::runtime_error(what), field_(field) {}
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

struct MeshPolicy {
  bool edge_transit = false;
  bool predict = true;
  std::vector<routing::PolicyRule> rules;
  bool operator==(const MeshPolicy&) const = default;
};

MeshPolicy policy_from_json(const nlohmann::json& doc);
nlohmann::json policy_to_json(const MeshPolicy& policy);

}  // namespace meshgw::api
