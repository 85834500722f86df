// SPDX-License-Identifier: BSD-3-Clause
// The snapshot compiler: plans compiled whole or refused whole, pieces
// reused when their inputs did not change (a path switch keeps the route
// table), lookups through the compiled pieces, SA state kept across swaps.
#include "dataplane/snapshot_compiler.hpp"

#include <gtest/gtest.h>

#include "eal_env.hpp"

namespace meshgw::dataplane {
namespace {

routing::IpPrefix pfx(const char* t) { return routing::IpPrefix::parse(t).value(); }

routing::PlanTunnel tunnel(const char* id, const char* egress, std::uint32_t out, std::uint32_t in,
                           std::uint32_t hop, const char* site) {
  routing::PlanTunnel t;
  t.id = id;
  t.egress = egress;
  t.out_spi = out;
  t.in_spi = in;
  t.local = {0xc6120001, 4500};
  t.next_hop = {hop, 4500};
  t.remote_sites = {pfx(site)};
  return t;
}

routing::ForwardingPlan base_plan() {
  routing::ForwardingPlan p;
  p.gateway_id = "gw-a";
  p.routes = {{pfx("198.51.100.0/24"), "gw-b", "default"},
              {pfx("198.51.100.128/25"), "gw-c", "default"},
              {pfx("fd00:2::/64"), "gw-b", "bulk"}};
  p.tunnels = {tunnel("b1", "gw-b", 0x1001, 0x2001, 0xc6120002, "198.51.100.0/24"),
               tunnel("b2", "gw-b", 0x1002, 0x2002, 0xc6120003, "198.51.100.0/24"),
               tunnel("c", "gw-c", 0x1003, 0x2003, 0xc6120004, "198.51.100.128/25")};
  p.active = {{"gw-b", "default", "b1"}, {"gw-b", "bulk", "b2"}};
  p.relays = {{0x3001, {0xc6120009, 4500}, std::nullopt}};
  return p;
}

class SnapshotCompilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::SaKeyMaterial k;
    k.key.fill(1);
    for (std::uint32_t spi : {0x1001u, 0x1002u, 0x1003u, 0x2001u, 0x2002u, 0x2003u}) store_.add_key(spi, k);
  }
  std::uint32_t route_v4(const Snapshot& s, std::uint32_t ip) {
    std::uint32_t t;
    s.routes->lookup_v4(&ip, &t, 1);
    return t;
  }
  std::string tunnel_for_v4(const Snapshot& s, std::uint32_t ip, std::uint16_t cls = 0) {
    const std::uint32_t t = route_v4(s, ip);
    if (t == kNoEntry) return "no route";
    const auto& target = s.routes->target(t);
    const std::uint32_t tun = s.destinations->lookup(target.egress, cls);
    return tun == kNoEntry ? "no tunnel" : s.tunnels->ids[tun];
  }
  SaStore store_{crypto::Backend::ipsec_mb, 1024};
  SnapshotCompiler compiler_{store_};
};

TEST_F(SnapshotCompilerTest, LookupsFollowThePlan) {
  auto r = compiler_.compile(base_plan(), nullptr);
  ASSERT_TRUE(r.snapshot) << r.errors.front();
  const Snapshot& s = *r.snapshot;
  EXPECT_EQ(tunnel_for_v4(s, 0xc6336405), "b1");    // 198.51.100.5 -> gw-b default
  EXPECT_EQ(tunnel_for_v4(s, 0xc63364c8), "c");     // 198.51.100.200: the longer prefix, gw-c
  EXPECT_EQ(tunnel_for_v4(s, 0xcb007105), "no route");
  std::uint8_t v6[1][16] = {{0xfd, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}};
  std::uint32_t t6;
  s.routes->lookup_v6(v6, &t6, 1);
  ASSERT_NE(t6, kNoEntry);
  const auto& target = s.routes->target(t6);
  EXPECT_EQ(s.routes->egresses()[target.egress], "gw-b");
  EXPECT_EQ(s.routes->classes()[target.traffic_class], "bulk");
  EXPECT_EQ(s.tunnels->ids[s.destinations->lookup(target.egress, target.traffic_class)], "b2");
  // A class without a path of its own falls back to the egress's default.
  EXPECT_EQ(s.tunnels->ids[s.destinations->lookup(s.routes->target(route_v4(s, 0xc63364c8)).egress, 1)], "c");
  ASSERT_NE(s.tunnels->inbound.find(0x2001), nullptr);
  EXPECT_EQ(s.tunnels->inbound.find(0x1001), nullptr) << "outbound SPIs are not inbound";
  EXPECT_NE(s.relays->relays.find(0x3001), nullptr);
}

