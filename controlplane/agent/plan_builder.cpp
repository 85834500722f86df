// SPDX-License-Identifier: BSD-3-Clause
#include "plan_builder.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "controlplane/api/policy_json.hpp"

namespace meshgw::agent {

using nlohmann::json;

std::optional<routing::UnderlayEndpoint> underlay_of(const MeshView& view, const std::string& gateway) {
  const auto it = view.gateways().find(gateway);
  if (it == view.gateways().end()) return std::nullopt;
  for (const auto& a : it->value("addresses", json::array())) {
    if (!a.is_string()) continue;
    const std::string text = a.get<std::string>();
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) continue;
    in_addr ip{};
    if (inet_pton(AF_INET, text.substr(0, colon).c_str(), &ip) != 1) continue;
    const std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) continue;
    const unsigned long p = std::stoul(port);
    if (p == 0 || p > 65535) continue;
    return routing::UnderlayEndpoint{ntohl(ip.s_addr), static_cast<std::uint16_t>(p)};
  }
  return std::nullopt;
}

std::vector<routing::PlanRelay> relays_from_view(const MeshView& view, const std::string& self,
                                                 const routing::ForwardingPlan& static_plan,
                                                 std::vector<PlanProblem>* problems) {
  std::set<std::uint32_t> static_spis;
  for (const auto& r : static_plan.relays) static_spis.insert(r.spi);
  std::vector<routing::PlanRelay> out;
  for (const auto& [key, s] : view.spis().items()) {
    const auto spi = s.value("spi", std::uint64_t{0});
    if (spi < 256 || spi > 0xffffffffu || static_spis.contains(static_cast<std::uint32_t>(spi))) continue;
    for (const auto& r : s.value("relays", json::array())) {
      if (r.value("gateway", "") != self) continue;
      const auto next = underlay_of(view, r.value("next", ""));
      const auto prev = underlay_of(view, r.value("prev", ""));
      if (!next || !prev) {
        if (problems != nullptr)
          problems->push_back({static_cast<std::uint32_t>(spi),
                               "gateway " + r.value(next ? "prev" : "next", std::string("?")) +
                                   " has no IPv4 underlay address in the mesh state"});
        continue;
      }
      out.push_back({static_cast<std::uint32_t>(spi), *next, prev->ip});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.spi < b.spi; });
  return out;
}

namespace {

void add_tunnels(routing::ForwardingPlan& plan, const MeshView& view, const MeshTunnels& mt,
                 std::vector<PlanProblem>* problems) {
  std::set<std::string> left_out;
  for (const ReadyTunnel& t : mt.tunnels) {
    // The endpoint the SA was made for, else where the view puts the hop.
    const auto next = t.next_hop.ip != 0 ? std::optional<routing::UnderlayEndpoint>(t.next_hop)
                      : t.path.size() >= 2 ? underlay_of(view, t.path[1])
                                           : std::nullopt;
    if (!next) {
      if (problems != nullptr)
        problems->push_back({t.out_spi, "tunnel " + t.id + ": next hop " + (t.path.size() >= 2 ? t.path[1] : "?") +
                                            " has no IPv4 underlay address in the mesh state"});
      left_out.insert(t.id);
      continue;
    }
    routing::PlanTunnel pt;
    pt.id = t.id;
    pt.egress = t.egress;
    pt.path = t.path;
    pt.out_spi = t.out_spi;
    pt.in_spi = t.in_spi;
    pt.local = mt.local;
    pt.next_hop = *next;
    pt.mtu = mt.mtu;
    pt.key_generation = t.key_generation;
    if (const auto g = view.gateways().find(t.egress); g != view.gateways().end())
      for (const auto& s : g->value("sites", json::array()))
        if (s.is_string())
          if (const auto p = routing::IpPrefix::parse(s.get<std::string>())) pt.remote_sites.push_back(*p);
    plan.tunnels.push_back(std::move(pt));
  }
  for (const auto& a : mt.active)
    if (!left_out.contains(a.tunnel)) plan.active.push_back(a);
}

void add_routes(routing::ForwardingPlan& plan, const MeshView& view, const std::string& self,
                std::vector<PlanProblem>* problems) {
  std::map<routing::IpPrefix, std::string, bool (*)(const routing::IpPrefix&, const routing::IpPrefix&)> claimed(
      [](const routing::IpPrefix& a, const routing::IpPrefix& b) {
        return std::tie(a.v6, a.bytes, a.length) < std::tie(b.v6, b.bytes, b.length);
      });
  for (const auto& r : plan.routes) claimed.emplace(r.prefix, "");
  // This gateway's own sites are never routed into the mesh.
  if (const auto me = view.gateways().find(self); me != view.gateways().end())
    for (const auto& s : me->value("sites", json::array()))
      if (s.is_string())
        if (const auto p = routing::IpPrefix::parse(s.get<std::string>())) claimed.emplace(*p, self);
  for (const auto& [id, g] : view.gateways().items()) {  // sorted by id
    if (id == self || g.value("status", "") == "revoked") continue;
    for (const auto& s : g.value("sites", json::array())) {
      if (!s.is_string()) continue;
      const auto p = routing::IpPrefix::parse(s.get<std::string>());
      if (!p) continue;
      const auto [it, fresh] = claimed.emplace(*p, id);
      if (!fresh) {
        if (problems != nullptr && !it->second.empty())
          problems->push_back({0, "site " + s.get<std::string>() + " of " + id + " is also " + it->second +
                                      "'s: routed to " + it->second});
        continue;
      }
      plan.routes.push_back({*p, id, "default"});
    }
  }
}

}  // namespace

routing::ForwardingPlan plan_from_view(const routing::ForwardingPlan& static_plan, const MeshView& view,
                                       const std::string& self, std::vector<PlanProblem>* problems,
                                       const MeshTunnels* tunnels) {
  routing::ForwardingPlan plan = static_plan;
  for (auto& r : relays_from_view(view, self, static_plan, problems)) plan.relays.push_back(r);
  if (tunnels == nullptr) return plan;
  add_tunnels(plan, view, *tunnels, problems);
  add_routes(plan, view, self, problems);
  if (!view.policy().empty()) {
    try {
      for (auto& rule : api::policy_from_json(view.policy()).rules) plan.policies.push_back(std::move(rule));
    } catch (const std::exception& e) {
      if (problems != nullptr) problems->push_back({0, std::string("mesh policy not applied: ") + e.what()});
    }
  }
  return plan;
}

}  // namespace meshgw::agent
