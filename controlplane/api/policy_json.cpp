// SPDX-License-Identifier: BSD-3-Clause
#include "policy_json.hpp"

#include <set>

namespace meshgw::api {

using nlohmann::json;
using routing::PolicyRule;

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& what) { throw PolicyJsonError(field, what); }

void only(const json& j, const std::string& where, std::initializer_list<const char*> allowed) {
  for (const auto& [k, v] : j.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) bad(where + k, "unknown field");
  }
}

std::string string_of(const json& v, const std::string& field) {
  if (!v.is_string()) bad(field, "must be a string");
  return v.get<std::string>();
}

std::int64_t integer_of(const json& v, const std::string& field, std::int64_t lo, std::int64_t hi) {
  if (!v.is_number_integer()) bad(field, "must be an integer");
  const auto x = v.get<std::int64_t>();
  if (x < lo || x > hi) bad(field, "must be in " + std::to_string(lo) + ".." + std::to_string(hi));
  return x;
}

std::vector<std::string> strings_of(const json& v, const std::string& field) {
  if (!v.is_array()) bad(field, "must be an array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) out.push_back(string_of(v[i], field + "[" + std::to_string(i) + "]"));
  return out;
}

routing::IpPrefix prefix_of(const json& v, const std::string& field) {
  const auto p = routing::IpPrefix::parse(string_of(v, field));
  if (!p) bad(field, "must be a prefix (a.b.c.d/len or x::/len, no bits set past the length)");
  return *p;
}

routing::PortRange ports_of(const json& v, const std::string& field) {
  if (v.is_number_integer()) {
    const auto p = static_cast<std::uint16_t>(integer_of(v, field, 0, 65535));
    return {p, p};
  }
  const auto r = routing::PortRange::parse(string_of(v, field));
  if (!r) bad(field, "must be PORT or \"LO-HI\" with ports 0..65535 and LO <= HI");
  return *r;
}

PolicyRule rule_of(const json& j, const std::string& where) {
  if (!j.is_object()) bad(where.substr(0, where.size() - 1), "must be an object");
  only(j, where, {"name", "priority", "src", "dst", "protocol", "src_ports", "dst_ports", "dscp", "action", "class",
                  "avoid_roles", "avoid_nodes", "avoid_regions", "min_security", "max_hops", "via", "pinned_path"});
  PolicyRule r;
  if (!j.contains("name")) bad(where + "name", "is required");
  r.name = string_of(j["name"], where + "name");
  if (r.name.empty() || r.name.size() > 128) bad(where + "name", "must be 1..128 characters");
  if (j.contains("priority")) r.priority = static_cast<int>(integer_of(j["priority"], where + "priority", 0, 1'000'000));
  if (j.contains("src")) r.src = prefix_of(j["src"], where + "src");
  if (j.contains("dst")) r.dst = prefix_of(j["dst"], where + "dst");
  if (j.contains("protocol")) {
    const json& p = j["protocol"];
    if (p.is_string()) {
      r.protocol = routing::protocol_from_name(p.get<std::string>());
      if (!r.protocol) bad(where + "protocol", "must be tcp, udp, icmp, icmpv6, sctp or a number 0..255");
    } else {
      r.protocol = static_cast<std::uint8_t>(integer_of(p, where + "protocol", 0, 255));
    }
  }
  if (j.contains("src_ports")) r.src_ports = ports_of(j["src_ports"], where + "src_ports");
  if (j.contains("dst_ports")) r.dst_ports = ports_of(j["dst_ports"], where + "dst_ports");
  if (j.contains("dscp")) {
    const json& d = j["dscp"];
    if (!d.is_array() || d.empty()) bad(where + "dscp", "must be a non-empty array of integers 0..63");
    r.dscp.reset();
    for (std::size_t i = 0; i < d.size(); ++i)
      r.dscp.set(static_cast<std::size_t>(integer_of(d[i], where + "dscp[" + std::to_string(i) + "]", 0, 63)));
  }
  if (j.contains("action")) {
    const std::string a = string_of(j["action"], where + "action");
    if (a == "deny") r.action = routing::PolicyAction::deny;
    else if (a != "route") bad(where + "action", "must be \"route\" or \"deny\"");
  }
  if (j.contains("class")) r.traffic_class = string_of(j["class"], where + "class");
  if (j.contains("avoid_roles")) {
    for (const std::string& role : strings_of(j["avoid_roles"], where + "avoid_roles")) {
      const auto parsed = routing::role_from_string(role);
      if (!parsed) bad(where + "avoid_roles", "'" + role + "' is not core, edge or transit");
      r.constraints.avoid_roles.insert(*parsed);
    }
  }
  if (j.contains("avoid_nodes"))
    for (auto& n : strings_of(j["avoid_nodes"], where + "avoid_nodes")) r.constraints.avoid_nodes.insert(n);
  if (j.contains("avoid_regions"))
    for (auto& n : strings_of(j["avoid_regions"], where + "avoid_regions")) r.constraints.avoid_regions.insert(n);
  if (j.contains("min_security"))
    r.constraints.min_security_level = static_cast<int>(integer_of(j["min_security"], where + "min_security", 0, 1000));
  if (j.contains("max_hops"))
    r.constraints.max_hops = static_cast<int>(integer_of(j["max_hops"], where + "max_hops", 1, 1000));
  if (j.contains("via")) r.constraints.waypoint = string_of(j["via"], where + "via");
  if (j.contains("pinned_path")) r.pinned_path = strings_of(j["pinned_path"], where + "pinned_path");
  return r;
}

}  // namespace

