// SPDX-License-Identifier: BSD-3-Clause
#include "worker.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>

#include "stages.hpp"

namespace meshgw::dataplane {

void tx_flush(WorkerContext& ctx) noexcept {
  for (std::uint16_t p = 0; p < ctx.ports.size(); ++p) {
    TxBuffer& b = ctx.tx[p];
    if (b.count == 0) continue;
    std::uint64_t bytes = 0;
    for (std::uint16_t i = 0; i < b.count; ++i) bytes += b.pkts[i]->pkt_len;
    const std::uint16_t sent =
        rte_eth_tx_burst(ctx.ports[p].port_id, static_cast<std::uint16_t>(ctx.index), b.pkts, b.count);
    for (std::uint16_t i = sent; i < b.count; ++i) {
      bytes -= b.pkts[i]->pkt_len;
      drop(ctx, b.pkts[i], DropReason::tx_full);
    }
    ctx.counters->ports[p].tx_packets.add(sent);
    ctx.counters->ports[p].tx_bytes.add(bytes);
    b.count = 0;
  }
}

namespace {

// Ethernet + IP checks shared by both directions. Returns the ethertype
// (IPv4, IPv6 or ARP) with the frame trimmed to the IP length, or 0 with
// *why. Inlined into the receive split: it runs once per packet.
[[gnu::always_inline]] inline std::uint16_t check_frame(rte_mbuf* m, DropReason* why) noexcept {
  if (m->nb_segs != 1) {
    *why = DropReason::multi_segment;
    return 0;
  }
  if (m->data_len < kEthBytes) {
    *why = DropReason::runt_frame;
    return 0;
  }
  const std::uint8_t* eth = mbuf_bytes(m);
  const std::uint16_t type = load_be16(eth + 12);
  const std::uint8_t* ip = eth + kEthBytes;
  const std::uint32_t room = m->data_len - kEthBytes;
  std::uint32_t ip_len;
  if (type == kEtherIpv4) {
    if (room < 20 || (ip[0] >> 4) != 4) {
      *why = DropReason::bad_ipv4_header;
      return 0;
    }
    const std::uint32_t ihl = (ip[0] & 0x0fu) * 4u;
    ip_len = load_be16(ip + 2);
    if (ihl < 20 || ip_len < ihl || ip_len > room || ihl > room || !ipv4_checksum_ok(ip, ihl)) {
      *why = DropReason::bad_ipv4_header;
      return 0;
    }
  } else if (type == kEtherIpv6) {
    if (room < 40 || (ip[0] >> 4) != 6 || 40u + load_be16(ip + 4) > room) {
      *why = DropReason::bad_ipv6_header;
      return 0;
    }
    ip_len = 40u + load_be16(ip + 4);
  } else if (type == kEtherArp) {
    return type;
  } else {
    *why = DropReason::unsupported_ethertype;
    return 0;
  }
  // Ethernet padding after the IP packet is not part of it.
  m->data_len = static_cast<std::uint16_t>(kEthBytes + ip_len);
  m->pkt_len = m->data_len;
  return type;
}

bool is_our_mac_or_group(const WorkerContext& ctx, std::uint16_t port, const std::uint8_t* dst) noexcept {
  return (dst[0] & 1) != 0 || std::memcmp(dst, ctx.ports[port].mac.data(), 6) == 0;
}

}  // namespace

std::uint16_t take_local(WorkerContext& ctx, std::uint16_t port, rte_mbuf** pkts, std::uint16_t n) noexcept {
  const PortRuntime& pr = ctx.ports[port];
  std::uint16_t kept = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    DropReason why{};
    const std::uint16_t type = check_frame(m, &why);
    if (type == 0) {
      drop(ctx, m, why);
      continue;
    }
    const std::uint8_t* eth = mbuf_bytes(m);
    if (type == kEtherArp) {
      handle_arp(ctx, port, m);
      continue;
    }
    if (!is_our_mac_or_group(ctx, port, eth)) {
      drop(ctx, m, DropReason::not_for_us);
      continue;
    }
    const std::uint8_t* ip = eth + kEthBytes;
    const bool wan = pr.role == PortRole::wan;
    if (type == kEtherIpv4) {
      const bool ours = load_be32(ip + 16) == pr.address.ipv4;
      if (wan && !ours) {
        drop(ctx, m, DropReason::not_for_us);  // the gateway does not route the underlay
        continue;
      }
      if (ours) {
        const std::uint32_t ihl = (ip[0] & 0x0fu) * 4u;
        const bool esp = wan && ip[9] == kProtoUdp && m->data_len >= kEthBytes + ihl + 8 &&
                         load_be16(ip + ihl + 2) == crypto::kEspUdpPort;
        if (!esp) {
          handle_local_ipv4(ctx, port, m);
          continue;
        }
      }
    } else {
      const bool ours = pr.address.has_ipv6 &&
                        (std::memcmp(ip + 24, pr.address.ipv6.data(), 16) == 0 ||
                         (ip[24] == 0xff && ip[6] == kProtoIcmpv6));
      // Our address, or multicast ICMPv6 (solicited-node neighbour solicitation).
      if (ours) {
        handle_local_ipv6(ctx, port, m);
        continue;
      }
      if (wan) {
        drop(ctx, m, DropReason::outer_ipv6);
        continue;
      }
    }
    pkts[kept++] = m;
  }
  return kept;
}

