// SPDX-License-Identifier: BSD-3-Clause
#include "routing/policy.hpp"

#include <gtest/gtest.h>

#include <random>

namespace meshgw::routing {
namespace {

IpPrefix prefix(const char* text) { return IpPrefix::parse(text).value(); }

FlowKey flow(const char* src, const char* dst, std::uint8_t proto = 6, std::uint16_t sport = 40000,
             std::uint16_t dport = 443, std::uint8_t dscp = 0) {
  FlowKey f;
  const IpPrefix s = prefix(src), d = prefix(dst);
  f.v6 = s.v6;
  f.src = s.bytes;
  f.dst = d.bytes;
  f.protocol = proto;
  f.src_port = sport;
  f.dst_port = dport;
  f.dscp = dscp;
  return f;
}

PolicyRule rule(const char* name, int priority) {
  PolicyRule r;
  r.name = name;
  r.priority = priority;
  return r;
}

TEST(IpPrefix, ParsesAndRejects) {
  EXPECT_EQ(prefix("192.0.2.0/24").to_string(), "192.0.2.0/24");
  EXPECT_EQ(prefix("fd00::/8").to_string(), "fd00::/8");
  EXPECT_EQ(prefix("198.51.100.7").length, 32);
  EXPECT_EQ(prefix("fd00::1").length, 128);
  for (const char* bad : {"192.0.2.1/24", "192.0.2.0/33", "fd00::/129", "300.1.1.1", "a/b", "192.0.2.0/", "", "::/-1"})
    EXPECT_FALSE(IpPrefix::parse(bad)) << bad;
}

TEST(Policy, PrecedenceIsAsDocumented) {
  PolicyRule broad = rule("broad", 100);
  broad.dst = prefix("198.51.100.0/24");
  broad.traffic_class = "bulk";
  PolicyRule narrow = rule("narrow", 100);
  narrow.dst = prefix("198.51.100.0/28");
  narrow.traffic_class = "realtime";
  PolicyRule web = rule("web", 100);
  web.dst = prefix("198.51.100.0/28");
  web.protocol = 6;
  web.dst_ports = {443, 443};
  PolicyRule urgent = rule("urgent-deny", 10);
  urgent.src = prefix("192.0.2.66/32");
  urgent.action = PolicyAction::deny;
  PolicyRule ef = rule("ef", 100);
  ef.dst = prefix("198.51.100.0/28");
  ef.protocol = 6;
  ef.dst_ports = {443, 443};
  ef.dscp.reset().set(46);
  ef.traffic_class = "realtime";
  const PolicyClassifier c({broad, narrow, web, urgent, ef});
  auto winner = [&](const FlowKey& f) {
    const int i = c.classify(f);
    EXPECT_EQ(i, c.classify_linear(f));
    return i < 0 ? std::string("none") : c.rules()[static_cast<std::size_t>(i)].name;
  };
  EXPECT_EQ(winner(flow("192.0.2.1", "198.51.100.200")), "broad");
  EXPECT_EQ(winner(flow("192.0.2.1", "198.51.100.5", 17, 1, 53)), "narrow");   // longer prefix
  EXPECT_EQ(winner(flow("192.0.2.1", "198.51.100.5", 6, 1, 443)), "web");     // protocol + ports
  EXPECT_EQ(winner(flow("192.0.2.1", "198.51.100.5", 6, 1, 443, 46)), "ef");  // fewer DSCP values
  EXPECT_EQ(winner(flow("192.0.2.66", "198.51.100.5", 6, 1, 443, 46)), "urgent-deny");  // priority first
  EXPECT_EQ(winner(flow("192.0.2.1", "203.0.113.1")), "none");
  EXPECT_EQ(winner(flow("fd00::1", "fd00::2")), "none");  // IPv4 rules do not match IPv6
}

TEST(Policy, RulesWithoutPrefixesMatchBothFamilies) {
  PolicyRule dns = rule("dns", 5);
  dns.protocol = 17;
  dns.dst_ports = {53, 53};
  const PolicyClassifier c({dns});
  EXPECT_EQ(c.classify(flow("fd00::1", "fd00::2", 17, 1000, 53)), 0);
  EXPECT_EQ(c.classify(flow("192.0.2.1", "198.51.100.1", 17, 1000, 53)), 0);
  EXPECT_EQ(c.classify(flow("192.0.2.1", "198.51.100.1", 6, 1000, 53)), -1);
}

TEST(Policy, InvalidRulesAreRefusedWithTheirName) {
  auto error_of = [](std::vector<PolicyRule> rules) {
    try {
      PolicyClassifier c(std::move(rules));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  PolicyRule ports = rule("p", 1);
  ports.dst_ports = {80, 80};
  EXPECT_EQ(error_of({ports}), "policy rule 'p': port ranges need protocol tcp (6), udp (17) or sctp (132)");
  PolicyRule mixed = rule("m", 1);
  mixed.src = prefix("192.0.2.0/24");
  mixed.dst = prefix("fd00::/8");
  EXPECT_EQ(error_of({mixed}), "policy rule 'm': src and dst prefixes are of different address families");
  EXPECT_EQ(error_of({rule("a", 1), rule("a", 2)}), "policy rule 'a': duplicate name");
  PolicyRule cls = rule("c", 1);
  cls.traffic_class = "gold";
  EXPECT_EQ(error_of({cls}), "policy rule 'c': unknown traffic class 'gold'");
  PolicyRule pin = rule("pin", 1);
  pin.action = PolicyAction::deny;
  pin.pinned_path = {"a", "b"};
  EXPECT_EQ(error_of({pin}), "policy rule 'pin': a deny rule cannot pin a path");
  PolicyRule backwards = rule("b", 1);
  backwards.protocol = 17;
  backwards.src_ports = {10, 5};
  EXPECT_EQ(error_of({backwards}), "policy rule 'b': port range lower bound above upper bound");
  EXPECT_EQ(error_of({rule("", 1)}), "policy rule without a name");
}

// The compiled classifier equals a linear scan in precedence order on
// thousands of random rules and flows.
TEST(Policy, TupleSpaceSearchEqualsLinearScan) {
  std::mt19937_64 rng(12);
  for (int set = 0; set < 20; ++set) {
    std::vector<PolicyRule> rules;
    for (int i = 0; i < 500; ++i) {
      PolicyRule r = rule("", static_cast<int>(rng() % 4) * 100);
      r.name = std::to_string(i);  // (a "r" + ... concatenation trips GCC 12's -Wrestrict false positive)
      const bool v6 = rng() % 5 == 0;
      auto random_prefix = [&](int len) {
        IpPrefix p;
        p.v6 = v6;
        // Few distinct networks so rules overlap.
        p.bytes[0] = v6 ? 0xfd : static_cast<std::uint8_t>(192 + rng() % 2);
        p.bytes[1] = static_cast<std::uint8_t>(rng() % 3);
        p.bytes[2] = static_cast<std::uint8_t>(rng() % 3);
        p.bytes[3] = static_cast<std::uint8_t>(rng() % 4);
        p.length = static_cast<std::uint8_t>(len);
        for (int bit = len; bit < 128; ++bit) p.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
        return p;
      };
      const int lens[] = {0, 8, 16, 24, 32};
      if (rng() % 3) r.dst = random_prefix(lens[rng() % 5]);
      if (rng() % 2) r.src = random_prefix(lens[rng() % 5]);
      if (rng() % 2) {
        r.protocol = rng() % 2 ? 6 : 17;
        if (rng() % 2) {
          const auto lo = static_cast<std::uint16_t>(rng() % 1000);
          r.dst_ports = {lo, static_cast<std::uint16_t>(lo + rng() % 200)};
        }
      }
      if (rng() % 4 == 0) r.dscp.reset().set(rng() % 64);
      rules.push_back(std::move(r));
    }
    const PolicyClassifier c(std::move(rules));
    for (int q = 0; q < 2000; ++q) {
      FlowKey f;
      f.v6 = rng() % 5 == 0;
      for (auto* a : {&f.src, &f.dst}) {
        (*a)[0] = f.v6 ? 0xfd : static_cast<std::uint8_t>(192 + rng() % 2);
        for (int b = 1; b < (f.v6 ? 16 : 4); ++b) (*a)[b] = static_cast<std::uint8_t>(rng() % 4);
      }
      f.protocol = rng() % 2 ? 6 : 17;
      f.dst_port = static_cast<std::uint16_t>(rng() % 1300);
      f.dscp = static_cast<std::uint8_t>(rng() % 64);
      ASSERT_EQ(c.classify(f), c.classify_linear(f)) << "set " << set << " query " << q;
    }
  }
}

}  // namespace
}  // namespace meshgw::routing
