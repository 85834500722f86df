// SPDX-License-Identifier: BSD-3-Clause
// Relays from the mesh state: one per SPI whose path crosses this gateway,
// next and previous hop by their underlay addresses; SPIs elsewhere, SPIs
// the static plan already relays, and hops without an address left out
// (the last reported). Tunnels, routes and policy: next hops and remote
// sites from the view, routes to other gateways' sites (static prefixes
// win, a contested prefix goes to the smaller id and is reported, revoked
// gateways get none), the mesh policy appended, and a plan that validates.
#include "controlplane/agent/plan_builder.hpp"

#include <gtest/gtest.h>

using namespace meshgw;
using namespace meshgw::agent;
using nlohmann::json;

namespace {

MeshView view_with(json spis, json policy = json::object()) {
  json gws = json::array();
  const char* ids[] = {"gw-1", "gw-2", "gw-3", "gw-4"};
  const char* sites[] = {"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"};
  for (int i = 0; i < 4; ++i)
    gws.push_back({{"id", ids[i]},
                   {"status", i == 3 ? "revoked" : "up"},
                   {"addresses", {"198.18.0." + std::to_string(i + 1) + ":4500"}},
                   {"sites", {sites[i]}}});
  gws.push_back({{"id", "gw-9"}, {"status", "up"}, {"addresses", json::array()}, {"sites", {"192.0.2.0/24"}}});
  MeshView v;
  v.apply({{"epoch", "e"},
           {"version", 1},
           {"snapshot", {{"gateways", gws}, {"links", json::array()}, {"policy", policy}, {"spis", spis}}}});
  return v;
}

json spi(std::uint32_t n, std::vector<std::string> path) {
  json relays = json::array();
  for (std::size_t i = 1; i + 1 < path.size(); ++i)
    relays.push_back({{"gateway", path[i]}, {"prev", path[i - 1]}, {"next", path[i + 1]}});
  return {{"spi", n}, {"path", path}, {"relays", relays}};
}

TEST(PlanBuilder, RelaysForThePathsThatCrossThisGateway) {
  const MeshView v = view_with({spi(0x2001, {"gw-1", "gw-3", "gw-2"}), spi(0x2002, {"gw-2", "gw-3", "gw-1"}),
                                spi(0x2003, {"gw-1", "gw-2"}), spi(0x2004, {"gw-1", "gw-4", "gw-2"})});
  const auto relays = relays_from_view(v, "gw-3", {});
  ASSERT_EQ(relays.size(), 2u);
  EXPECT_EQ(relays[0].spi, 0x2001u);
  EXPECT_EQ(relays[0].next_hop.ip, 0xc6120002u);  // gw-2
  EXPECT_EQ(relays[0].next_hop.port, 4500);
  EXPECT_EQ(relays[0].expected_prev_hop, 0xc6120001u);  // gw-1
  EXPECT_EQ(relays[1].spi, 0x2002u);
  EXPECT_EQ(relays[1].next_hop.ip, 0xc6120001u);
  EXPECT_TRUE(relays_from_view(v, "gw-2", {}).empty());  // an end, not a transit
}

TEST(PlanBuilder, StaticRelaysWinAndMissingAddressesAreReported) {
  const MeshView v = view_with({spi(0x2001, {"gw-1", "gw-3", "gw-2"}), spi(0x3001, {"gw-1", "gw-3", "gw-9"})});
  routing::ForwardingPlan base;
  base.relays.push_back({0x2001, {0x0a000001, 4500}, std::nullopt});
  std::vector<PlanProblem> problems;
  const routing::ForwardingPlan plan = plan_from_view(base, v, "gw-3", &problems);
  ASSERT_EQ(plan.relays.size(), 1u);  // the static one only
  EXPECT_EQ(plan.relays[0].next_hop.ip, 0x0a000001u);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].spi, 0x3001u);
  EXPECT_NE(problems[0].why.find("gw-9"), std::string::npos) << problems[0].why;
  EXPECT_FALSE(underlay_of(v, "gw-9"));
  EXPECT_FALSE(underlay_of(v, "nobody"));
}

