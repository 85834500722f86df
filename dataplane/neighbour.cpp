// SPDX-License-Identifier: BSD-3-Clause
// Next-hop resolution on the workers: ARP requests, the bounded queue of
// frames waiting for an answer, and ARP itself (replies for our addresses;
// what we learn goes to the control thread, which publishes it in the
// snapshot's neighbour table).
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "stages.hpp"

namespace meshgw::dataplane {

namespace {

constexpr std::uint32_t kArpBytes = 28;
constexpr std::uint64_t kArpRetryMs = 200;
constexpr std::uint64_t kPendingTimeoutMs = 3000;

void send_arp_request(WorkerContext& ctx, std::uint16_t port, std::uint32_t ip) noexcept {
  const std::uint64_t now = rte_rdtsc();
  const std::uint64_t retry = ctx.tsc_hz * kArpRetryMs / 1000;
  PendingNeighbours::Asked* slot = &ctx.pending.asked[0];
  for (auto& a : ctx.pending.asked) {
    if (a.ip == ip) {
      if (now - a.tsc < retry) return;  // asked a moment ago
      slot = &a;
      break;
    }
    if (a.tsc < slot->tsc) slot = &a;  // else reuse the oldest
  }
  rte_mbuf* m = rte_pktmbuf_alloc(ctx.pool);
  if (m == nullptr) {
    count_drop(ctx, DropReason::no_mbuf);
    return;
  }
  *slot = {ip, now};
  const PortRuntime& pr = ctx.ports[port];
  if (rte_pktmbuf_append(m, 60) == nullptr) {
    rte_pktmbuf_free(m);
    count_drop(ctx, DropReason::no_mbuf);
    return;
  }
  std::uint8_t* eth = mbuf_bytes(m);
  std::memset(eth, 0, 60);
  write_ethernet(eth, MacAddress{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, pr.mac, kEtherArp);
  std::uint8_t* arp = eth + kEthBytes;
  store_be16(arp, 1);
  store_be16(arp + 2, kEtherIpv4);
  arp[4] = 6;
  arp[5] = 4;
  store_be16(arp + 6, 1);
  std::memcpy(arp + 8, pr.mac.data(), 6);
  store_be32(arp + 14, pr.address.ipv4);
  store_be32(arp + 24, ip);
  ctx.counters->arp_requests_sent.add();
  tx_enqueue(ctx, port, m);
}

// Where an IPv4 packet for ip goes on port: ip itself on link, else the
// port's router (when it has one).
inline std::uint32_t link_hop(const PortRuntime& p, std::uint32_t ip) noexcept {
  if (p.address.ipv4_router == 0) return ip;
  const std::uint32_t mask = p.address.ipv4_prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - p.address.ipv4_prefix);
  return ((ip ^ p.address.ipv4) & mask) == 0 ? ip : p.address.ipv4_router;
}

}  // namespace

void send_to_next_hop(const Snapshot& snap, WorkerContext& ctx, rte_mbuf* m, const Egress& e) noexcept {
  std::uint8_t* eth = mbuf_bytes(m);
  if (e.v6) {
    const MacAddress* mac = snap.neighbours->find_v6(e.port, e.ipv6);
    if (mac == nullptr) {
      drop(ctx, m, DropReason::neighbour_unresolved);
      return;
    }
    std::memcpy(eth, mac->data(), 6);
    tx_enqueue(ctx, e.port, m);
    return;
  }
  const std::uint32_t hop = link_hop(ctx.ports[e.port], e.ipv4);
  if (const NeighbourTable::Entry* n = snap.neighbours->find_v4(e.port, hop)) {
    std::memcpy(eth, n->mac.data(), 6);
    tx_enqueue(ctx, e.port, m);
    return;
  }
  PendingNeighbours& p = ctx.pending;
  if (p.count == PendingNeighbours::kSize) {
    drop(ctx, m, DropReason::neighbour_unresolved);
    return;
  }
  p.entries[p.count++] = {m, rte_rdtsc(), hop, e.port};
  ctx.counters->neighbour_queued.add();
  send_arp_request(ctx, e.port, hop);
}

void send_all_to_next_hops(const Snapshot& snap, WorkerContext& ctx, rte_mbuf** pkts, const Egress* egress,
                           std::uint16_t n) noexcept {
  const NeighbourTable::Entry* known = nullptr;
  std::uint32_t known_ip = 0;
  std::uint16_t known_port = 0xffff;
  for (std::uint16_t i = 0; i < n; ++i) {
    const Egress& e = egress[i];
    if (!e.v6) {
      if (e.ipv4 != known_ip || e.port != known_port) {
        known = snap.neighbours->find_v4(e.port, link_hop(ctx.ports[e.port], e.ipv4));
        known_ip = e.ipv4;
        known_port = e.port;
      }
      if (known != nullptr) {
        std::memcpy(mbuf_bytes(pkts[i]), known->mac.data(), 6);
        tx_enqueue(ctx, e.port, pkts[i]);
        continue;
      }
    }
    send_to_next_hop(snap, ctx, pkts[i], e);
  }
}

void service_pending(const Snapshot& snap, WorkerContext& ctx) noexcept {
  PendingNeighbours& p = ctx.pending;
  const std::uint64_t now = rte_rdtsc();
  const std::uint64_t timeout = ctx.tsc_hz * kPendingTimeoutMs / 1000;
  unsigned kept = 0;
  for (unsigned i = 0; i < p.count; ++i) {
    PendingNeighbours::Entry& e = p.entries[i];
    if (const NeighbourTable::Entry* n = snap.neighbours->find_v4(e.port, e.ip)) {
      std::memcpy(mbuf_bytes(e.m), n->mac.data(), 6);
      tx_enqueue(ctx, e.port, e.m);
    } else if (now - e.since_tsc > timeout) {
      drop(ctx, e.m, DropReason::neighbour_unresolved);
    } else {
      send_arp_request(ctx, e.port, e.ip);  // rate-limited per address
      p.entries[kept++] = e;
    }
  }
  p.count = kept;
}

void handle_arp(WorkerContext& ctx, std::uint16_t port, rte_mbuf* m) noexcept {
  const PortRuntime& pr = ctx.ports[port];
  std::uint8_t* eth = mbuf_bytes(m);
  std::uint8_t* arp = eth + kEthBytes;
  if (m->data_len < kEthBytes + kArpBytes || load_be16(arp) != 1 || load_be16(arp + 2) != kEtherIpv4 ||
      arp[4] != 6 || arp[5] != 4) {
    drop(ctx, m, DropReason::arp_invalid);
    return;
  }
  const std::uint16_t op = load_be16(arp + 6);
  const std::uint32_t sender_ip = load_be32(arp + 14);
  const std::uint32_t target_ip = load_be32(arp + 24);
  if ((op != 1 && op != 2) || (arp[8] & 1) != 0) {
    drop(ctx, m, DropReason::arp_invalid);
    return;
  }
  if (target_ip != pr.address.ipv4 || pr.address.ipv4 == 0) {
    drop(ctx, m, DropReason::arp_not_for_us);
    return;
  }
  if (static_cast<int>(port) == ctx.wan && ctx.exception >= 0) {
    // The kernel behind the exception path resolves its own next hops: it
    // hears every ARP for our address (it does not answer: arp_ignore).
    if (rte_mbuf* copy = rte_pktmbuf_copy(m, ctx.pool, 0, UINT32_MAX)) {
      ctx.counters->punted_to_kernel.add();
      tx_enqueue(ctx, static_cast<std::uint16_t>(ctx.exception), copy);
    } else {
      count_drop(ctx, DropReason::no_mbuf);
    }
  }
  if (sender_ip != 0) {
    WorkerEvent ev{WorkerEvent::Kind::neighbour_learned, port, sender_ip, {}};
    std::memcpy(ev.mac.data(), arp + 8, 6);
    ctx.events->push(ev);  // full: dropped; the next ARP teaches it again
  }
  if (op == 2) {
    rte_pktmbuf_free(m);
    return;
  }
  // Reply in place: sender <-> target, our MAC as the answer (RFC 826).
  std::memcpy(arp + 18, arp + 8, 6);
  store_be32(arp + 24, sender_ip);
  std::memcpy(arp + 8, pr.mac.data(), 6);
  store_be32(arp + 14, pr.address.ipv4);
  store_be16(arp + 6, 2);
  std::memcpy(eth, arp + 18, 6);
  std::memcpy(eth + 6, pr.mac.data(), 6);
  ctx.counters->arp_replies_sent.add();
  tx_enqueue(ctx, port, m);
}

}  // namespace meshgw::dataplane
