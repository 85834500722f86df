// SPDX-License-Identifier: BSD-3-Clause
#include "policy_acl.hpp"

#include <arpa/inet.h>
#include <rte_acl.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <stdexcept>

namespace meshgw::dataplane {

namespace {

enum : std::uint8_t { kProto, kDscp, kSrc4, kDst4, kSport4, kDport4, kFields4 };
enum : std::uint8_t { kSrc6 = 2, kDst6 = 6, kSport6 = 10, kDport6 = 11, kFields6 = 12 };

RTE_ACL_RULE_DEF(Rule4, kFields4);
RTE_ACL_RULE_DEF(Rule6, kFields6);

std::uint32_t off4(std::size_t o) { return static_cast<std::uint32_t>(o); }

rte_acl_config config4() {
  rte_acl_config c{};
  c.num_categories = 1;
  c.num_fields = kFields4;
  // The first field must be one byte (rte_acl); the two ports share the
  // last 4-byte input group.
  c.defs[0] = {RTE_ACL_FIELD_TYPE_BITMASK, 1, kProto, 0, off4(offsetof(AclKey4, proto))};
  c.defs[1] = {RTE_ACL_FIELD_TYPE_RANGE, 4, kDscp, 1, off4(offsetof(AclKey4, dscp))};
  c.defs[2] = {RTE_ACL_FIELD_TYPE_MASK, 4, kSrc4, 2, off4(offsetof(AclKey4, src))};
  c.defs[3] = {RTE_ACL_FIELD_TYPE_MASK, 4, kDst4, 3, off4(offsetof(AclKey4, dst))};
  c.defs[4] = {RTE_ACL_FIELD_TYPE_RANGE, 2, kSport4, 4, off4(offsetof(AclKey4, sport))};
  c.defs[5] = {RTE_ACL_FIELD_TYPE_RANGE, 2, kDport4, 4, off4(offsetof(AclKey4, dport))};
  return c;
}

rte_acl_config config6() {
  rte_acl_config c{};
  c.num_categories = 1;
  c.num_fields = kFields6;
  c.defs[0] = {RTE_ACL_FIELD_TYPE_BITMASK, 1, kProto, 0, off4(offsetof(AclKey6, proto))};
  c.defs[1] = {RTE_ACL_FIELD_TYPE_RANGE, 4, kDscp, 1, off4(offsetof(AclKey6, dscp))};
  for (std::uint8_t w = 0; w < 4; ++w) {
    c.defs[2 + w] = {RTE_ACL_FIELD_TYPE_MASK, 4, static_cast<std::uint8_t>(kSrc6 + w),
                     static_cast<std::uint8_t>(2 + w), off4(offsetof(AclKey6, src) + 4u * w)};
    c.defs[6 + w] = {RTE_ACL_FIELD_TYPE_MASK, 4, static_cast<std::uint8_t>(kDst6 + w),
                     static_cast<std::uint8_t>(6 + w), off4(offsetof(AclKey6, dst) + 4u * w)};
  }
  c.defs[10] = {RTE_ACL_FIELD_TYPE_RANGE, 2, kSport6, 10, off4(offsetof(AclKey6, sport))};
  c.defs[11] = {RTE_ACL_FIELD_TYPE_RANGE, 2, kDport6, 10, off4(offsetof(AclKey6, dport))};
  return c;
}

std::string acl_name(const char* family) {
  static std::atomic<std::uint64_t> counter{0};
  return std::string("mgwacl") + family + "_" + std::to_string(counter.fetch_add(1));
}

// Prefix bits of a 32-bit word w (0..3) of a prefix: the mask length for it.
std::uint32_t word_bits(int length, int w) {
  const int bits = length - 32 * w;
  return static_cast<std::uint32_t>(bits <= 0 ? 0 : bits >= 32 ? 32 : bits);
}

std::uint32_t word(const std::array<std::uint8_t, 16>& b, int w) {
  return (std::uint32_t{b[4 * w]} << 24) | (std::uint32_t{b[4 * w + 1]} << 16) |
         (std::uint32_t{b[4 * w + 2]} << 8) | b[4 * w + 3];
}

// Runs of set bits of a DSCP set.
std::vector<std::pair<int, int>> dscp_runs(const std::bitset<64>& set) {
  std::vector<std::pair<int, int>> runs;
  for (int i = 0; i < 64;) {
    if (!set.test(static_cast<std::size_t>(i))) {
      ++i;
      continue;
    }
    int j = i;
    while (j + 1 < 64 && set.test(static_cast<std::size_t>(j + 1))) ++j;
    runs.emplace_back(i, j);
    i = j + 1;
  }
  return runs;
}

template <class Rule>
void common_fields(Rule& r, const routing::PolicyRule& p, std::pair<int, int> dscp, std::uint8_t sport,
                   std::uint8_t dport) {
  r.field[kProto].value.u8 = p.protocol.value_or(0);
  r.field[kProto].mask_range.u8 = p.protocol ? 0xff : 0;
  r.field[kDscp].value.u32 = static_cast<std::uint32_t>(dscp.first);
  r.field[kDscp].mask_range.u32 = static_cast<std::uint32_t>(dscp.second);
  r.field[sport].value.u16 = p.src_ports.lo;
  r.field[sport].mask_range.u16 = p.src_ports.hi;
  r.field[dport].value.u16 = p.dst_ports.lo;
  r.field[dport].mask_range.u16 = p.dst_ports.hi;
}

rte_acl_ctx* build(const char* family, const rte_acl_config& cfg, std::uint32_t rule_size,
                   const std::vector<std::uint8_t>& rules, std::uint32_t count) {
  if (count == 0) return nullptr;
  const std::string name = acl_name(family);
  rte_acl_param param{name.c_str(), SOCKET_ID_ANY, rule_size, count};
  rte_acl_ctx* ctx = rte_acl_create(&param);
  if (ctx == nullptr) throw std::runtime_error(std::string("rte_acl_create: ") + rte_strerror(rte_errno));
  int rc = rte_acl_add_rules(ctx, reinterpret_cast<const rte_acl_rule*>(rules.data()), count);
  if (rc == 0) rc = rte_acl_build(ctx, &cfg);
  // The widest classify method the CPU and the EAL's SIMD limit allow
  // (rte_acl's default stops at AVX2); the others are kept on failure.
  if (rc == 0) {
    for (auto alg : {RTE_ACL_CLASSIFY_AVX512X32, RTE_ACL_CLASSIFY_AVX512X16, RTE_ACL_CLASSIFY_AVX2}) {
      if (rte_acl_set_ctx_classify(ctx, alg) == 0) break;
    }
  }
  if (rc != 0) {
    rte_acl_free(ctx);
    throw std::runtime_error(std::string("rte_acl build of the ") + family + " policy: " + rte_strerror(-rc));
  }
  return ctx;
}

}  // namespace

PolicyAcl::PolicyAcl(const std::vector<routing::PolicyRule>& ranked) {
  std::vector<std::uint8_t> rules4, rules6;
  std::uint32_t n4 = 0, n6 = 0;
  const auto total = static_cast<std::int32_t>(ranked.size());
  for (std::int32_t rank = 0; rank < total; ++rank) {
    const routing::PolicyRule& p = ranked[static_cast<std::size_t>(rank)];
    const bool any_family = !p.src && !p.dst;
    const bool v6 = (p.src && p.src->v6) || (p.dst && p.dst->v6);
    for (const auto& run : dscp_runs(p.dscp)) {
      rte_acl_rule_data data{};
      data.category_mask = 1;
      data.priority = RTE_ACL_MAX_PRIORITY - 1 - rank;  // earlier in precedence wins
      data.userdata = static_cast<std::uint32_t>(rank + 1);
      if (any_family || !v6) {
        Rule4 r{};
        r.data = data;
        common_fields(r, p, run, kSport4, kDport4);
        if (p.src) {
          r.field[kSrc4].value.u32 = word(p.src->bytes, 0);
          r.field[kSrc4].mask_range.u32 = p.src->length;
        }
        if (p.dst) {
          r.field[kDst4].value.u32 = word(p.dst->bytes, 0);
          r.field[kDst4].mask_range.u32 = p.dst->length;
        }
        const auto* b = reinterpret_cast<const std::uint8_t*>(&r);
        rules4.insert(rules4.end(), b, b + sizeof r);
        ++n4;
      }
      if (any_family || v6) {
        Rule6 r{};
        r.data = data;
        common_fields(r, p, run, kSport6, kDport6);
        for (int w = 0; w < 4; ++w) {
          if (p.src) {
            r.field[kSrc6 + w].value.u32 = word(p.src->bytes, w);
            r.field[kSrc6 + w].mask_range.u32 = word_bits(p.src->length, w);
          }
          if (p.dst) {
            r.field[kDst6 + w].value.u32 = word(p.dst->bytes, w);
            r.field[kDst6 + w].mask_range.u32 = word_bits(p.dst->length, w);
          }
        }
        const auto* b = reinterpret_cast<const std::uint8_t*>(&r);
        rules6.insert(rules6.end(), b, b + sizeof r);
        ++n6;
      }
    }
  }
  acl_rules_ = n4 + n6;
  v4_ = build("4", config4(), RTE_ACL_RULE_SZ(kFields4), rules4, n4);
  try {
    v6_ = build("6", config6(), RTE_ACL_RULE_SZ(kFields6), rules6, n6);
  } catch (...) {
    rte_acl_free(v4_);
    throw;
  }
}

std::size_t PolicyAcl::bytes() const noexcept {
  // rte_acl does not export its size; its rule store is max_rule_num *
  // rule_size and its runtime trie about as much again per rule.
  return acl_rules_ * 2 * RTE_ACL_RULE_SZ(kFields6);
}

PolicyAcl::~PolicyAcl() {
  rte_acl_free(v4_);
  rte_acl_free(v6_);
}

void PolicyAcl::classify4(const AclKey4* const* keys, std::uint32_t* results, unsigned n) const noexcept {
  if (v4_ == nullptr) {
    std::memset(results, 0, n * sizeof *results);
    return;
  }
  rte_acl_classify(v4_, reinterpret_cast<const std::uint8_t**>(const_cast<const AclKey4**>(keys)), results, n, 1);
}

void PolicyAcl::classify6(const AclKey6* const* keys, std::uint32_t* results, unsigned n) const noexcept {
  if (v6_ == nullptr) {
    std::memset(results, 0, n * sizeof *results);
    return;
  }
  rte_acl_classify(v6_, reinterpret_cast<const std::uint8_t**>(const_cast<const AclKey6**>(keys)), results, n, 1);
}

void make_acl_key(const routing::FlowKey& f, AclKey4& k4, AclKey6& k6) noexcept {
  const std::uint8_t dscp = static_cast<std::uint8_t>(f.dscp & 63);
  if (!f.v6) {
    k4.proto = f.protocol;
    k4.dscp = htonl(dscp);
    std::memset(k4.pad, 0, sizeof k4.pad);
    std::memcpy(&k4.src, f.src.data(), 4);
    std::memcpy(&k4.dst, f.dst.data(), 4);
    k4.sport = htons(f.src_port);
    k4.dport = htons(f.dst_port);
  } else {
    k6.proto = f.protocol;
    k6.dscp = htonl(dscp);
    std::memset(k6.pad, 0, sizeof k6.pad);
    std::memcpy(k6.src, f.src.data(), 16);
    std::memcpy(k6.dst, f.dst.data(), 16);
    k6.sport = htons(f.src_port);
    k6.dport = htons(f.dst_port);
  }
}

}  // namespace meshgw::dataplane