TEST_F(SnapshotCompilerTest, APathSwitchRebuildsOnlyTheDestinationMap) {
  auto plan = base_plan();
  auto first = compiler_.compile(plan, nullptr);
  ASSERT_TRUE(first.snapshot);
  plan.active[0].tunnel = "b2";
  auto second = compiler_.compile(plan, nullptr);
  ASSERT_TRUE(second.snapshot);
  EXPECT_EQ(second.rebuilt, (routing::PlanDiff{false, false, true, false, false}));
  EXPECT_EQ(second.snapshot->routes, first.snapshot->routes) << "the route table is shared";
  EXPECT_EQ(second.snapshot->tunnels, first.snapshot->tunnels);
  EXPECT_EQ(second.snapshot->relays, first.snapshot->relays);
  EXPECT_EQ(second.snapshot->policy, first.snapshot->policy);
  EXPECT_NE(second.snapshot->destinations, first.snapshot->destinations);
  EXPECT_EQ(tunnel_for_v4(*first.snapshot, 0xc6336405), "b1") << "the old snapshot is unchanged";
  EXPECT_EQ(tunnel_for_v4(*second.snapshot, 0xc6336405), "b2");
  EXPECT_GT(second.snapshot->version, first.snapshot->version);

  auto third = compiler_.switch_path("gw-b", "default", "b1");
  ASSERT_TRUE(third.snapshot);
  EXPECT_EQ(third.snapshot->routes, first.snapshot->routes);
  EXPECT_EQ(tunnel_for_v4(*third.snapshot, 0xc6336405), "b1");
  EXPECT_FALSE(compiler_.switch_path("gw-b", "default", "c").snapshot) << "c goes to gw-c";
  EXPECT_FALSE(compiler_.switch_path("gw-b", "default", "nope").snapshot);
  EXPECT_FALSE(compiler_.switch_path("gw-b", "gold", "b1").snapshot) << "unknown class";
}

TEST_F(SnapshotCompilerTest, ARouteChangeKeepsTheTunnelsAndTheirSas) {
  auto plan = base_plan();
  auto first = compiler_.compile(plan, nullptr);
  ASSERT_TRUE(first.snapshot);
  const crypto::OutboundSa* sa = first.snapshot->tunnels->tunnels[0].sa;
  plan.routes.push_back({pfx("203.0.113.0/24"), "gw-c", "default"});
  auto second = compiler_.compile(plan, nullptr);
  ASSERT_TRUE(second.snapshot);
  EXPECT_NE(second.snapshot->routes, first.snapshot->routes);
  EXPECT_EQ(second.snapshot->tunnels, first.snapshot->tunnels);
  EXPECT_EQ(tunnel_for_v4(*second.snapshot, 0xcb007105), "c");
  // Tunnels rebuilt: the SAs (sequence counters, replay windows) stay the same objects.
  plan.tunnels[2].mtu = 1300;
  auto third = compiler_.compile(plan, nullptr);
  ASSERT_TRUE(third.snapshot);
  EXPECT_NE(third.snapshot->tunnels, second.snapshot->tunnels);
  EXPECT_EQ(third.snapshot->tunnels->tunnels[0].sa, sa);
}

TEST_F(SnapshotCompilerTest, ABadPlanIsRefusedWholeAndTheLastOneStays) {
  auto good = compiler_.compile(base_plan(), nullptr);
  ASSERT_TRUE(good.snapshot);
  auto plan = base_plan();
  plan.tunnels[0].out_spi = 0x7777;  // no key
  plan.routes.push_back({pfx("203.0.113.0/24"), "gw-c", "default"});
  auto bad = compiler_.compile(plan, nullptr);
  EXPECT_FALSE(bad.snapshot);
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0], "tunnel 'b1': no key for out_spi 0x00007777");
  // Rebinding an SPI to another next hop would reuse its sequence numbers'
  // key on a new path: refused.
  plan = base_plan();
  plan.tunnels[0].next_hop.ip = 0xc6120063;
  bad = compiler_.compile(plan, nullptr);
  ASSERT_FALSE(bad.snapshot);
  EXPECT_NE(bad.errors[0].find("out_spi 0x00001001 is bound to 198.18.0.1 -> 198.18.0.2"), std::string::npos)
      << bad.errors[0];
  // The next good plan compiles against the last good one.
  plan = base_plan();
  plan.active[0].tunnel = "b2";
  auto next = compiler_.compile(plan, nullptr);
  ASSERT_TRUE(next.snapshot);
  EXPECT_EQ(next.snapshot->routes, good.snapshot->routes);
}

TEST_F(SnapshotCompilerTest, CounterSlotsAreStablePerTunnel) {
  auto plan = base_plan();
  ASSERT_TRUE(compiler_.compile(plan, nullptr).snapshot);
  const auto slots = compiler_.tunnel_slots();
  std::swap(plan.tunnels[0], plan.tunnels[2]);
  ASSERT_TRUE(compiler_.compile(plan, nullptr).snapshot);
  EXPECT_EQ(compiler_.tunnel_slots(), slots) << "reordering tunnels keeps their counters";
}

}  // namespace
}  // namespace meshgw::dataplane

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new meshgw::dataplane::test::EalEnvironment());
  return RUN_ALL_TESTS();
}
