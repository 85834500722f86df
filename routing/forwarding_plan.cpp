// SPDX-License-Identifier: BSD-3-Clause
#include "forwarding_plan.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>

namespace meshgw::routing {

PlanDiff diff(const ForwardingPlan& before, const ForwardingPlan& after) {
  PlanDiff d;
  d.routes = before.routes != after.routes;
  d.tunnels = before.tunnels != after.tunnels;
  d.active = before.active != after.active;
  d.relays = before.relays != after.relays;
  d.policies = before.policies != after.policies;
  return d;
}

std::vector<std::string> traffic_classes(const ForwardingPlan& plan) {
  std::set<std::string> names;
  for (const auto& r : plan.routes) names.insert(r.traffic_class);
  for (const auto& a : plan.active) names.insert(a.traffic_class);
  for (const auto& p : plan.policies) names.insert(p.traffic_class);
  names.erase("default");
  std::vector<std::string> out{"default"};
  out.insert(out.end(), names.begin(), names.end());
  return out;
}

std::string spi_text(std::uint32_t spi) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", spi);
  return buf;
}

std::string ipv4_text(std::uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
         std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

namespace {

class Checker {
 public:
  void fail(const std::string& where, const std::string& what) { errors_.push_back(where + ": " + what); }
  void spi(const std::string& where, const char* field, std::uint32_t value) {
    if (value < 256) {
      fail(where, std::string(field) + " " + spi_text(value) + " is reserved (must be >= 256, RFC 4303 2.1)");
      return;
    }
    const auto [it, fresh] = spis_.emplace(value, where + " " + field);
    if (!fresh) fail(where, std::string(field) + " " + spi_text(value) + " is already used by " + it->second);
  }
  std::vector<std::string> take() { return std::move(errors_); }

 private:
  std::vector<std::string> errors_;
  std::map<std::uint32_t, std::string> spis_;
};

void check_tunnel(Checker& c, const ForwardingPlan& plan, const PlanTunnel& t) {
  const std::string where = "tunnel '" + t.id + "'";
  if (t.egress.empty()) c.fail(where, "egress is empty");
  if (t.egress == plan.gateway_id && !t.egress.empty()) c.fail(where, "egress is this gateway");
  c.spi(where, "out_spi", t.out_spi);
  c.spi(where, "in_spi", t.in_spi);
  if (t.mtu < 576 || t.mtu > 9000)
    c.fail(where, "mtu " + std::to_string(t.mtu) + " is outside 576..9000");
  if (t.next_hop.ip == 0) c.fail(where, "next_hop is not set");
  if (t.local.ip == 0) c.fail(where, "local address is not set");
  if (!t.path.empty()) {
    if (t.path.size() < 2) c.fail(where, "path needs at least this gateway and the egress");
    if (!plan.gateway_id.empty() && t.path.front() != plan.gateway_id)
      c.fail(where, "path starts at '" + t.path.front() + "', not at this gateway '" + plan.gateway_id + "'");
    if (t.path.back() != t.egress)
      c.fail(where, "path ends at '" + t.path.back() + "', not at its egress '" + t.egress + "'");
    std::set<std::string> seen;
    for (const auto& hop : t.path) {
      if (!seen.insert(hop).second) c.fail(where, "path visits '" + hop + "' twice");
    }
  }
}

}  // namespace

std::vector<std::string> validate(const ForwardingPlan& plan) {
  return validate(plan, PlanDiff{true, true, true, true, true});
}

std::vector<std::string> validate(const ForwardingPlan& plan, const PlanDiff& changed) {
  Checker c;
  std::map<std::string, const PlanTunnel*> tunnels;
  const bool spis = changed.tunnels || changed.relays;
  for (const auto& t : plan.tunnels) {
    if (!spis && !changed.active) break;
    if (t.id.empty()) {
      c.fail("tunnel to '" + t.egress + "'", "id is empty");
      continue;
    }
    if (!tunnels.emplace(t.id, &t).second) c.fail("tunnel '" + t.id + "'", "id is used twice");
    if (spis) check_tunnel(c, plan, t);
  }
  for (const auto& r : plan.relays) {
    if (!spis) break;
    const std::string where = "relay " + spi_text(r.spi);
    c.spi(where, "spi", r.spi);
    if (r.next_hop.ip == 0) c.fail(where, "next_hop is not set");
  }
  std::set<std::pair<std::string, std::string>> keys;
  for (const auto& a : plan.active) {
    if (!changed.active && !changed.tunnels) break;
    const std::string where = "path (" + a.egress + ", " + a.traffic_class + ")";
    if (!keys.insert({a.egress, a.traffic_class}).second) c.fail(where, "given twice");
    const auto it = tunnels.find(a.tunnel);
    if (it == tunnels.end()) {
      c.fail(where, "tunnel '" + a.tunnel + "' does not exist");
    } else if (it->second->egress != a.egress) {
      c.fail(where, "tunnel '" + a.tunnel + "' goes to '" + it->second->egress + "'");
    }
  }
  std::set<std::pair<std::array<std::uint8_t, 16>, std::pair<int, bool>>> prefixes;
  for (const auto& r : plan.routes) {
    if (!changed.routes) break;
    // The message is built only for a route that fails (100,000 routes).
    if (r.egress.empty()) c.fail("route " + r.prefix.to_string(), "egress is empty");
    if (!prefixes.insert({r.prefix.bytes, {r.prefix.length, r.prefix.v6}}).second)
      c.fail("route " + r.prefix.to_string(), "prefix given twice");
  }
  try {
    if (changed.policies) PolicyClassifier check(plan.policies);
  } catch (const std::invalid_argument& e) {
    c.fail("policy", e.what());
  }
  return c.take();
}

}  // namespace meshgw::routing
