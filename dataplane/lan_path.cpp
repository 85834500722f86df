// SPDX-License-Identifier: BSD-3-Clause
// LAN -> mesh: parse, policy, route, tunnel, MTU, MSS, encrypt, encapsulate.
#include <rte_mbuf.h>

#include "stages.hpp"

namespace meshgw::dataplane {

namespace {

// What the stage learns about an inner packet before choosing its tunnel.
struct InnerInfo {
  std::uint8_t* ip;
  std::uint32_t ip_len;
  std::uint32_t l4_offset;  // 0 if no transport header to look at
  bool v6;
  std::uint8_t protocol;
  std::uint32_t target;  // route target, kNoEntry if none
};

// Parses the inner packet (already checked by check_frame) into info.
// Returns false with *why for a packet not to forward.
bool parse_inner(rte_mbuf* m, InnerInfo& info, DropReason* why) noexcept {
  std::uint8_t* ip = mbuf_bytes(m) + kEthBytes;
  info.ip = ip;
  info.ip_len = m->data_len - kEthBytes;
  info.target = kNoEntry;
  std::uint8_t hop_limit;
  if ((ip[0] >> 4) == 4) {
    info.v6 = false;
    info.protocol = ip[9];
    hop_limit = ip[8];
    // Only a first fragment carries the ports.
    info.l4_offset = (load_be16(ip + 6) & 0x1fff) == 0 ? (ip[0] & 0x0fu) * 4u : 0;
  } else {
    info.v6 = true;
    info.protocol = ip[6];
    hop_limit = ip[7];
    info.l4_offset = 40;  // extension headers are not walked: their protocol is the rule's
  }
  // Multicast and broadcast stay on the site's link (a host's IGMP and mDNS
  // are not mesh traffic): IPv4 224.0.0.0/4 and above, IPv6 ff00::/8.
  if (info.v6 ? ip[24] == 0xff : ip[16] >= 224) {
    *why = DropReason::site_multicast;
    return false;
  }
  if (hop_limit <= 1) {
    *why = DropReason::ttl_expired;
    return false;
  }
  return true;
}

// The policy's view of a parsed packet (only built when there are rules).
routing::FlowKey flow_of(const InnerInfo& info) noexcept {
  return flow_key(info.ip, info.ip_len, info.v6, info.protocol, info.l4_offset);
}

// Lowers the MSS option of a TCP SYN to what fits the tunnel (RFC 879,
// RFC 6691), with the TCP checksum updated incrementally.
void clamp_mss(WorkerContext& ctx, const InnerInfo& info, std::uint16_t mtu) noexcept {
  if (info.protocol != kProtoTcp || info.l4_offset == 0 || info.ip_len < info.l4_offset + 20) return;
  std::uint8_t* tcp = info.ip + info.l4_offset;
  if ((tcp[13] & 0x02) == 0) return;  // not a SYN
  const std::uint32_t header = (tcp[12] >> 4) * 4u;
  if (header < 20 || info.l4_offset + header > info.ip_len) return;
  const std::uint16_t limit = static_cast<std::uint16_t>(mtu - (info.v6 ? 60 : 40));
  for (std::uint32_t o = 20; o + 1 < header;) {
    const std::uint8_t kind = tcp[o];
    if (kind == 0) return;  // end of options
    if (kind == 1) {
      ++o;
      continue;
    }
    const std::uint8_t len = tcp[o + 1];
    if (len < 2 || o + len > header) return;
    if (kind == 2 && len == 4) {
      const std::uint16_t mss = load_be16(tcp + o + 2);
      if (mss > limit) {
        // The checksum runs over 16-bit words from the TCP header's start;
        // an option at an odd offset straddles two of them.
        const std::uint32_t w = (o + 2) & ~1u;
        const std::uint32_t words = (o & 1) ? 2 : 1;
        if (info.l4_offset + w + 2 * words > info.ip_len) return;
        std::uint16_t old_words[2] = {load_be16(tcp + w), load_be16(tcp + w + 2)};
        store_be16(tcp + o + 2, limit);
        std::uint16_t c = load_be16(tcp + 16);
        for (std::uint32_t k = 0; k < words; ++k)
          c = checksum_update16(c, old_words[k], load_be16(tcp + w + 2 * k));
        store_be16(tcp + 16, c);
        ctx.counters->mss_clamped.add();
      }
      return;
    }
    o += len;
  }
}

void decrement_hop_limit(const InnerInfo& info) noexcept {
  if (info.v6) {
    --info.ip[7];
  } else {
    ipv4_decrement_ttl(info.ip);
  }
}

}  // namespace

bool seal_on_tunnel(const TunnelTable& tunnels, WorkerContext& ctx, std::uint32_t tun, rte_mbuf* m, Egress* e,
                    DropReason* why) noexcept {
  const TunnelRuntime& tr = tunnels.tunnels[tun];
  crypto::PacketView view = view_after_ethernet(m);
  crypto::EspStatus status;
  tr.sa->encap_burst(*ctx.ws, &view, 1, &status);
  if (status != crypto::EspStatus::ok) {
    *why = drop_reason(status);
    return false;
  }
  std::uint8_t* eth = frame_from_view(m, view);
  std::memcpy(eth + 6, ctx.ports[static_cast<std::size_t>(ctx.wan)].mac.data(), 6);
  store_be16(eth + 12, kEtherIpv4);
  TunnelCounters& tc = ctx.counters->tunnels[tr.counter_slot];
  tc.tx_packets.add();
  tc.tx_bytes.add(view.len);
  *e = {static_cast<std::uint16_t>(ctx.wan), false, tr.next_hop_ip, nullptr};
  return true;
}

std::uint16_t lan_to_mesh_burst(const Snapshot& snap, WorkerContext& ctx, rte_mbuf** pkts,
                                std::uint16_t n, Egress* egress, DropReason* reasons) noexcept {
  InnerInfo info[kBurst];
  std::uint32_t tunnel[kBurst];
  StageOutput out;
  std::uint16_t n_ok = 0;
  auto refuse = [&out](rte_mbuf* m, DropReason r) { out.refuse(m, r); };
  const PolicyTable& policy = *snap.policy;
  const bool has_policy = policy.acl != nullptr;
  constexpr std::uint16_t kNoClass = 0xffff;  // no rule matched: the route's class
  std::uint16_t cls[kBurst];

  // 1. Parse; keep the candidates at the front.
  AclKey4 key4[kBurst];
  AclKey6 key6[kBurst];
  for (std::uint16_t i = 0; i < n; ++i) {
    DropReason why{};
    if (!parse_inner(pkts[i], info[n_ok], &why)) {
      refuse(pkts[i], why);
      continue;
    }
    if (has_policy) make_acl_key(flow_of(info[n_ok]), key4[n_ok], key6[n_ok]);
    pkts[n_ok++] = pkts[i];
  }

  // 1b. Policy: one rte_acl classification per family for the burst.
  for (std::uint16_t i = 0; i < n_ok; ++i) cls[i] = kNoClass;
  if (has_policy) {
    const AclKey4* k4[kBurst];
    const AclKey6* k6[kBurst];
    std::uint16_t at4[kBurst], at6[kBurst], c4 = 0, c6 = 0;
    for (std::uint16_t i = 0; i < n_ok; ++i) {
      if (info[i].v6) {
        k6[c6] = &key6[i];
        at6[c6++] = i;
      } else {
        k4[c4] = &key4[i];
        at4[c4++] = i;
      }
    }
    std::uint32_t r4[kBurst], r6[kBurst], rule[kBurst];
    policy.acl->classify4(k4, r4, c4);
    policy.acl->classify6(k6, r6, c6);
    for (std::uint16_t k = 0; k < c4; ++k) rule[at4[k]] = r4[k];
    for (std::uint16_t k = 0; k < c6; ++k) rule[at6[k]] = r6[k];
    std::uint16_t kept = 0;
    for (std::uint16_t i = 0; i < n_ok; ++i) {
      std::uint16_t c = kNoClass;
      if (rule[i] != 0) {
        const PolicyTable::Verdict& v = policy.verdicts[rule[i] - 1];
        if (v.deny) {
          refuse(pkts[i], DropReason::policy_denied);
          continue;
        }
        c = v.traffic_class;
      }
      pkts[kept] = pkts[i];
      info[kept] = info[i];
      cls[kept++] = c;
    }
    n_ok = kept;
  }

  // 2. Longest-prefix match, IPv4 and IPv6 each in one bulk lookup.
  std::uint32_t v4_dst[kBurst], v4_target[kBurst];
  std::uint8_t v6_dst[kBurst][16];
  std::uint32_t v6_target[kBurst];
  std::uint16_t v4_at[kBurst], v6_at[kBurst], n4 = 0, n6 = 0;
  for (std::uint16_t i = 0; i < n_ok; ++i) {
    if (info[i].v6) {
      std::memcpy(v6_dst[n6], info[i].ip + 24, 16);
      v6_at[n6++] = i;
    } else {
      v4_dst[n4] = load_be32(info[i].ip + 16);
      v4_at[n4++] = i;
    }
  }
  const RouteTable& routes = *snap.routes;
  if (n4 != 0) routes.lookup_v4(v4_dst, v4_target, n4);
  if (n6 != 0) routes.lookup_v6(v6_dst, v6_target, n6);
  for (std::uint16_t k = 0; k < n4; ++k) info[v4_at[k]].target = v4_target[k];
  for (std::uint16_t k = 0; k < n6; ++k) info[v6_at[k]].target = v6_target[k];

  // 3. Tunnel, MTU, MSS, hop limit.
  const TunnelTable& tunnels = *snap.tunnels;
  const DestinationMap& dests = *snap.destinations;
  std::uint16_t n_go = 0;
  for (std::uint16_t i = 0; i < n_ok; ++i) {
    rte_mbuf* m = pkts[i];
    if (info[i].target == kNoEntry) {
      refuse(m, DropReason::no_route);
      continue;
    }
    const RouteTable::Target& t = routes.target(info[i].target);
    const std::uint16_t c = cls[i] != kNoClass ? cls[i] : t.traffic_class;
    const std::uint32_t tun = dests.lookup(t.egress, c);
    if (tun == kNoEntry) {
      refuse(m, DropReason::no_tunnel);
      continue;
    }
    const TunnelRuntime& tr = tunnels.tunnels[tun];
    if (info[i].ip_len > tr.mtu) {
      // DF set or IPv6: tell the sender; either way it does not fit.
      const bool df = info[i].v6 || (load_be16(info[i].ip + 6) & 0x4000) != 0;
      const bool told = df && send_too_big(ctx, static_cast<std::uint16_t>(ctx.lan), m, tr.mtu);
      refuse(m, told || !df ? DropReason::too_big : DropReason::icmp_rate_limited);
      continue;
    }
    clamp_mss(ctx, info[i], tr.mtu);
    decrement_hop_limit(info[i]);
    tunnel[n_go] = tun;
    pkts[n_go++] = m;
  }

  // 4. Encrypt per tunnel: one burst call per distinct tunnel in the burst.
  crypto::PacketView views[kBurst];
  crypto::EspStatus status[kBurst];
  rte_mbuf* group[kBurst];
  const PortRuntime& wan = ctx.ports[static_cast<std::size_t>(ctx.wan)];
  for_each_group(tunnel, n_go, [&](std::uint32_t tun, const std::uint16_t* members, std::uint16_t g) {
    for (std::uint16_t k = 0; k < g; ++k) {
      group[k] = pkts[members[k]];
      views[k] = view_after_ethernet(group[k]);
    }
    const TunnelRuntime& tr = tunnels.tunnels[tun];
    tr.sa->encap_burst(*ctx.ws, views, g, status);
    std::uint64_t sent = 0, bytes = 0;
    for (std::uint16_t k = 0; k < g; ++k) {
      if (status[k] != crypto::EspStatus::ok) {
        refuse(group[k], drop_reason(status[k]));
        continue;
      }
      std::uint8_t* eth = frame_from_view(group[k], views[k]);
      std::memcpy(eth + 6, wan.mac.data(), 6);
      store_be16(eth + 12, kEtherIpv4);
      ++sent;
      bytes += views[k].len;
      out.accept(group[k], egress, {static_cast<std::uint16_t>(ctx.wan), false, tr.next_hop_ip, nullptr});
    }
    TunnelCounters& tc = ctx.counters->tunnels[tr.counter_slot];
    tc.tx_packets.add(sent);
    tc.tx_bytes.add(bytes);
  });
  ctx.counters->encrypted.add(out.n_good);
  return out.finish(pkts, reasons);
}

}  // namespace meshgw::dataplane