TEST(PlanBuilder, TunnelsRoutesAndPolicyFromTheMesh) {
  const json policy = {{"rules", {{{"name", "no-telnet"}, {"priority", 5}, {"protocol", "tcp"}, {"dst_ports", 23},
                                   {"action", "deny"}}}}};
  const MeshView v = view_with({}, policy);
  routing::ForwardingPlan base;
  base.gateway_id = "gw-1";
  base.routes.push_back({*routing::IpPrefix::parse("203.0.113.0/24"), "gw-3", "default"});  // static: wins
  MeshTunnels mt;
  mt.local = {0xc6120001, 4500};
  mt.mtu = 1380;
  ReadyTunnel direct{"t00001001", "gw-2", {"gw-1", "gw-2"}, 0x1001, 0x1002, 0, true, 1, 0, 0};
  ReadyTunnel via3{"t00001003", "gw-2", {"gw-1", "gw-3", "gw-2"}, 0x1003, 0x1004, 0, true, 1, 0, 0};
  ReadyTunnel via9{"t00001005", "gw-2", {"gw-1", "gw-9", "gw-2"}, 0x1005, 0x1006, 0, true, 1, 0, 0};
  mt.tunnels = {direct, via3, via9};
  mt.active = {{"gw-2", "default", "t00001003"}};
  std::vector<PlanProblem> problems;
  const routing::ForwardingPlan plan = plan_from_view(base, v, "gw-1", &problems, &mt);
  EXPECT_TRUE(routing::validate(plan).empty()) << routing::validate(plan).front();
  ASSERT_EQ(plan.tunnels.size(), 2u);  // via gw-9 has no next hop address
  EXPECT_EQ(plan.tunnels[0].next_hop.ip, 0xc6120002u);
  EXPECT_EQ(plan.tunnels[1].next_hop.ip, 0xc6120003u);  // the first transit, not the egress
  EXPECT_EQ(plan.tunnels[1].local.ip, 0xc6120001u);
  EXPECT_EQ(plan.tunnels[1].mtu, 1380);
  ASSERT_EQ(plan.tunnels[1].remote_sites.size(), 1u);
  EXPECT_EQ(plan.tunnels[1].remote_sites[0].to_string(), "198.51.100.0/24");  // the egress's sites
  ASSERT_EQ(plan.active.size(), 1u);
  EXPECT_EQ(plan.active[0].tunnel, "t00001003");
  // Routes: the static one and gw-2's site; not gw-1's own (which gw-9
  // claims too: reported), nor revoked gw-4's.
  std::map<std::string, std::string> routes;
  for (const auto& r : plan.routes) routes[r.prefix.to_string()] = r.egress;
  EXPECT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes["203.0.113.0/24"], "gw-3");
  EXPECT_EQ(routes["198.51.100.0/24"], "gw-2");
  EXPECT_FALSE(routes.contains("192.0.2.0/24"));
  ASSERT_EQ(plan.policies.size(), 1u);
  EXPECT_EQ(plan.policies[0].name, "no-telnet");
  bool reported = false, contested = false;
  for (const auto& p : problems) {
    reported = reported || (p.spi == 0x1005 && p.why.find("gw-9") != std::string::npos);
    contested = contested || (p.spi == 0 && p.why.find("gw-1's") != std::string::npos);
  }
  EXPECT_TRUE(reported);
  EXPECT_TRUE(contested);
  // Without tunnels the builder adds relays only, as before.
  EXPECT_TRUE(plan_from_view(base, v, "gw-1").tunnels.empty());
  EXPECT_EQ(plan_from_view(base, v, "gw-1").routes.size(), 1u);
}

TEST(PlanBuilder, AContestedSiteGoesToTheSmallerIdAndIsReported) {
  const MeshView v = view_with({});
  MeshTunnels mt;
  std::vector<PlanProblem> problems;
  // From gw-2: gw-1 and gw-9 both claim 192.0.2.0/24.
  const routing::ForwardingPlan plan = plan_from_view({}, v, "gw-2", &problems, &mt);
  std::map<std::string, std::string> routes;
  for (const auto& r : plan.routes) routes[r.prefix.to_string()] = r.egress;
  EXPECT_EQ(routes["192.0.2.0/24"], "gw-1");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].why.find("gw-9"), std::string::npos) << problems[0].why;
  EXPECT_TRUE(routing::validate(plan).empty());
}

}  // namespace
