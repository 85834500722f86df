// SPDX-License-Identifier: BSD-3-Clause
// Internal to the worker: helpers the stages share (worker.cpp, lan_path.cpp,
// wan_path.cpp, local_path.cpp, neighbour.cpp). Worker lcores only.
#pragma once

#include "worker.hpp"

namespace meshgw::dataplane {

// Calls fn(key, members, count) once per distinct key of keys[0..n), in the
// order keys first appear; members are the indexes with that key, in order.
// O(n * groups): a burst holds few distinct tunnels or SAs.
template <class Key, class Fn>
inline void for_each_group(const Key* keys, std::uint16_t n, Fn&& fn) noexcept {
  bool done[kBurst] = {};
  std::uint16_t members[kBurst];
  for (std::uint16_t i = 0; i < n; ++i) {
    if (done[i]) continue;
    std::uint16_t g = 0;
    for (std::uint16_t j = i; j < n; ++j) {
      if (done[j] || !(keys[j] == keys[i])) continue;
      done[j] = true;
      members[g++] = j;
    }
    fn(keys[i], members, g);
  }
}

// The policy's view of an IP packet (FlowKey: addresses, DSCP, protocol,
// TCP/UDP/SCTP ports when l4_offset points inside ip_len).
inline routing::FlowKey flow_key(const std::uint8_t* ip, std::uint32_t ip_len, bool v6, std::uint8_t protocol,
                                 std::uint32_t l4_offset) noexcept {
  routing::FlowKey flow;
  flow.v6 = v6;
  if (!v6) {
    std::memcpy(flow.src.data(), ip + 12, 4);
    std::memcpy(flow.dst.data(), ip + 16, 4);
    flow.dscp = static_cast<std::uint8_t>(ip[1] >> 2);
  } else {
    std::memcpy(flow.src.data(), ip + 8, 16);
    std::memcpy(flow.dst.data(), ip + 24, 16);
    flow.dscp = static_cast<std::uint8_t>(((ip[0] & 0x0f) << 2) | (ip[1] >> 6));
  }
  flow.protocol = protocol;
  const bool ports = protocol == kProtoTcp || protocol == kProtoUdp || protocol == 132;
  if (l4_offset != 0 && ports && ip_len >= l4_offset + 4) {
    flow.src_port = load_be16(ip + l4_offset);
    flow.dst_port = load_be16(ip + l4_offset + 2);
  }
  return flow;
}

// A stage's outcome, in the shape of its contract: good packets (with where
// they go) in order, refused ones behind them with their reasons.
struct StageOutput {
  rte_mbuf* good[kBurst];
  rte_mbuf* bad[kBurst];
  DropReason why[kBurst];
  std::uint16_t n_good = 0, n_bad = 0;

