// SPDX-License-Identifier: BSD-3-Clause
#include "routing/forwarding_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace meshgw::routing {
namespace {

IpPrefix prefix(const char* text) { return IpPrefix::parse(text).value(); }

ForwardingPlan two_gateways() {
  ForwardingPlan p;
  p.gateway_id = "gw-a";
  p.routes = {{prefix("198.51.100.0/24"), "gw-b", "default"}};
  PlanTunnel t;
  t.id = "a-b";
  t.egress = "gw-b";
  t.path = {"gw-a", "gw-b"};
  t.out_spi = 0x1001;
  t.in_spi = 0x2001;
  t.local = {0xc6120001, 4500};
  t.next_hop = {0xc6120002, 4500};
  t.remote_sites = {prefix("198.51.100.0/24")};
  p.tunnels = {t};
  p.active = {{"gw-b", "default", "a-b"}};
  p.relays = {{0x3001, {0xc6120102, 4500}, 0xc6120002}};
  return p;
}

bool has_error(const std::vector<std::string>& errors, const std::string& needle) {
  return std::any_of(errors.begin(), errors.end(),
                     [&](const std::string& e) { return e.find(needle) != std::string::npos; });
}

TEST(ForwardingPlan, ComparesAndDiffsByPiece) {
  const ForwardingPlan a = two_gateways();
  ForwardingPlan b = a;
  EXPECT_EQ(a, b);
  EXPECT_TRUE(diff(a, b).empty());
  b.tunnels.push_back(b.tunnels[0]);
  b.tunnels[1].id = "a-c-b";
  b.tunnels[1].out_spi = 0x1002;
  b.tunnels[1].in_spi = 0x2002;
  EXPECT_EQ(diff(a, b), (PlanDiff{false, true, false, false, false}));
  ForwardingPlan switched = b;
  switched.active[0].tunnel = "a-c-b";
  EXPECT_EQ(diff(b, switched), (PlanDiff{false, false, true, false, false}))
      << "a path switch changes only the active map";
  ForwardingPlan routed = a;
  routed.routes.push_back({prefix("203.0.113.0/24"), "gw-b", "bulk"});
  EXPECT_EQ(diff(a, routed), (PlanDiff{true, false, false, false, false}));
  ForwardingPlan relayed = a;
  relayed.relays[0].expected_prev_hop.reset();
  EXPECT_EQ(diff(a, relayed), (PlanDiff{false, false, false, true, false}));
  ForwardingPlan policed = a;
  PolicyRule deny;
  deny.name = "no-telnet";
  deny.protocol = 6;
  deny.dst_ports = {23, 23};
  deny.action = PolicyAction::deny;
  policed.policies.push_back(deny);
  EXPECT_EQ(diff(a, policed), (PlanDiff{false, false, false, false, true}));
  EXPECT_NE(a, policed);
}

TEST(ForwardingPlan, TrafficClassesStartWithDefault) {
  ForwardingPlan p = two_gateways();
  p.routes.push_back({prefix("203.0.113.0/24"), "gw-b", "realtime"});
  PolicyRule r;
  r.name = "bulk";
  r.traffic_class = "bulk";
  p.policies.push_back(r);
  EXPECT_EQ(traffic_classes(p), (std::vector<std::string>{"default", "bulk", "realtime"}));
}

TEST(ForwardingPlan, ValidPlanHasNoErrors) { EXPECT_TRUE(validate(two_gateways()).empty()); }

TEST(ForwardingPlan, EachRuleHasItsMessage) {
  struct Case {
    const char* what;
    void (*mutate)(ForwardingPlan&);
    const char* message;
  };
  const Case cases[] = {
      {"reserved spi", [](ForwardingPlan& p) { p.tunnels[0].out_spi = 16; },
       "tunnel 'a-b': out_spi 0x00000010 is reserved"},
      {"shared spi", [](ForwardingPlan& p) { p.relays[0].spi = 0x2001; },
       "relay 0x00002001: spi 0x00002001 is already used by tunnel 'a-b' in_spi"},
      {"duplicate id", [](ForwardingPlan& p) {
         p.tunnels.push_back(p.tunnels[0]);
         p.tunnels[1].out_spi = 0x1002;
         p.tunnels[1].in_spi = 0x2002;
       }, "tunnel 'a-b': id is used twice"},
      {"mtu", [](ForwardingPlan& p) { p.tunnels[0].mtu = 100; }, "mtu 100 is outside 576..9000"},
      {"no next hop", [](ForwardingPlan& p) { p.tunnels[0].next_hop.ip = 0; }, "next_hop is not set"},
      {"path start", [](ForwardingPlan& p) { p.tunnels[0].path[0] = "gw-x"; },
       "path starts at 'gw-x', not at this gateway 'gw-a'"},
      {"path end", [](ForwardingPlan& p) { p.tunnels[0].path = {"gw-a", "gw-c"}; },
       "path ends at 'gw-c', not at its egress 'gw-b'"},
      {"loop", [](ForwardingPlan& p) { p.tunnels[0].path = {"gw-a", "gw-c", "gw-a", "gw-b"}; },
       "path visits 'gw-a' twice"},
      {"missing tunnel", [](ForwardingPlan& p) { p.active[0].tunnel = "nope"; },
       "path (gw-b, default): tunnel 'nope' does not exist"},
      {"wrong egress", [](ForwardingPlan& p) { p.active[0].egress = "gw-c"; },
       "path (gw-c, default): tunnel 'a-b' goes to 'gw-b'"},
      {"two actives", [](ForwardingPlan& p) { p.active.push_back(p.active[0]); }, "given twice"},
      {"duplicate route", [](ForwardingPlan& p) { p.routes.push_back(p.routes[0]); },
       "route 198.51.100.0/24: prefix given twice"},
      {"bad policy", [](ForwardingPlan& p) {
         PolicyRule r;
         r.name = "inverted";
         r.dst_ports = {90, 80};
         p.policies.push_back(r);
       }, "policy: "},
  };
  for (const auto& c : cases) {
    ForwardingPlan p = two_gateways();
    c.mutate(p);
    const auto errors = validate(p);
    EXPECT_TRUE(has_error(errors, c.message)) << c.what << ": got "
                                              << (errors.empty() ? "no error" : errors[0]);
  }
}

TEST(IpPrefixContains, MatchesOnlyTheFamilyAndBits) {
  const auto p = prefix("198.51.100.128/25");
  const std::uint8_t in[16] = {198, 51, 100, 200};
  const std::uint8_t out[16] = {198, 51, 100, 127};
  EXPECT_TRUE(p.contains(in, false));
  EXPECT_FALSE(p.contains(out, false));
  EXPECT_FALSE(p.contains(in, true));
  const auto v6 = prefix("fd00:1::/32");
  std::uint8_t a6[16] = {0xfd, 0x00, 0x00, 0x01, 0xff};
  EXPECT_TRUE(v6.contains(a6, true));
  a6[3] = 2;
  EXPECT_FALSE(v6.contains(a6, true));
  EXPECT_TRUE(prefix("0.0.0.0/0").contains(out, false));
}

}  // namespace
}  // namespace meshgw::routing
