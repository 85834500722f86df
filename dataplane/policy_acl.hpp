// SPDX-License-Identifier: BSD-3-Clause
// routing/policy rules compiled for the workers with DPDK rte_acl: one
// context per address family, built once per policy change on the control
// thread, classified per burst (rte_acl_classify, SIMD, no allocation).
// The answer is the one routing::PolicyClassifier gives (the oracle in the
// tests): the winning rule's index in its precedence order, or -1.
//
// Translation: a rule becomes one ACL rule per contiguous run of its DSCP
// set; ACL priority = rule count - rank, so the earlier rule in routing's
// precedence wins among matches; userdata = rank + 1. A rule that names no
// prefix goes into both families. Keys are built in network byte order, as
// rte_acl reads them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "routing/policy.hpp"

struct rte_acl_ctx;

namespace meshgw::dataplane {

// The bytes rte_acl reads for an IPv4 / IPv6 packet (network order).
// rte_acl takes the first byte alone, then reads groups of 4 bytes that
// fields must fill (a 1- or 2-byte field alone in a group never matches,
// measured): the DSCP is a 32-bit field of its own.
struct alignas(4) AclKey4 {
  std::uint8_t proto, pad[3];
  std::uint32_t dscp;
  std::uint32_t src, dst;
  std::uint16_t sport, dport;
};
struct alignas(4) AclKey6 {
  std::uint8_t proto, pad[3];
  std::uint32_t dscp;
  std::uint8_t src[16], dst[16];
  std::uint16_t sport, dport;
};

class PolicyAcl {
 public:
  PolicyAcl() = default;
  // Throws std::runtime_error with rte_acl's reason (e.g. out of memory).
  explicit PolicyAcl(const std::vector<routing::PolicyRule>& ranked_rules);
  ~PolicyAcl();
  PolicyAcl(const PolicyAcl&) = delete;
  PolicyAcl& operator=(const PolicyAcl&) = delete;

  // Workers: rank of the winning rule + 1 for each key, 0 if none. n <= 64.
  void classify4(const AclKey4* const* keys, std::uint32_t* results, unsigned n) const noexcept;
  void classify6(const AclKey6* const* keys, std::uint32_t* results, unsigned n) const noexcept;

  // Memory of the built tries (rte_acl's own accounting).
  std::size_t bytes() const noexcept;

 private:
  rte_acl_ctx* v4_ = nullptr;
  rte_acl_ctx* v6_ = nullptr;
  std::size_t acl_rules_ = 0;
};

// A FlowKey as the ACL reads it (what the workers build from a packet).
void make_acl_key(const routing::FlowKey& f, AclKey4& k4, AclKey6& k6) noexcept;

}  // namespace meshgw::dataplane
