// SPDX-License-Identifier: BSD-3-Clause
#include "policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

namespace meshgw::routing {

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  IpPrefix p;
  std::string addr(text);
  std::optional<int> len;
  if (const auto slash = addr.find('/'); slash != std::string::npos) {
    const std::string digits = addr.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    len = std::stoi(digits);
    addr.resize(slash);
  }
  if (addr.find(':') != std::string::npos) {
    p.v6 = true;
    if (inet_pton(AF_INET6, addr.c_str(), p.bytes.data()) != 1) return std::nullopt;
  } else if (inet_pton(AF_INET, addr.c_str(), p.bytes.data()) != 1) {
    return std::nullopt;
  }
  const int max = p.v6 ? 128 : 32;
  if (len.value_or(max) > max) return std::nullopt;
  p.length = static_cast<std::uint8_t>(len.value_or(max));
  for (int bit = p.length; bit < max; ++bit)
    if (p.bytes[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;  // host bits set
  return p;
}

bool IpPrefix::contains(const std::uint8_t* addr, bool addr_v6) const noexcept {
  if (addr_v6 != v6) return false;
  const unsigned full = length / 8, rest = length % 8;
  for (unsigned i = 0; i < full; ++i) {
    if (addr[i] != bytes[i]) return false;
  }
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff00u >> rest);
  return (addr[full] & mask) == bytes[full];
}

std::optional<PortRange> PortRange::parse(std::string_view text) noexcept {
  const auto dash = text.find('-');
  const std::string_view lo_text = text.substr(0, dash);
  const std::string_view hi_text = dash == std::string_view::npos ? lo_text : text.substr(dash + 1);
  auto number = [](std::string_view s) -> std::optional<std::uint32_t> {
    if (s.empty() || s.size() > 5) return std::nullopt;
    std::uint32_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<std::uint32_t>(c - '0');
    }
    return v;
  };
  const auto lo = number(lo_text), hi = number(hi_text);
  if (!lo || !hi || *hi > 65535 || *lo > *hi) return std::nullopt;
  return PortRange{static_cast<std::uint16_t>(*lo), static_cast<std::uint16_t>(*hi)};
}

std::string PortRange::to_string() const {
  return lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
}

std::optional<std::uint8_t> protocol_from_name(std::string_view name) noexcept {
  if (name == "tcp") return 6;
  if (name == "udp") return 17;
  if (name == "icmp") return 1;
  if (name == "icmpv6") return 58;
  if (name == "sctp") return 132;
  return std::nullopt;
}

std::string IpPrefix::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(length);
}

namespace {

std::uint64_t load64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

std::uint64_t prefix_mask(int len) noexcept {
  if (len <= 0) return 0;
  if (len >= 64) return ~0ull;
  return ~0ull << (64 - len);
}

void validate(const PolicyRule& r, std::set<std::string>& names) {
  const std::string who = "policy rule '" + r.name + "': ";
  if (r.name.empty()) throw std::invalid_argument("policy rule without a name");
  if (!names.insert(r.name).second) throw std::invalid_argument(who + "duplicate name");
  if (r.priority < 0 || r.priority > 65535) throw std::invalid_argument(who + "priority must be within [0, 65535]");
  if (r.src && r.dst && r.src->v6 != r.dst->v6)
    throw std::invalid_argument(who + "src and dst prefixes are of different address families");
  if (r.src_ports.lo > r.src_ports.hi || r.dst_ports.lo > r.dst_ports.hi)
    throw std::invalid_argument(who + "port range lower bound above upper bound");
  const bool ports = !r.src_ports.any() || !r.dst_ports.any();
  if (ports && !(r.protocol && (*r.protocol == 6 || *r.protocol == 17 || *r.protocol == 132)))
    throw std::invalid_argument(who + "port ranges need protocol tcp (6), udp (17) or sctp (132)");
  if (r.dscp.none()) throw std::invalid_argument(who + "empty DSCP set matches nothing");
  if (r.action == PolicyAction::route && !r.pinned_path.empty() && r.pinned_path.size() < 2)
    throw std::invalid_argument(who + "a pinned path needs at least two gateways");
  if (r.action == PolicyAction::deny && !r.pinned_path.empty())
    throw std::invalid_argument(who + "a deny rule cannot pin a path");
  if (r.action == PolicyAction::route && !class_weights(r.traffic_class))
    throw std::invalid_argument(who + "unknown traffic class '" + r.traffic_class + "'");
}

// Sort key for the documented precedence.
auto precedence(const PolicyRule& r, std::size_t order) {
  return std::make_tuple(r.priority, -(r.dst ? r.dst->length : -1), -(r.src ? r.src->length : -1),
                         r.protocol ? 0 : 1, r.dst_ports.width(), r.src_ports.width(), r.dscp.count(), order);
}

}  // namespace

PolicyClassifier::Key PolicyClassifier::key_of(const std::array<std::uint8_t, 16>& s,
                                               const std::array<std::uint8_t, 16>& d) noexcept {
  return {load64(s.data()), load64(s.data() + 8), load64(d.data()), load64(d.data() + 8)};
}

