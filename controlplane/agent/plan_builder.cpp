// SPDX-License-Identifier: BSD-3-Clause
#include "plan_builder.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <set>

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
                                                 std::vector<RelayProblem>* problems) {
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

routing::ForwardingPlan plan_from_view(const routing::ForwardingPlan& static_plan, const MeshView& view,
                                       const std::string& self, std::vector<RelayProblem>* problems) {
  routing::ForwardingPlan plan = static_plan;
  for (auto& r : relays_from_view(view, self, static_plan, problems)) plan.relays.push_back(r);
  return plan;
}

}  // namespace meshgw::agent
