// SPDX-License-Identifier: BSD-3-Clause
// Header offsets and small helpers for the packet stages: byte-order loads
// and stores (crypto/bytes.hpp), RFC 1624 incremental checksum updates, and
// mbuf <-> crypto::PacketView. Everything inline, nothing that allocates.
#pragma once

#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "crypto/bytes.hpp"
#include "crypto/esp.hpp"

namespace meshgw::dataplane {

using crypto::load_be16;
using crypto::load_be32;
using crypto::store_be16;
using crypto::store_be32;

using MacAddress = std::array<std::uint8_t, 6>;

inline constexpr std::uint32_t kEthBytes = 14;
inline constexpr std::uint16_t kEtherIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherIpv6 = 0x86dd;
inline constexpr std::uint16_t kEtherArp = 0x0806;
inline constexpr std::uint8_t kProtoIcmp = 1;
inline constexpr std::uint8_t kProtoTcp = 6;
inline constexpr std::uint8_t kProtoUdp = 17;
inline constexpr std::uint8_t kProtoIcmpv6 = 58;

inline std::uint8_t* mbuf_bytes(rte_mbuf* m) noexcept { return rte_pktmbuf_mtod(m, std::uint8_t*); }

// The frame after its Ethernet header, as crypto sees a buffer.
inline crypto::PacketView view_after_ethernet(rte_mbuf* m) noexcept {
  return {mbuf_bytes(m) + kEthBytes, static_cast<std::uint32_t>(m->data_len - kEthBytes),
          static_cast<std::uint32_t>(rte_pktmbuf_headroom(m) + kEthBytes),
          static_cast<std::uint32_t>(rte_pktmbuf_tailroom(m))};
}

// Makes the mbuf hold an Ethernet header in front of view (which lies in the
// mbuf's buffer, with at least kEthBytes of headroom).
inline std::uint8_t* frame_from_view(rte_mbuf* m, const crypto::PacketView& v) noexcept {
  std::uint8_t* eth = v.data - kEthBytes;
  m->data_off = static_cast<std::uint16_t>(eth - static_cast<std::uint8_t*>(m->buf_addr));
  m->data_len = static_cast<std::uint16_t>(v.len + kEthBytes);
  m->pkt_len = m->data_len;
  return eth;
}

inline void write_ethernet(std::uint8_t* eth, const MacAddress& dst, const MacAddress& src,
                           std::uint16_t type) noexcept {
  std::memcpy(eth, dst.data(), 6);
  std::memcpy(eth + 6, src.data(), 6);
  store_be16(eth + 12, type);
}

// RFC 1624: the checksum after a 16-bit word changed from old_word to new_word.
inline std::uint16_t checksum_update16(std::uint16_t checksum, std::uint16_t old_word,
                                       std::uint16_t new_word) noexcept {
  std::uint32_t sum = static_cast<std::uint16_t>(~checksum) + static_cast<std::uint32_t>(static_cast<std::uint16_t>(~old_word)) + new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

inline std::uint32_t sum16(const std::uint8_t* p, std::size_t len, std::uint32_t sum = 0) noexcept {
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += load_be16(p + i);
  if (len & 1) sum += static_cast<std::uint32_t>(p[len - 1]) << 8;
  return sum;
}

// Whether an IPv4 header of ihl bytes sums to 0xffff (RFC 1071): 32-bit
// loads into a 64-bit sum, folded once at the end (the byte order of the
// words does not matter for a one's-complement sum that is all ones).
inline bool ipv4_checksum_ok(const std::uint8_t* ip, std::uint32_t ihl) noexcept {
  auto word = [ip](std::uint32_t at) {
    std::uint32_t w;
    std::memcpy(&w, ip + at, 4);
    return std::uint64_t{w};
  };
  // The common header (no options) in five loads, without a loop.
  std::uint64_t sum = word(0) + word(4) + word(8) + word(12) + word(16);
  for (std::uint32_t i = 20; i < ihl; i += 4) sum += word(i);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

// Decrements an IPv4 TTL with the header checksum updated in place.
// The new word is computed in a register, never read back from the header
// just written (a store-forwarding stall).
inline void ipv4_decrement_ttl(std::uint8_t* ip) noexcept {
  const std::uint16_t old_word = load_be16(ip + 8);
  const auto new_word = static_cast<std::uint16_t>(old_word - 0x0100);
  const std::uint16_t old_sum = load_be16(ip + 10);
  ip[8] = static_cast<std::uint8_t>(new_word >> 8);
  store_be16(ip + 10, checksum_update16(old_sum, old_word, new_word));
}

// The upper-layer checksum (ICMPv6, UDP, TCP over IPv6) with the RFC 8200
// 8.1 pseudo-header, over len bytes at l4 whose checksum field is zero.
inline std::uint16_t ipv6_l4_checksum(const std::uint8_t* ip6, const std::uint8_t* l4, std::uint32_t len,
                                      std::uint8_t next_header) noexcept {
  std::uint32_t sum = sum16(ip6 + 8, 32);
  sum += len >> 16;
  sum += len & 0xffff;
  sum += next_header;
  return crypto::finish_checksum(sum16(l4, len, sum));
}

}  // namespace meshgw::dataplane
