// SPDX-License-Identifier: BSD-3-Clause
// The rte_acl policy against routing's PolicyClassifier, packet by packet:
// random rule sets (prefixes of every length, protocols, port ranges, DSCP
// sets, priorities) and random packets drawn near the rules, both families.
#include "dataplane/policy_acl.hpp"

#include <gtest/gtest.h>

#include <random>

#include "eal_env.hpp"

namespace meshgw::dataplane {
namespace {

using routing::FlowKey;
using routing::IpPrefix;
using routing::PolicyRule;

IpPrefix random_prefix(std::mt19937_64& rng, bool v6) {
  IpPrefix p;
  p.v6 = v6;
  const int bytes = v6 ? 16 : 4;
  for (int i = 0; i < bytes; ++i) p.bytes[i] = static_cast<std::uint8_t>(rng() & (i < 2 ? 0x03 : 0xff));
  p.length = static_cast<std::uint8_t>(rng() % (v6 ? 129 : 33));
  for (int bit = p.length; bit < bytes * 8; ++bit) p.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  return p;
}

std::vector<PolicyRule> random_rules(std::mt19937_64& rng, int n) {
  std::vector<PolicyRule> rules;
  for (int i = 0; i < n; ++i) {
    PolicyRule r;
    r.name = "r";
    r.name += std::to_string(i);
    r.priority = static_cast<int>(rng() % 5) * 100;
    const int family = static_cast<int>(rng() % 3);  // v4, v6, either
    if (family < 2 && rng() % 4 != 0) r.src = random_prefix(rng, family == 1);
    if (family < 2 && (rng() % 4 != 0 || !r.src)) r.dst = random_prefix(rng, family == 1);
    if (rng() % 2) r.protocol = static_cast<std::uint8_t>(rng() % 3 == 0 ? 17 : 6);
    if (r.protocol && rng() % 2) {  // port ranges need TCP or UDP (routing's rule)
      const auto lo = static_cast<std::uint16_t>(rng() % 2000);
      r.dst_ports = {lo, static_cast<std::uint16_t>(lo + rng() % 100)};
    }
    if (r.protocol && rng() % 4 == 0) {
      const auto lo = static_cast<std::uint16_t>(rng() % 2000);
      r.src_ports = {lo, lo};
    }
    if (rng() % 3 == 0) {
      r.dscp.reset();
      for (int k = 0; k < 3; ++k) r.dscp.set(rng() % 64);
    }
    if (rng() % 5 == 0) r.action = routing::PolicyAction::deny;
    rules.push_back(std::move(r));
  }
  return rules;
}

FlowKey random_flow(std::mt19937_64& rng, const std::vector<PolicyRule>& rules) {
  FlowKey f;
  const PolicyRule& near = rules[rng() % rules.size()];
  f.v6 = (near.src && near.src->v6) || (near.dst && near.dst->v6) || (!near.src && !near.dst && rng() % 2);
  const int bytes = f.v6 ? 16 : 4;
  auto fill = [&](std::array<std::uint8_t, 16>& a, const std::optional<IpPrefix>& p) {
    for (int i = 0; i < bytes; ++i) a[i] = static_cast<std::uint8_t>(rng() & (i < 2 ? 0x03 : 0xff));
    if (p && p->v6 == f.v6 && rng() % 4 != 0) {
      for (int bit = 0; bit < p->length; ++bit) {
        const auto m = static_cast<std::uint8_t>(0x80 >> (bit % 8));
        a[bit / 8] = static_cast<std::uint8_t>((a[bit / 8] & ~m) | (p->bytes[bit / 8] & m));
      }
    }
  };
  fill(f.src, near.src);
  fill(f.dst, near.dst);
  f.protocol = static_cast<std::uint8_t>(rng() % 3 == 0 ? 17 : rng() % 2 ? 6 : 1);
  f.src_port = static_cast<std::uint16_t>(rng() % 2100);
  f.dst_port = static_cast<std::uint16_t>(near.dst_ports.any() ? rng() % 2100
                                                               : near.dst_ports.lo + rng() % (near.dst_ports.width() + 3));
  f.dscp = static_cast<std::uint8_t>(rng() % 64);
  return f;
}

class PolicyAclTest : public ::testing::TestWithParam<int> {};

TEST_P(PolicyAclTest, AgreesWithTheClassifierPacketByPacket) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(GetParam()) * 7919);
  const int sizes[] = {5, 20, 200, 3000};
  const routing::PolicyClassifier oracle(random_rules(rng, sizes[GetParam() % 4]));
  const PolicyAcl acl(oracle.rules());
  int matched = 0;
  for (int round = 0; round < 200; ++round) {
    FlowKey flows[32];
    AclKey4 k4[32];
    AclKey6 k6[32];
    const AclKey4* p4[32];
    const AclKey6* p6[32];
    int at4[32], at6[32];
    unsigned n4 = 0, n6 = 0;
    for (int i = 0; i < 32; ++i) {
      flows[i] = random_flow(rng, oracle.rules());
      make_acl_key(flows[i], k4[i], k6[i]);
      if (flows[i].v6) {
        p6[n6] = &k6[i];
        at6[n6++] = i;
      } else {
        p4[n4] = &k4[i];
        at4[n4++] = i;
      }
    }
    std::uint32_t r4[32], r6[32], got[32];
    acl.classify4(p4, r4, n4);
    acl.classify6(p6, r6, n6);
    for (unsigned k = 0; k < n4; ++k) got[at4[k]] = r4[k];
    for (unsigned k = 0; k < n6; ++k) got[at6[k]] = r6[k];
    for (int i = 0; i < 32; ++i) {
      const int want = oracle.classify(flows[i]);
      ASSERT_EQ(static_cast<int>(got[i]) - 1, want) << "round " << round << " packet " << i << " v6 " << flows[i].v6;
      matched += want >= 0;
    }
  }
  EXPECT_GT(matched, 50) << "the packets must exercise the rules, not miss them all";
}

INSTANTIATE_TEST_SUITE_P(RuleSets, PolicyAclTest, ::testing::Range(0, 8));

TEST(PolicyAcl, DeniesTelnetOnly) {
  PolicyRule r;
  r.name = "no-telnet";
  r.protocol = 6;
  r.dst_ports = {23, 23};
  r.action = routing::PolicyAction::deny;
  const PolicyAcl acl({r});
  FlowKey f;
  f.protocol = 6;
  f.dst_port = 23;
  AclKey4 k4;
  AclKey6 k6;
  make_acl_key(f, k4, k6);
  const AclKey4* p = &k4;
  std::uint32_t res = 9;
  acl.classify4(&p, &res, 1);
  EXPECT_EQ(res, 1u);
  f.dst_port = 22;
  make_acl_key(f, k4, k6);
  acl.classify4(&p, &res, 1);
  EXPECT_EQ(res, 0u);
}

}  // namespace
}  // namespace meshgw::dataplane

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new meshgw::dataplane::test::EalEnvironment());
  return RUN_ALL_TESTS();
}
