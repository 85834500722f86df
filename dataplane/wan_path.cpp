// SPDX-License-Identifier: BSD-3-Clause
// mesh -> LAN: outer checks, SPI, relay or replay check + decrypt, inner checks.
#include <rte_mbuf.h>

#include "stages.hpp"

namespace meshgw::dataplane {

namespace {

// Rewrites a relayed packet's outer IPv4/UDP to us -> next hop with TTL - 1.
// ip points at the outer IPv4 header (IHL 5 checked by the caller).
void rewrite_for_relay(std::uint8_t* ip, std::uint32_t self, const RelayRuntime& r) noexcept {
  store_be32(ip + 12, self);
  store_be32(ip + 16, r.next_hop_ip);
  --ip[8];
  store_be16(ip + 10, 0);
  store_be16(ip + 10, crypto::internet_checksum(ip, 20));
  std::uint8_t* udp = ip + 20;
  store_be16(udp, crypto::kEspUdpPort);
  store_be16(udp + 2, r.next_hop_port);
  store_be16(udp + 6, 0);  // RFC 3948 3.1.1: ESP-in-UDP checksum may be zero
}

// A one-byte 0xFF UDP payload (RFC 3948 2.3), the outer header already
// checked by parse_outer_udp_ipv4 (v is still at the IPv4 header).
bool is_nat_keepalive(const crypto::PacketView& v) noexcept {
  const std::uint8_t* ip = v.data;
  const std::uint32_t ihl = (ip[0] & 0x0fu) * 4u;
  return load_be16(ip + 2) == ihl + 9 && v.len >= ihl + 9 && ip[ihl + 8] == 0xff;
}

// The prober's TWAMP-light over the ESP port (stages.hpp), the outer header
// checked by parse_outer_udp_ipv4: a test packet is answered in place (back
// through the sender's NAT mapping), a reply goes to the prober. Returns
// false when the datagram is not one.
enum class NatProbe { none, reflected, taken };
NatProbe handle_nat_probe(WorkerContext& ctx, rte_mbuf* m, const crypto::PacketView& v) noexcept {
  std::uint8_t* ip = mbuf_bytes(m) + kEthBytes;
  const std::uint32_t ihl = (ip[0] & 0x0fu) * 4u;
  const std::uint32_t total = load_be16(ip + 2);
  if (ctx.twamp_port == 0 || ip[9] != kProtoUdp || total < ihl + 8 + kNatProbeHeaderBytes + kTwampReplyBytes ||
      total > v.len)
    return NatProbe::none;
  std::uint8_t* p = ip + ihl + 8;
  if (std::memcmp(p + 4, "MGWP", 4) != 0) return NatProbe::none;
  if (p[8] == kNatProbeTest) {
    fill_twamp_reply(ctx, p + kNatProbeHeaderBytes, ip[8], ntp_now(ctx));
    p[8] = kNatProbeReply;
    swap_ipv4_udp(ip, ihl);
    ctx.counters->twamp_reflected.add();
    return NatProbe::reflected;
  }
  const std::uint16_t probe_port = load_be16(p + 10);
  if (p[8] != kNatProbeReply || probe_port < kProbePortFirst || probe_port > kProbePortLast) return NatProbe::none;
  if (ctx.events->push(twamp_event(ctx, static_cast<std::uint16_t>(ctx.wan), load_be32(ip + 12), probe_port,
                                   p + kNatProbeHeaderBytes, 0)))
    ctx.counters->probe_replies.add();
  else
    ctx.counters->probe_replies_dropped.add();
  return NatProbe::taken;
}

// Whether the decrypted packet's source lies in the tunnel's remote sites.
bool source_allowed(const TunnelTable& tunnels, const InboundRuntime& in, const std::uint8_t* ip) noexcept {
  const bool v6 = (ip[0] >> 4) == 6;
  const std::uint8_t* src = v6 ? ip + 8 : ip + 12;
  for (std::uint32_t k = 0; k < in.site_count; ++k) {
    if (tunnels.sites[in.first_site + k].contains(src, v6)) return true;
  }
  return false;
}

// The policy's key for a decrypted packet (IPv4 or IPv6; the header's
// length was checked by the decapsulation).
void egress_acl_key(const std::uint8_t* ip, std::uint32_t len, AclKey4& k4, AclKey6& k6) noexcept {
  const bool v6 = (ip[0] >> 4) == 6;
  std::uint8_t protocol;
  std::uint32_t l4 = 0;
  if (!v6) {
    protocol = len >= 20 ? ip[9] : 0;
    const std::uint32_t ihl = (ip[0] & 0x0fu) * 4u;
    if (len >= 20 && ihl >= 20 && ihl < len && (load_be16(ip + 6) & 0x1fff) == 0) l4 = ihl;
  } else {
    protocol = len >= 40 ? ip[6] : 0;
    if (len > 40) l4 = 40;
  }
  make_acl_key(flow_key(ip, len, v6, protocol, l4), k4, k6);
}

// What a decrypted packet whose source lies outside the tunnel's sites may
// still be: the prober's in-tunnel TWAMP-light, IPv4/UDP between the two
// ends' underlay addresses. A test packet to the TWAMP port (padded to the
// reply's size, as our prober sends it) or a reflected one to a prober port.
enum class InTunnelProbe { none, test, reply };
InTunnelProbe in_tunnel_probe(const WorkerContext& ctx, const std::uint8_t* ip, std::uint32_t len) noexcept {
  if (ctx.twamp_port == 0 || len < 20 || (ip[0] >> 4) != 4 || ip[9] != kProtoUdp) return InTunnelProbe::none;
  const std::uint32_t ihl = (ip[0] & 0x0fu) * 4u;
  if (ihl < 20 || (load_be16(ip + 6) & 0x3fff) != 0 || len < ihl + 8 + kTwampReplyBytes ||
      load_be16(ip + 2) > len || load_be16(ip + ihl + 4) < 8 + kTwampReplyBytes ||
      ihl + load_be16(ip + ihl + 4) > load_be16(ip + 2))
    return InTunnelProbe::none;
  const std::uint16_t sport = load_be16(ip + ihl), dport = load_be16(ip + ihl + 2);
  if (dport == ctx.twamp_port) return InTunnelProbe::test;
  if (sport == ctx.twamp_port && dport >= kProbePortFirst && dport <= kProbePortLast) return InTunnelProbe::reply;
  return InTunnelProbe::none;
}

}  // namespace

std::uint16_t mesh_to_lan_burst(const Snapshot& snap, WorkerContext& ctx, rte_mbuf** pkts,
                                std::uint16_t n, Egress* egress, DropReason* reasons,
                                std::uint16_t* refused) noexcept {
  StageOutput out;
  auto refuse = [&out](rte_mbuf* m, DropReason r) { out.refuse(m, r); };
  const TunnelTable& tunnels = *snap.tunnels;
  const RelayTable& relays = *snap.relays;
  const PortRuntime& wan = ctx.ports[static_cast<std::size_t>(ctx.wan)];

  // 1. Outer checks and SPI: relay now, or collect for decryption.
  const InboundRuntime* sa_of[kBurst];
  std::uint32_t outer_spi[kBurst];
  crypto::PacketView esp[kBurst];
  rte_mbuf* to_decrypt[kBurst];
  std::uint16_t n_dec = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];  // IPv4: take_local drops IPv6 on the WAN as outer_ipv6
    crypto::PacketView v = view_after_ethernet(m);
    crypto::OuterUdpInfo outer;
    const crypto::EspStatus st = crypto::parse_outer_udp_ipv4(v, outer);
    if (st != crypto::EspStatus::ok) {
      const NatProbe probe = st == crypto::EspStatus::not_esp ? handle_nat_probe(ctx, m, v) : NatProbe::none;
      if (probe == NatProbe::reflected) {
        out.accept(m, egress, {static_cast<std::uint16_t>(ctx.wan), false, load_be32(mbuf_bytes(m) + kEthBytes + 16), nullptr});
        std::memcpy(mbuf_bytes(m) + 6, wan.mac.data(), 6);
      } else if (probe == NatProbe::taken) {
        out.consume(m);
      } else {
        refuse(m, st == crypto::EspStatus::not_esp && is_nat_keepalive(v) ? DropReason::nat_keepalive : drop_reason(st));
      }
      continue;
    }
    if (const RelayRuntime* r = relays.relays.find(outer.spi)) {
      std::uint8_t* ip = mbuf_bytes(m) + kEthBytes;
      if (r->prev_hop_ip != 0 && outer.src_ip != r->prev_hop_ip) {
        refuse(m, DropReason::relay_wrong_prev_hop);
      } else if (ip[8] <= 1) {
        refuse(m, DropReason::relay_ttl_expired);
      } else if ((ip[0] & 0x0f) != 5) {
        refuse(m, DropReason::esp_bad_outer_header);  // we never send options; neither do peers
      } else {
        rewrite_for_relay(ip, wan.address.ipv4, *r);
        std::memcpy(mbuf_bytes(m) + 6, wan.mac.data(), 6);
        out.accept(m, egress, {static_cast<std::uint16_t>(ctx.wan), false, r->next_hop_ip, nullptr});
        ctx.counters->relayed.add();
      }
      continue;
    }
    const InboundRuntime* in = tunnels.inbound.find(outer.spi);
    if (in == nullptr) {
      refuse(m, DropReason::esp_unknown_spi);
      continue;
    }
    sa_of[n_dec] = in;
    outer_spi[n_dec] = outer.spi;
    esp[n_dec] = v;
    to_decrypt[n_dec++] = m;
  }

  // 2. Decrypt per SA, one burst call per distinct SA in the burst.
  crypto::PacketView views[kBurst];
  crypto::EspStatus status[kBurst];
  rte_mbuf* group[kBurst];
  const PortRuntime& lan = ctx.ports[static_cast<std::size_t>(ctx.lan < 0 ? ctx.wan : ctx.lan)];
  std::uint16_t decrypted = 0;
  // The policy holds at the egress too (a rule denies the same packet at
  // both ends): the packets to deliver wait for one classification per family.
  const PolicyTable& policy = *snap.policy;
  const bool has_policy = policy.acl != nullptr;
  rte_mbuf* deliver[kBurst];
  Egress where[kBurst];
  AclKey4 key4[kBurst];
  AclKey6 key6[kBurst];
  bool is_v6[kBurst];
  std::uint16_t n_deliver = 0;
  for_each_group(sa_of, n_dec, [&](const InboundRuntime* in, const std::uint16_t* members, std::uint16_t g) {
    for (std::uint16_t k = 0; k < g; ++k) {
      group[k] = to_decrypt[members[k]];
      views[k] = esp[members[k]];
    }
    in->sa->decap_burst(*ctx.ws, views, g, status);
    TunnelCounters& tc = ctx.counters->tunnels[in->counter_slot];
    for (std::uint16_t k = 0; k < g; ++k) {
      if (status[k] != crypto::EspStatus::ok) {
        refuse(group[k], drop_reason(status[k]));
        continue;
      }
      std::uint8_t* ip = views[k].data;
      if (!source_allowed(tunnels, *in, ip)) {
        // End-to-end probes of the tunnel: a test packet goes back at once
        // on the tunnel's outbound half; a reply goes to the prober.
        const InTunnelProbe probe = in_tunnel_probe(ctx, ip, views[k].len);
        if (probe == InTunnelProbe::test && in->tunnel != kNoEntry) {
          const std::uint32_t ihl = (ip[0] & 0x0fu) * 4u;
          write_twamp_reply(ctx, ip, ihl, load_be16(ip + ihl + 4) - 8u, ntp_now(ctx));
          views[k].len = load_be16(ip + 2);
          frame_from_view(group[k], views[k]);
          Egress e;
          DropReason why;
          if (seal_on_tunnel(tunnels, ctx, in->tunnel, group[k], &e, &why)) {
            out.accept(group[k], egress, e);
            ctx.counters->twamp_reflected.add();
          } else {
            refuse(group[k], why);
          }
          continue;
        }
        if (probe == InTunnelProbe::reply) {
          tc.rx_packets.add();
          tc.rx_bytes.add(views[k].len);
          if (ctx.events->push(twamp_reply_event(ctx, static_cast<std::uint16_t>(ctx.wan), ip, (ip[0] & 0x0fu) * 4u,
                                                 outer_spi[members[k]])))
            ctx.counters->probe_replies.add();
          else
            ctx.counters->probe_replies_dropped.add();
          out.consume(group[k]);
          continue;
        }
        refuse(group[k], DropReason::inner_source_mismatch);
        continue;
      }
      if (ctx.lan < 0) {
        refuse(group[k], DropReason::no_route);  // a relay-only gateway has no site
        continue;
      }
      const bool v6 = (ip[0] >> 4) == 6;
      std::uint8_t* eth = frame_from_view(group[k], views[k]);
      std::memcpy(eth + 6, lan.mac.data(), 6);
      store_be16(eth + 12, v6 ? kEtherIpv6 : kEtherIpv4);
      tc.rx_packets.add();
      tc.rx_bytes.add(views[k].len);
      if (has_policy) egress_acl_key(ip, views[k].len, key4[n_deliver], key6[n_deliver]);
      is_v6[n_deliver] = v6;
      where[n_deliver] = {static_cast<std::uint16_t>(ctx.lan), v6, v6 ? 0 : load_be32(ip + 16), v6 ? ip + 24 : nullptr};
      deliver[n_deliver++] = group[k];
    }
  });
  std::uint32_t rule[kBurst] = {};
  if (has_policy) {
    const AclKey4* k4[kBurst];
    const AclKey6* k6[kBurst];
    std::uint16_t at4[kBurst], at6[kBurst], c4 = 0, c6 = 0;
    for (std::uint16_t i = 0; i < n_deliver; ++i) {
      if (is_v6[i]) {
        k6[c6] = &key6[i];
        at6[c6++] = i;
      } else {
        k4[c4] = &key4[i];
        at4[c4++] = i;
      }
    }
    std::uint32_t r4[kBurst], r6[kBurst];
    policy.acl->classify4(k4, r4, c4);
    policy.acl->classify6(k6, r6, c6);
    for (std::uint16_t k = 0; k < c4; ++k) rule[at4[k]] = r4[k];
    for (std::uint16_t k = 0; k < c6; ++k) rule[at6[k]] = r6[k];
  }
  for (std::uint16_t i = 0; i < n_deliver; ++i) {
    if (rule[i] != 0 && policy.verdicts[rule[i] - 1].deny) {
      refuse(deliver[i], DropReason::policy_denied);
      continue;
    }
    out.accept(deliver[i], egress, where[i]);
    ++decrypted;
  }
  ctx.counters->decrypted.add(decrypted);  // decrypted and delivered
  *refused = out.n_bad;
  return out.finish(pkts, reasons);
}

}  // namespace meshgw::dataplane