std::uint64_t PolicyClassifier::hash(const Key& k) noexcept {
  auto mix = [](std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
  };
  std::uint64_t h = mix(mix(mix(mix(0, k.s_hi), k.s_lo), k.d_hi), k.d_lo);
  return h ^ (h >> 33);
}

PolicyClassifier::PolicyClassifier(std::vector<PolicyRule> rules) {
  std::set<std::string> names;
  for (const PolicyRule& r : rules) validate(r, names);
  std::vector<std::size_t> order(rules.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return precedence(rules[a], a) < precedence(rules[b], b);
  });
  for (std::size_t i : order) rules_.push_back(std::move(rules[i]));

  // Group rules by (family, src length, dst length); a rule with neither
  // prefix matches both families.
  std::map<std::tuple<bool, int, int>, std::map<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t>,
                                                   std::vector<std::uint32_t>>>
      grouped;
  for (std::uint32_t rank = 0; rank < rules_.size(); ++rank) {
    const PolicyRule& r = rules_[rank];
    std::vector<bool> families;
    if (r.src) families = {r.src->v6};
    else if (r.dst) families = {r.dst->v6};
    else families = {false, true};
    for (bool v6 : families) {
      const std::array<std::uint8_t, 16> zero{};
      const Key k = key_of(r.src ? r.src->bytes : zero, r.dst ? r.dst->bytes : zero);
      grouped[{v6, r.src ? r.src->length : 0, r.dst ? r.dst->length : 0}][{k.s_hi, k.s_lo, k.d_hi, k.d_lo}].push_back(rank);
    }
  }
  for (const auto& [shape, buckets] : grouped) {
    Group g;
    g.v6 = std::get<0>(shape);
    g.src_len = static_cast<std::uint8_t>(std::get<1>(shape));
    g.dst_len = static_cast<std::uint8_t>(std::get<2>(shape));
    g.mask = {prefix_mask(g.src_len), prefix_mask(g.src_len - 64), prefix_mask(g.dst_len),
              prefix_mask(g.dst_len - 64)};
    g.min_rank = ~0u;
    std::size_t size = 16;
    while (size < buckets.size() * 2) size *= 2;
    g.table.assign(size, Slot{});
    for (const auto& [kt, ranks] : buckets) {
      const Key k{std::get<0>(kt), std::get<1>(kt), std::get<2>(kt), std::get<3>(kt)};
      std::size_t i = hash(k) & (size - 1);
      while (g.table[i].used) i = (i + 1) & (size - 1);
      g.table[i] = {k, static_cast<std::uint32_t>(members_.size()), static_cast<std::uint32_t>(ranks.size()), true};
      members_.insert(members_.end(), ranks.begin(), ranks.end());  // ascending: inserted in rank order
      g.min_rank = std::min(g.min_rank, ranks.front());
    }
    groups_.push_back(std::move(g));
  }
  std::sort(groups_.begin(), groups_.end(), [](const Group& a, const Group& b) { return a.min_rank < b.min_rank; });
}

bool PolicyClassifier::matches_rest(const PolicyRule& r, const FlowKey& f) const noexcept {
  if (r.protocol && *r.protocol != f.protocol) return false;
  if (f.src_port < r.src_ports.lo || f.src_port > r.src_ports.hi) return false;
  if (f.dst_port < r.dst_ports.lo || f.dst_port > r.dst_ports.hi) return false;
  return r.dscp.test(f.dscp & 63);
}

int PolicyClassifier::classify(const FlowKey& f) const noexcept {
  std::uint32_t best = ~0u;
  const Key raw = key_of(f.src, f.dst);
  for (const Group& g : groups_) {
    if (g.min_rank >= best) break;  // sorted: nothing further can win
    if (g.v6 != f.v6) continue;
    const Key k{raw.s_hi & g.mask.s_hi, raw.s_lo & g.mask.s_lo, raw.d_hi & g.mask.d_hi, raw.d_lo & g.mask.d_lo};
    const std::size_t size_mask = g.table.size() - 1;
    for (std::size_t i = hash(k) & size_mask; g.table[i].used; i = (i + 1) & size_mask) {
      const Slot& s = g.table[i];
      if (!(s.key == k)) continue;
      for (std::uint32_t m = s.first; m < s.first + s.count && members_[m] < best; ++m) {
        if (matches_rest(rules_[members_[m]], f)) {
          best = members_[m];
          break;
        }
      }
      break;
    }
  }
  return best == ~0u ? -1 : static_cast<int>(best);
}

int PolicyClassifier::classify_linear(const FlowKey& f) const noexcept {
  auto in = [&](const std::optional<IpPrefix>& p, const std::array<std::uint8_t, 16>& a) {
    if (!p) return true;
    if (p->v6 != f.v6) return false;
    for (int bit = 0; bit < p->length; ++bit) {
      const std::uint8_t m = static_cast<std::uint8_t>(0x80 >> (bit % 8));
      if ((p->bytes[bit / 8] & m) != (a[bit / 8] & m)) return false;
    }
    return true;
  };
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const PolicyRule& r = rules_[i];
    if (in(r.src, f.src) && in(r.dst, f.dst) && matches_rest(r, f)) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace meshgw::routing
