// SPDX-License-Identifier: BSD-3-Clause
// The immutable Snapshot the workers forward by, and its pieces. Each piece
// is built whole by the snapshot compiler on the control thread, never
// changed after, and shared between snapshots through shared_ptr: a path
// switch makes a new DestinationMap and reuses the RouteTable of 100,000
// routes as it is. Workers read a snapshot through plain pointers (get()),
// never touching a reference count; the publisher frees a retired snapshot
// only after every worker has passed a quiescent state (publisher.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crypto/esp.hpp"
#include "policy_acl.hpp"
#include "routing/policy.hpp"
#include "spi_map.hpp"

struct rte_fib;
struct rte_fib6;

namespace meshgw::dataplane {

inline constexpr std::uint32_t kNoEntry = 0xffffffffu;
inline constexpr std::size_t kMaxTunnelSlots = 4096;  // per-tunnel counters per worker

// Site prefix -> (egress, traffic class), by rte_fib (DIR-24-8) and rte_fib6
// (trie), with next hops of 1 or 2 bytes: a target index. rte_fib, not
// rte_lpm: rte_lpm's tbl24 always holds 4-byte entries (64 MiB), a 2-byte
// rte_fib half of that, a 1-byte one a quarter; and rte_lpm's RCU hook is not
// needed, as the whole table is swapped, never edited under the workers.
class RouteTable {
 public:
  struct Target {
    std::uint16_t egress;         // index into egresses
    std::uint16_t traffic_class;  // index into the plan's traffic_classes()
  };
  RouteTable() = default;
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // Workers: target indexes for n destinations (IPv4 in host order; IPv6 as
  // 16 bytes each), kNoEntry where no route matches. n <= 64.
  void lookup_v4(const std::uint32_t* dst, std::uint32_t* target, unsigned n) const noexcept;
  void lookup_v6(std::uint8_t (*dst)[16], std::uint32_t* target, unsigned n) const noexcept;
  const Target& target(std::uint32_t index) const noexcept { return targets_[index]; }

  const std::vector<std::string>& egresses() const noexcept { return egresses_; }
  const std::vector<std::string>& classes() const noexcept { return classes_; }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  friend class SnapshotCompiler;
  rte_fib* v4_ = nullptr;
  rte_fib6* v6_ = nullptr;
  std::uint64_t no_route_ = 0;  // the FIBs' default next hop
  std::vector<Target> targets_;
  std::vector<std::string> egresses_;
  std::vector<std::string> classes_;
  std::size_t bytes_ = 0;
};

struct TunnelRuntime {
  crypto::OutboundSa* sa;      // stable, owned by the SaStore (kept alive by `owners`)
  std::uint32_t local_ip;      // outer source, host order
  std::uint32_t next_hop_ip;   // outer destination, host order
  std::uint16_t mtu;           // largest inner packet
  std::uint16_t counter_slot;  // index into the workers' per-tunnel counters
};

struct InboundRuntime {
  crypto::InboundSa* sa;
  std::uint32_t first_site = 0, site_count = 0;  // range in TunnelTable::sites
  std::uint16_t counter_slot = 0;
  std::uint32_t tunnel = kNoEntry;  // the tunnel this SA is the inbound half of (probe replies go out on it)
};

struct RelayRuntime {
  std::uint32_t next_hop_ip = 0;  // host order
  std::uint16_t next_hop_port = 4500;
  std::uint32_t prev_hop_ip = 0;  // 0: from anywhere
};

// Tunnels and their SAs, inbound SPIs and relay SPIs.
struct TunnelTable {
  std::vector<TunnelRuntime> tunnels;
  std::vector<std::string> ids;
  SpiMap<InboundRuntime> inbound;
  SpiMap<std::uint32_t> by_out_spi;  // outbound SPI -> index in tunnels (the prober's test packets)
  std::vector<routing::IpPrefix> sites;
  std::vector<std::shared_ptr<void>> owners;  // keeps the SAs alive while this piece is
  std::size_t bytes() const noexcept;
};

struct RelayTable {
  SpiMap<RelayRuntime> relays;
};

// (egress, traffic class) -> tunnel: the piece a path switch replaces.
struct DestinationMap {
  std::uint32_t classes = 1;
  std::vector<std::uint32_t> tunnel_of;  // [egress * classes + class], kNoEntry if none
  std::uint32_t lookup(std::uint16_t egress, std::uint16_t traffic_class) const noexcept {
    const std::uint32_t t = tunnel_of[std::size_t{egress} * classes + traffic_class];
    // A class without its own path uses the egress's default path.
    return t != kNoEntry ? t : tunnel_of[std::size_t{egress} * classes];
  }
};

// Policy rules for the fast path (rte_acl): the winning rule's verdict.
struct PolicyTable {
  std::unique_ptr<PolicyAcl> acl;  // null when there are no rules
  struct Verdict {
    bool deny = false;
    std::uint16_t traffic_class = 0;
  };
  std::vector<Verdict> verdicts;  // per rule, in routing's precedence order
  std::size_t acl_bytes = 0;
};

// Per-port IPv4 -> MAC, from ARP (learned by workers, merged by the control
// thread) and static configuration. IPv6 neighbours are static for now.
struct NeighbourTable {
  struct Entry {
    std::array<std::uint8_t, 6> mac;
  };
  std::vector<SpiMap<Entry>> v4;  // per port, keyed by IPv4 (host order; 0 never used)
  struct V6 {
    std::uint16_t port;
    std::array<std::uint8_t, 16> ip;
    std::array<std::uint8_t, 6> mac;
  };
  std::vector<V6> v6;
  const Entry* find_v4(std::uint16_t port, std::uint32_t ip) const noexcept {
    return port < v4.size() ? v4[port].find(ip) : nullptr;
  }
  const std::array<std::uint8_t, 6>* find_v6(std::uint16_t port, const std::uint8_t* ip) const noexcept;
};

struct Snapshot {
  std::uint64_t version = 0;
  std::shared_ptr<const RouteTable> routes;
  std::shared_ptr<const TunnelTable> tunnels;
  std::shared_ptr<const DestinationMap> destinations;
  std::shared_ptr<const RelayTable> relays;
  std::shared_ptr<const PolicyTable> policy;
  std::shared_ptr<const NeighbourTable> neighbours;
};

}  // namespace meshgw::dataplane