  void refuse(rte_mbuf* m, DropReason r) noexcept {
    bad[n_bad] = m;
    why[n_bad++] = r;
  }
  void accept(rte_mbuf* m, Egress* egress, const Egress& e) noexcept {
    egress[n_good] = e;
    good[n_good++] = m;
  }
  // Taken by the stage itself (handed to the control thread): freed here,
  // neither forwarded nor a drop.
  void consume(rte_mbuf* m) noexcept { rte_pktmbuf_free(m); }
  // Writes the outcome back over the stage's input; returns the good count.
  std::uint16_t finish(rte_mbuf** pkts, DropReason* reasons) const noexcept {
    std::memcpy(pkts, good, n_good * sizeof(rte_mbuf*));
    std::memcpy(pkts + n_good, bad, n_bad * sizeof(rte_mbuf*));
    std::memcpy(reasons + n_good, why, n_bad * sizeof(DropReason));
    return n_good;
  }
};

// NTP timestamp (RFC 5905: seconds since 1900 . 2^-32 fractions) from the TSC.
std::uint64_t ntp_now(const WorkerContext& ctx) noexcept;

// TWAMP-light (RFC 5357 4.2.1, unauthenticated, stateless) reflector fields
// for the sender's test packet at ip (IPv4, header ihl bytes, UDP payload of
// at least kTwampReplyBytes): the reply written in place, addresses and
// ports swapped, lengths and IPv4 checksum set. rx_ts: when it arrived.
inline constexpr std::uint32_t kTwampReplyBytes = 41;
inline constexpr std::uint32_t kTwampSenderBytes = 14;
void write_twamp_reply(const WorkerContext& ctx, std::uint8_t* ip, std::uint32_t ihl, std::uint32_t payload,
                       std::uint64_t rx_ts) noexcept;
// The reply's fields alone, over the test packet's at t.
void fill_twamp_reply(const WorkerContext& ctx, std::uint8_t* t, std::uint8_t sender_ttl, std::uint64_t rx_ts) noexcept;
// Back to the sender: addresses and UDP ports swapped, TTL 255, UDP
// checksum 0, IPv4 checksum set.
void swap_ipv4_udp(std::uint8_t* ip, std::uint32_t ihl) noexcept;
// The prober's event for a reflected packet at ip (IPv4, UDP, the payload
// checked to hold kTwampReplyBytes); tunnel_spi: the inbound SPI it came on
// inside a tunnel, 0 for a neighbour probe.
WorkerEvent twamp_reply_event(const WorkerContext& ctx, std::uint16_t port, const std::uint8_t* ip, std::uint32_t ihl,
                              std::uint32_t tunnel_spi) noexcept;
// The same from the reply's fields at t, for the prober's probe_port.
WorkerEvent twamp_event(const WorkerContext& ctx, std::uint16_t port, std::uint32_t src_ip, std::uint16_t probe_port,
                        const std::uint8_t* t, std::uint32_t tunnel_spi) noexcept;

// The prober's TWAMP-light over the ESP port, for peers behind a NAT (only
// the mapping of their port 4500 reaches them): UDP 4500 payload of the
// non-ESP marker (RFC 3948), "MGWP", the kind, 0, the prober's port, and
// the TWAMP fields.
inline constexpr std::uint32_t kNatProbeHeaderBytes = 12;
inline constexpr std::uint8_t kNatProbeTest = 1, kNatProbeReply = 2;

// Encrypts the frame m (Ethernet + inner IP) on tunnel tun and sets where it
// goes (the tunnel's next hop on the WAN); false with *why if it failed.
bool seal_on_tunnel(const TunnelTable& tunnels, WorkerContext& ctx, std::uint32_t tun, rte_mbuf* m, Egress* e,
                    DropReason* why) noexcept;

inline void count_drop(WorkerContext& ctx, DropReason r) noexcept {
  ctx.counters->drops[static_cast<std::size_t>(r)].add();
}

inline void drop(WorkerContext& ctx, rte_mbuf* m, DropReason r) noexcept {
  count_drop(ctx, r);
  rte_pktmbuf_free(m);
}

// Queues a complete frame for TX on a port (flushed at the end of the poll).
// Inline: it runs once per forwarded packet.
void tx_flush(WorkerContext& ctx) noexcept;
inline void tx_enqueue(WorkerContext& ctx, std::uint16_t port, rte_mbuf* m) noexcept {
  TxBuffer& b = ctx.tx[port];
  if (b.count == sizeof b.pkts / sizeof b.pkts[0]) [[unlikely]] tx_flush(ctx);
  b.pkts[b.count++] = m;
}

// Writes the destination MAC of an Ethernet frame for its next hop and
// queues it, or parks it until ARP resolves the next hop.
void send_to_next_hop(const Snapshot& snap, WorkerContext& ctx, rte_mbuf* m, const Egress& e) noexcept;
// The same for a stage's good packets: one neighbour lookup per run of
// packets with the same next hop (a tunnel's packets share theirs).
void send_all_to_next_hops(const Snapshot& snap, WorkerContext& ctx, rte_mbuf** pkts, const Egress* egress,
                           std::uint16_t n) noexcept;
// Sends parked frames whose next hop is now known; drops those waited too long.
void service_pending(const Snapshot& snap, WorkerContext& ctx) noexcept;

// Frames addressed to the gateway itself. Each consumes m (answered in
// place, or dropped with its reason).
void handle_arp(WorkerContext& ctx, std::uint16_t port, rte_mbuf* m) noexcept;
void handle_local_ipv4(WorkerContext& ctx, std::uint16_t port, rte_mbuf* m) noexcept;
void handle_local_ipv6(WorkerContext& ctx, std::uint16_t port, rte_mbuf* m) noexcept;
// Hands a frame for the gateway to the kernel (exception path), or drops it
// as to_gateway_unhandled when there is none or it did not come from the WAN.
void punt_to_kernel(WorkerContext& ctx, std::uint16_t port, rte_mbuf* m) noexcept;

// ICMP "fragmentation needed" / ICMPv6 "packet too big" for the frame m
// (unchanged, still owned by the caller) back to its sender on port.
// Returns false when the rate limit (or a missing address) suppressed it.
bool send_too_big(WorkerContext& ctx, std::uint16_t port, rte_mbuf* m, std::uint16_t mtu) noexcept;

// Splits a received burst: frames for the gateway are answered (or dropped)
// here; the IP packets to forward are compacted to the front. Returns their
// count.
std::uint16_t take_local(WorkerContext& ctx, std::uint16_t port, rte_mbuf** pkts, std::uint16_t n) noexcept;


}  // namespace meshgw::dataplane
