// SPDX-License-Identifier: BSD-3-Clause
// Packets for the gateway itself, answered on the worker: ICMP echo, ICMPv6
// echo and neighbour solicitation, TWAMP-light reflection (RFC 5357
// appendix I, stateless), and the ICMP errors the forwarding path sends.
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "stages.hpp"

namespace meshgw::dataplane {

namespace {

void swap_macs(std::uint8_t* eth, const MacAddress& ours) noexcept {
  std::memcpy(eth, eth + 6, 6);
  std::memcpy(eth + 6, ours.data(), 6);
}

void finish_ipv4_header(std::uint8_t* ip) noexcept {
  store_be16(ip + 10, 0);
  store_be16(ip + 10, crypto::internet_checksum(ip, (ip[0] & 0x0fu) * 4u));
}

bool reflect_twamp(WorkerContext& ctx, std::uint16_t port, rte_mbuf* m, std::uint8_t* ip,
                   std::uint32_t ihl) noexcept {
  const std::uint64_t rx_ts = ntp_now(ctx);
  const std::uint32_t udp_len = load_be16(ip + ihl + 4);
  if (udp_len < 8 + kTwampSenderBytes || ihl + udp_len > m->data_len - kEthBytes) return false;
  std::uint32_t payload = udp_len - 8;
  if (payload < kTwampReplyBytes) {
    // The reply is never shorter than its fields; grow the frame.
    const std::uint32_t grow = kTwampReplyBytes - payload;
    if (rte_pktmbuf_append(m, static_cast<std::uint16_t>(grow)) == nullptr) return false;
    payload = kTwampReplyBytes;
  }
  write_twamp_reply(ctx, ip, ihl, payload, rx_ts);
  m->data_len = static_cast<std::uint16_t>(kEthBytes + ihl + 8 + payload);
  m->pkt_len = m->data_len;
  swap_macs(mbuf_bytes(m), ctx.ports[port].mac);
  ctx.counters->twamp_reflected.add();
  tx_enqueue(ctx, port, m);
  return true;
}

bool take_icmp_token(WorkerContext& ctx) noexcept {
  const std::uint64_t now = rte_rdtsc();
  const std::uint64_t earned = (now - ctx.icmp_last_tsc) / ctx.icmp_tsc_per_token;
  if (earned != 0) {
    ctx.icmp_tokens = std::min(ctx.icmp_max_tokens, ctx.icmp_tokens + earned);
    ctx.icmp_last_tsc += earned * ctx.icmp_tsc_per_token;
  }
  if (ctx.icmp_tokens == 0) return false;
  --ctx.icmp_tokens;
  return true;
}

}  // namespace

std::uint64_t ntp_now(const WorkerContext& ctx) noexcept {
  const std::uint64_t delta = rte_rdtsc() - ctx.tsc0;
  const std::uint64_t sec = delta / ctx.tsc_hz;
  const std::uint64_t frac = ((delta % ctx.tsc_hz) << 32) / ctx.tsc_hz;
  return ctx.ntp_at_tsc0 + (sec << 32) + frac;
}

// Reply: seq(4) ts(8) err(2) mbz(2) rx_ts(8) sender_seq(4) sender_ts(8)
// sender_err(2) mbz(2) sender_ttl(1); the sequence number is the sender's.
void fill_twamp_reply(const WorkerContext& ctx, std::uint8_t* t, std::uint8_t sender_ttl, std::uint64_t rx_ts) noexcept {
  const std::uint32_t sender_seq = load_be32(t);
  std::uint8_t sender_ts[8], sender_err[2];
  std::memcpy(sender_ts, t + 4, 8);
  std::memcpy(sender_err, t + 12, 2);
  std::memset(t, 0, kTwampReplyBytes);
  store_be32(t, sender_seq);
  store_be16(t + 12, 0x0001);  // error estimate: not synchronised, multiplier 1
  crypto::store_be64(t + 16, rx_ts);
  store_be32(t + 24, sender_seq);
  std::memcpy(t + 28, sender_ts, 8);
  std::memcpy(t + 36, sender_err, 2);
  t[40] = sender_ttl;
  crypto::store_be64(t + 4, ntp_now(ctx));
}

void write_twamp_reply(const WorkerContext& ctx, std::uint8_t* ip, std::uint32_t ihl, std::uint32_t payload,
                       std::uint64_t rx_ts) noexcept {
  std::uint8_t* udp = ip + ihl;
  fill_twamp_reply(ctx, udp + 8, ip[8], rx_ts);
  swap_ipv4_udp(ip, ihl);
  store_be16(ip + 2, static_cast<std::uint16_t>(ihl + 8 + payload));
  finish_ipv4_header(ip);
  store_be16(udp + 4, static_cast<std::uint16_t>(8 + payload));
}

void swap_ipv4_udp(std::uint8_t* ip, std::uint32_t ihl) noexcept {
  const std::uint32_t src = load_be32(ip + 12);
  store_be32(ip + 12, load_be32(ip + 16));
  store_be32(ip + 16, src);
  ip[8] = 255;  // RFC 5357 4.2: the reflector sends with TTL 255
  std::uint8_t* udp = ip + ihl;
  const std::uint16_t sport = load_be16(udp);
  store_be16(udp, load_be16(udp + 2));
  store_be16(udp + 2, sport);
  store_be16(udp + 6, 0);
  finish_ipv4_header(ip);
}

WorkerEvent twamp_reply_event(const WorkerContext& ctx, std::uint16_t port, const std::uint8_t* ip, std::uint32_t ihl,
                              std::uint32_t tunnel_spi) noexcept {
  return twamp_event(ctx, port, load_be32(ip + 12), load_be16(ip + ihl + 2), ip + ihl + 8, tunnel_spi);
}

WorkerEvent twamp_event(const WorkerContext& ctx, std::uint16_t port, std::uint32_t src_ip, std::uint16_t probe_port,
                        const std::uint8_t* t, std::uint32_t tunnel_spi) noexcept {
  WorkerEvent ev{WorkerEvent::Kind::probe_reply, port, src_ip, {}};
  ev.probe_port = probe_port;
  ev.probe_seq = load_be32(t + 24);
  ev.t1 = crypto::load_be64(t + 28);
  ev.t2 = crypto::load_be64(t + 16);
  ev.t3 = crypto::load_be64(t + 4);
  ev.t4 = ntp_now(ctx);
  ev.tunnel_spi = tunnel_spi;
  return ev;
}

void handle_local_ipv4(WorkerContext& ctx, std::uint16_t port, rte_mbuf* m) noexcept {
  std::uint8_t* eth = mbuf_bytes(m);
  std::uint8_t* ip = eth + kEthBytes;
  const std::uint32_t ihl = (ip[0] & 0x0fu) * 4u;
  const std::uint32_t len = m->data_len - kEthBytes;
  const bool first_fragment = (load_be16(ip + 6) & 0x3fff) == 0;
  if (ip[9] == kProtoIcmp && first_fragment && len >= ihl + 8 && ip[ihl] == 8 && ip[ihl + 1] == 0) {
    std::uint8_t* icmp = ip + ihl;
    icmp[0] = 0;  // echo reply
    store_be16(icmp + 2, checksum_update16(load_be16(icmp + 2), 0x0800, 0x0000));
    const std::uint32_t src = load_be32(ip + 12);
    store_be32(ip + 12, load_be32(ip + 16));
    store_be32(ip + 16, src);
    ip[8] = 64;
    finish_ipv4_header(ip);
    swap_macs(eth, ctx.ports[port].mac);
    ctx.counters->icmp_echo_replies.add();
    tx_enqueue(ctx, port, m);
    return;
  }
  if (ip[9] == kProtoUdp && first_fragment && ctx.twamp_port != 0 &&
      ctx.ports[port].role == PortRole::wan && len >= ihl + 8 && load_be16(ip + ihl + 2) == ctx.twamp_port) {
    if (!reflect_twamp(ctx, port, m, ip, ihl)) drop(ctx, m, DropReason::bad_ipv4_header);
    return;
  }
  // A reflected test packet of our own prober: its timestamps, to the
  // control thread (the RTT is computed there).
  if (ip[9] == kProtoUdp && first_fragment && ctx.twamp_port != 0 && ctx.ports[port].role == PortRole::wan &&
      len >= ihl + 8 + kTwampReplyBytes && load_be16(ip + ihl) == ctx.twamp_port &&
      load_be16(ip + ihl + 2) >= kProbePortFirst && load_be16(ip + ihl + 2) <= kProbePortLast) {
    if (ctx.events->push(twamp_reply_event(ctx, port, ip, ihl, 0))) ctx.counters->probe_replies.add();
    else ctx.counters->probe_replies_dropped.add();
    rte_pktmbuf_free(m);
    return;
  }
  punt_to_kernel(ctx, port, m);
}

void punt_to_kernel(WorkerContext& ctx, std::uint16_t port, rte_mbuf* m) noexcept {
  if (ctx.exception < 0 || static_cast<int>(port) != ctx.wan) {
    drop(ctx, m, DropReason::to_gateway_unhandled);
    return;
  }
  ctx.counters->punted_to_kernel.add();
  tx_enqueue(ctx, static_cast<std::uint16_t>(ctx.exception), m);
}

void handle_local_ipv6(WorkerContext& ctx, std::uint16_t port, rte_mbuf* m) noexcept {
  const PortRuntime& pr = ctx.ports[port];
  std::uint8_t* eth = mbuf_bytes(m);
  std::uint8_t* ip = eth + kEthBytes;
  const std::uint32_t payload = load_be16(ip + 4);
  std::uint8_t* icmp = ip + 40;
  if (ip[6] != kProtoIcmpv6 || payload < 8) {
    drop(ctx, m, DropReason::to_gateway_unhandled);
    return;
  }
  const bool to_us = std::memcmp(ip + 24, pr.address.ipv6.data(), 16) == 0;
  if (icmp[0] == 128 && to_us) {  // echo request
    icmp[0] = 129;
    std::uint8_t src[16];
    std::memcpy(src, ip + 8, 16);
    std::memcpy(ip + 8, ip + 24, 16);
    std::memcpy(ip + 24, src, 16);
    ip[7] = 64;
    store_be16(icmp + 2, 0);
    store_be16(icmp + 2, ipv6_l4_checksum(ip, icmp, payload, kProtoIcmpv6));
    swap_macs(eth, pr.mac);
    ctx.counters->icmp_echo_replies.add();
    tx_enqueue(ctx, port, m);
    return;
  }
  // Neighbour solicitation for our address (RFC 4861 4.3) -> advertisement.
  static constexpr std::uint8_t kUnspecified[16] = {};
  if (icmp[0] == 135 && payload >= 24 && ip[7] == 255 &&
      std::memcmp(icmp + 8, pr.address.ipv6.data(), 16) == 0 &&
      std::memcmp(ip + 8, kUnspecified, 16) != 0) {
    constexpr std::uint32_t kNaBytes = 32;  // header 24 + target link-layer option 8
    const std::uint32_t have = m->data_len - kEthBytes - 40;
    if (have < kNaBytes && rte_pktmbuf_append(m, static_cast<std::uint16_t>(kNaBytes - have)) == nullptr) {
      drop(ctx, m, DropReason::no_mbuf);
      return;
    }
    std::memcpy(ip + 24, ip + 8, 16);
    std::memcpy(ip + 8, pr.address.ipv6.data(), 16);
    store_be16(ip + 4, kNaBytes);
    ip[7] = 255;
    std::memset(icmp, 0, kNaBytes);
    icmp[0] = 136;
    store_be32(icmp + 4, 0x60000000);  // solicited, override
    std::memcpy(icmp + 8, pr.address.ipv6.data(), 16);
    icmp[24] = 2;  // target link-layer address
    icmp[25] = 1;
    std::memcpy(icmp + 26, pr.mac.data(), 6);
    store_be16(icmp + 2, ipv6_l4_checksum(ip, icmp, kNaBytes, kProtoIcmpv6));
    m->data_len = static_cast<std::uint16_t>(kEthBytes + 40 + kNaBytes);
    m->pkt_len = m->data_len;
    swap_macs(eth, pr.mac);
    ctx.counters->ndp_adverts_sent.add();
    tx_enqueue(ctx, port, m);
    return;
  }
  drop(ctx, m, to_us ? DropReason::to_gateway_unhandled : DropReason::not_for_us);
}

bool send_too_big(WorkerContext& ctx, std::uint16_t port, rte_mbuf* orig, std::uint16_t mtu) noexcept {
  const PortRuntime& pr = ctx.ports[port];
  const std::uint8_t* oeth = mbuf_bytes(orig);
  const std::uint8_t* oip = oeth + kEthBytes;
  const bool v6 = (oip[0] >> 4) == 6;
  if (v6 ? !pr.address.has_ipv6 : pr.address.ipv4 == 0) return false;
  if (!take_icmp_token(ctx)) return false;
  rte_mbuf* m = rte_pktmbuf_alloc(ctx.pool);
  if (m == nullptr) {
    count_drop(ctx, DropReason::no_mbuf);
    return false;
  }
  const std::uint32_t orig_len = orig->data_len - kEthBytes;
  // Quote as much as fits the minimum MTU (RFC 1812 4.3.2.3, RFC 4443 3.2).
  const std::uint32_t header = v6 ? 40 + 8 : 20 + 8;
  const std::uint32_t quote = std::min(orig_len, (v6 ? 1280u : 576u) - header);
  if (rte_pktmbuf_append(m, static_cast<std::uint16_t>(kEthBytes + header + quote)) == nullptr) {
    rte_pktmbuf_free(m);
    count_drop(ctx, DropReason::no_mbuf);
    return false;
  }
  std::uint8_t* eth = mbuf_bytes(m);
  MacAddress to;
  std::memcpy(to.data(), oeth + 6, 6);
  write_ethernet(eth, to, pr.mac, v6 ? kEtherIpv6 : kEtherIpv4);
  std::uint8_t* ip = eth + kEthBytes;
  std::memset(ip, 0, header);
  if (v6) {
    ip[0] = 0x60;
    store_be16(ip + 4, static_cast<std::uint16_t>(8 + quote));
    ip[6] = kProtoIcmpv6;
    ip[7] = 64;
    std::memcpy(ip + 8, pr.address.ipv6.data(), 16);
    std::memcpy(ip + 24, oip + 8, 16);
    std::uint8_t* icmp = ip + 40;
    icmp[0] = 2;  // packet too big
    store_be32(icmp + 4, mtu);
    std::memcpy(icmp + 8, oip, quote);
    store_be16(icmp + 2, ipv6_l4_checksum(ip, icmp, 8 + quote, kProtoIcmpv6));
  } else {
    ip[0] = 0x45;
    store_be16(ip + 2, static_cast<std::uint16_t>(header + quote));
    ip[8] = 64;
    ip[9] = kProtoIcmp;
    store_be32(ip + 12, pr.address.ipv4);
    std::memcpy(ip + 16, oip + 12, 4);
    finish_ipv4_header(ip);
    std::uint8_t* icmp = ip + 20;
    icmp[0] = 3;  // destination unreachable
    icmp[1] = 4;  // fragmentation needed and DF set (RFC 1191)
    store_be16(icmp + 6, mtu);
    std::memcpy(icmp + 8, oip, quote);
    store_be16(icmp + 2, crypto::internet_checksum(icmp, 8 + quote));
  }
  ctx.counters->icmp_errors_sent.add();
  tx_enqueue(ctx, port, m);
  return true;
}

}  // namespace meshgw::dataplane