namespace {

void drop_bad(WorkerContext& ctx, rte_mbuf** pkts, std::uint16_t from, std::uint16_t to,
              const DropReason* reasons) noexcept {
  for (std::uint16_t i = from; i < to; ++i) drop(ctx, pkts[i], reasons[i]);
}

}  // namespace

unsigned poll_once(WorkerContext& ctx) noexcept {
  // Acquire: pairs with the publisher's release store, so every byte of the
  // snapshot it built is visible here before it is read.
  const Snapshot* snap = ctx.source->current.load(std::memory_order_acquire);
  unsigned received = 0;
  rte_mbuf* pkts[kBurst];
  Egress egress[kBurst];
  DropReason reasons[kBurst];
  for (const auto& [port, queue] : ctx.rx) {
    const std::uint16_t n = rte_eth_rx_burst(ctx.ports[port].port_id, queue, pkts, kBurst);
    if (n == 0) continue;
    received += n;
    std::uint64_t bytes = 0;
    for (std::uint16_t i = 0; i < n; ++i) bytes += pkts[i]->pkt_len;
    ctx.counters->ports[port].rx_packets.add(n);
    ctx.counters->ports[port].rx_bytes.add(bytes);
    if (ctx.ports[port].role == PortRole::exception) {
      // What the kernel sends (its TCP, its ARP) leaves through the WAN as is.
      for (std::uint16_t i = 0; i < n; ++i) tx_enqueue(ctx, static_cast<std::uint16_t>(ctx.wan), pkts[i]);
      ctx.counters->from_kernel.add(n);
      continue;
    }
    const std::uint16_t transit = take_local(ctx, port, pkts, n);
    if (transit == 0) continue;
    std::uint16_t good, refused;
    if (ctx.ports[port].role == PortRole::lan) {
      good = lan_to_mesh_burst(*snap, ctx, pkts, transit, egress, reasons);
      refused = static_cast<std::uint16_t>(transit - good);
    } else {
      good = mesh_to_lan_burst(*snap, ctx, pkts, transit, egress, reasons, &refused);
    }
    send_all_to_next_hops(*snap, ctx, pkts, egress, good);
    drop_bad(ctx, pkts, good, static_cast<std::uint16_t>(good + refused), reasons);
  }
  if (ctx.inject != nullptr && ctx.wan >= 0 && !ctx.inject->empty()) {
    // The prober's frames: complete but for the next hop's MAC.
    rte_mbuf* m;
    for (unsigned k = 0; k < kBurst && ctx.inject->pop(m); ++k) {
      const std::uint32_t tunnel_spi = m->hash.usr;
      if (tunnel_spi != 0) {  // an end-to-end probe: sealed on its tunnel first
        const std::uint32_t* tun = snap->tunnels->by_out_spi.find(tunnel_spi);
        Egress e;
        DropReason why = DropReason::no_tunnel;
        if (tun == nullptr || !seal_on_tunnel(*snap->tunnels, ctx, *tun, m, &e, &why)) {
          drop(ctx, m, why);
          continue;
        }
        send_to_next_hop(*snap, ctx, m, e);
      } else {
        const std::uint32_t dst = load_be32(mbuf_bytes(m) + kEthBytes + 16);
        send_to_next_hop(*snap, ctx, m, {static_cast<std::uint16_t>(ctx.wan), false, dst, nullptr});
      }
      ctx.counters->probes_sent.add();
    }
  }
  if (ctx.pending.count != 0) service_pending(*snap, ctx);
  tx_flush(ctx);
  return received;
}

int worker_main(void* arg) {
  WorkerContext& ctx = *static_cast<WorkerContext*>(arg);
  ctx.ws = std::make_unique<crypto::CryptoWorkspace>();  // on this lcore, before the first packet
  rte_rcu_qsbr_thread_register(ctx.source->qsbr, ctx.index);
  rte_rcu_qsbr_thread_online(ctx.source->qsbr, ctx.index);
  const Snapshot* last = nullptr;
  std::uint32_t empty = 0;
  while (!ctx.stop->load(std::memory_order_relaxed)) {
    const Snapshot* now = ctx.source->current.load(std::memory_order_relaxed);
    if (now != last) {
      ctx.counters->snapshot_changes.add();
      last = now;
    }
    const unsigned got = poll_once(ctx);
    // Quiescent: this worker holds no pointer into any snapshot from here on
    // until its next acquire load.
    rte_rcu_qsbr_quiescent(ctx.source->qsbr, ctx.index);
    if (got != 0) {
      ctx.counters->bursts.add();
      empty = 0;
      continue;
    }
    ctx.counters->empty_polls.add();
    if (ctx.idle == IdleMode::sleep && ++empty > 64) {
      // As l3fwd-power's sleep mode: back off with growing sleeps, offline
      // for RCU meanwhile so a grace period never waits for a sleeper.
      const std::uint32_t us = std::min<std::uint32_t>(ctx.idle_sleep_max_us, (empty - 64) * 10);
      rte_rcu_qsbr_thread_offline(ctx.source->qsbr, ctx.index);
      rte_delay_us_sleep(us);
      rte_rcu_qsbr_thread_online(ctx.source->qsbr, ctx.index);
      ctx.counters->idle_sleeps.add();
    }
  }
  rte_rcu_qsbr_thread_offline(ctx.source->qsbr, ctx.index);
  rte_rcu_qsbr_thread_unregister(ctx.source->qsbr, ctx.index);
  tx_flush(ctx);
  return 0;
}

}  // namespace meshgw::dataplane
