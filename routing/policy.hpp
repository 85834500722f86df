// SPDX-License-Identifier: BSD-3-Clause
// Policy-based routing: rules that match a flow (source/destination prefix,
// protocol, port ranges, DSCP) and decide what happens to it (a traffic
// class and path constraints, a pinned path, or deny), compiled into a
// classifier that the data plane can evaluate per packet (no allocation, no
// locks, no exceptions in classify()).
//
// Precedence, total and documented (the first difference decides):
//  1. lower `priority` value;
//  2. longer destination prefix;  3. longer source prefix;
//  4. a rule naming a protocol before one that does not;
//  5. narrower destination port range;  6. narrower source port range;
//  7. fewer DSCP values;
//  8. earlier in the list.
// No matching rule: the default class, no constraints (classify() returns -1).
//
// Classification is a tuple-space search: rules are grouped by (family,
// source prefix length, destination prefix length); each group is a hash
// table keyed by the masked addresses; groups are visited best rank first
// and the search stops when no remaining group can beat the best match.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cost.hpp"

namespace meshgw::routing {

struct IpPrefix {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes
  std::uint8_t length = 0;
  bool v6 = false;

  // "192.0.2.0/24", "fd00::/8", or a bare address (host prefix). nullopt if
  // malformed or if bits beyond the length are set.
  static std::optional<IpPrefix> parse(std::string_view text);
  std::string to_string() const;
  // Whether addr (16 bytes, IPv4 in the first 4) of family v6 lies inside.
  bool contains(const std::uint8_t* addr, bool addr_v6) const noexcept;
  bool operator==(const IpPrefix&) const = default;
};

struct PortRange {
  std::uint16_t lo = 0, hi = 65535;
  // "443" or "1024-2047" (LO <= HI, ports 0..65535); nullopt otherwise.
  static std::optional<PortRange> parse(std::string_view text) noexcept;
  std::string to_string() const;
  bool any() const noexcept { return lo == 0 && hi == 65535; }
  std::uint32_t width() const noexcept { return std::uint32_t{hi} - lo; }
  bool operator==(const PortRange&) const = default;
};

// "tcp" 6, "udp" 17, "icmp" 1, "icmpv6" 58, "sctp" 132; nullopt for other names.
std::optional<std::uint8_t> protocol_from_name(std::string_view name) noexcept;

enum class PolicyAction : std::uint8_t { route, deny };

struct PolicyRule {
  std::string name;
  int priority = 1000;
  std::optional<IpPrefix> src, dst;
  std::optional<std::uint8_t> protocol;
  PortRange src_ports, dst_ports;
  std::bitset<64> dscp = std::bitset<64>().set();  // all values
  PolicyAction action = PolicyAction::route;
  std::string traffic_class = "default";
  Constraints constraints;
  std::vector<std::string> pinned_path;  // gateway ids, source first
  bool operator==(const PolicyRule&) const = default;
};

// What the data plane extracts from a packet.
struct FlowKey {
  bool v6 = false;
  std::array<std::uint8_t, 16> src{}, dst{};
  std::uint8_t protocol = 0;
  std::uint16_t src_port = 0, dst_port = 0;
  std::uint8_t dscp = 0;
};

class PolicyClassifier {
 public:
  PolicyClassifier() = default;
  // Validates every rule (std::invalid_argument naming the rule and field)
  // and compiles them. rules() is then in precedence order.
  explicit PolicyClassifier(std::vector<PolicyRule> rules);

  // Index into rules() of the winning rule, -1 if none matches. Hot path.
  int classify(const FlowKey& flow) const noexcept;
  // The same answer by a linear scan, for tests and tools.
  int classify_linear(const FlowKey& flow) const noexcept;

  const std::vector<PolicyRule>& rules() const noexcept { return rules_; }
  std::size_t group_count() const noexcept { return groups_.size(); }

 private:
  struct Key {
    std::uint64_t s_hi = 0, s_lo = 0, d_hi = 0, d_lo = 0;
    bool operator==(const Key&) const = default;
  };
  struct Slot {
    Key key;
    std::uint32_t first = 0, count = 0;  // range in members_
    bool used = false;
  };
  struct Group {
    bool v6;
    std::uint8_t src_len, dst_len;
    Key mask;
    std::uint32_t min_rank;
    std::vector<Slot> table;  // open addressing, power-of-two size
  };
  static Key key_of(const std::array<std::uint8_t, 16>& s, const std::array<std::uint8_t, 16>& d) noexcept;
  static std::uint64_t hash(const Key& k) noexcept;
  bool matches_rest(const PolicyRule& r, const FlowKey& f) const noexcept;

  std::vector<PolicyRule> rules_;
  std::vector<Group> groups_;
  std::vector<std::uint32_t> members_;  // rule ranks per slot, ascending
};

}  // namespace meshgw::routing