MeshPolicy policy_from_json(const json& doc) {
  if (!doc.is_object()) bad("", "the policy document must be a JSON object");
  only(doc, "", {"edge_transit", "predict", "rules"});
  MeshPolicy p;
  for (auto [field, value] : {std::pair{"edge_transit", &p.edge_transit}, std::pair{"predict", &p.predict}}) {
    if (!doc.contains(field)) continue;
    if (!doc[field].is_boolean()) bad(field, "must be true or false");
    *value = doc[field].get<bool>();
  }
  if (doc.contains("rules")) {
    const json& rules = doc["rules"];
    if (!rules.is_array()) bad("rules", "must be an array of rules");
    if (rules.size() > 100'000) bad("rules", "at most 100000 rules");
    std::set<std::string> names;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const std::string where = "rules[" + std::to_string(i) + "].";
      p.rules.push_back(rule_of(rules[i], where));
      if (!names.insert(p.rules.back().name).second) bad(where + "name", "'" + p.rules.back().name + "' is used twice");
    }
  }
  try {
    routing::PolicyClassifier check(p.rules);  // cross-field rules, naming the rule
  } catch (const std::invalid_argument& e) {
    bad("rules", e.what());
  }
  return p;
}

json policy_to_json(const MeshPolicy& policy) {
  json rules = json::array();
  for (const PolicyRule& r : policy.rules) {
    json j = {{"name", r.name}, {"priority", r.priority}, {"action", r.action == routing::PolicyAction::deny ? "deny" : "route"},
              {"class", r.traffic_class}};
    if (r.src) j["src"] = r.src->to_string();
    if (r.dst) j["dst"] = r.dst->to_string();
    if (r.protocol) j["protocol"] = *r.protocol;
    if (!r.src_ports.any()) j["src_ports"] = r.src_ports.to_string();
    if (!r.dst_ports.any()) j["dst_ports"] = r.dst_ports.to_string();
    if (!r.dscp.all()) {
      json d = json::array();
      for (std::size_t v = 0; v < 64; ++v)
        if (r.dscp.test(v)) d.push_back(v);
      j["dscp"] = d;
    }
    const auto& c = r.constraints;
    if (!c.avoid_roles.empty()) {
      json roles = json::array();
      for (auto role : c.avoid_roles) roles.push_back(routing::to_string(role));
      j["avoid_roles"] = roles;
    }
    if (!c.avoid_nodes.empty()) j["avoid_nodes"] = c.avoid_nodes;
    if (!c.avoid_regions.empty()) j["avoid_regions"] = c.avoid_regions;
    if (c.min_security_level != 0) j["min_security"] = c.min_security_level;
    if (c.max_hops) j["max_hops"] = *c.max_hops;
    if (c.waypoint) j["via"] = *c.waypoint;
    if (!r.pinned_path.empty()) j["pinned_path"] = r.pinned_path;
    rules.push_back(std::move(j));
  }
  return {{"edge_transit", policy.edge_transit}, {"predict", policy.predict}, {"rules", std::move(rules)}};
}

}  // namespace meshgw::api
