// SPDX-License-Identifier: BSD-3-Clause
// ESP (RFC 4303) tunnel mode with AES-256-GCM (RFC 4106), UDP-encapsulated as
// in RFC 3948, over an IPv4 underlay. Encap and decap work in place on a byte
// buffer with headroom and tailroom (an mbuf's data area), no copies, no
// allocation, no exceptions: the data plane calls them per packet.
//
// Wire layout produced by OutboundSa::encap (offsets in bytes):
//   0 IPv4 (20, DF, TOS copied from the inner packet)   20 UDP 4500 (8, checksum 0)
//   28 SPI (4)  32 sequence number low 32 bits (4)  36 IV = 64-bit sequence (8)
//   44 inner IPv4/IPv6 packet | padding 1,2,3.. | pad length | next header | ICV (16)
// Nonce = salt(4) || IV(8). AAD = SPI || seq (8 bytes), or SPI || seq high ||
// seq low (12 bytes) with extended sequence numbers (RFC 4106 section 5).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "aead.hpp"
#include "bytes.hpp"
#include "esp_status.hpp"
#include "replay_window.hpp"

namespace meshgw::crypto {

inline constexpr std::uint32_t kOuterIpv4Bytes = 20;
inline constexpr std::uint32_t kUdpBytes = 8;
inline constexpr std::uint32_t kEspHeaderBytes = 8;
inline constexpr std::uint32_t kEspIvBytes = 8;
inline constexpr std::uint32_t kEspTrailerBytes = 2;  // pad length + next header
inline constexpr std::uint32_t kEspIcvBytes = static_cast<std::uint32_t>(kGcmTagBytes);
inline constexpr std::uint16_t kEspUdpPort = 4500;
// What encap prepends and at most appends.
inline constexpr std::uint32_t kEncapHeadroom =
    kOuterIpv4Bytes + kUdpBytes + kEspHeaderBytes + kEspIvBytes;
inline constexpr std::uint32_t kEncapMaxTailroom = 3 + kEspTrailerBytes + kEspIcvBytes;
inline constexpr std::uint8_t kNextHeaderIpv4 = 4;
inline constexpr std::uint8_t kNextHeaderIpv6 = 41;

// RFC 4106 KEYMAT: 32-byte AES key followed by the 4-byte salt.
struct SaKeyMaterial {
  std::array<std::uint8_t, kGcmKeyBytes> key{};
  std::array<std::uint8_t, 4> salt{};
};

// A packet in a buffer: bytes [data, data+len) with headroom bytes usable
// before data and tailroom bytes after. Encap/decap move data and len.
struct PacketView {
  std::uint8_t* data;
  std::uint32_t len;
  std::uint32_t headroom;
  std::uint32_t tailroom;
};

// Outer addresses and ports in host byte order.
struct UdpTunnelEndpoints {
  std::uint32_t src_ip = 0;
  std::uint32_t dst_ip = 0;
  std::uint16_t src_port = kEspUdpPort;
  std::uint16_t dst_port = kEspUdpPort;
  std::uint8_t ttl = 64;
};

struct OutboundSaConfig {
  std::uint32_t spi = 0;
  bool esn = true;
  SaKeyMaterial keys;
  UdpTunnelEndpoints outer;
  Backend backend = Backend::ipsec_mb;
  std::uint64_t first_seq = 1;
};

struct InboundSaConfig {
  std::uint32_t spi = 0;
  bool esn = true;
  SaKeyMaterial keys;
  std::uint32_t replay_window = ReplayWindow::kDefaultSize;
  Backend backend = Backend::ipsec_mb;
};

// Runtime of an outbound SA: the key schedule, the header template and the
// sequence counter. Threads: one thread encaps on it at a time.
class alignas(64) OutboundSa {
 public:
  // Throws std::invalid_argument (SPI 0..255 reserved) or std::runtime_error.
  OutboundSa(const OutboundSaConfig& config, const CryptoWorkspace& ws);

  // Encapsulates the inner IPv4/IPv6 packet in pkt with the next sequence
  // number. On any error pkt is unchanged and the sequence is not consumed,
  // except crypto_error (OpenSSL backend only, never seen): then the packet
  // bytes are undefined and the packet must be dropped.
  EspStatus encap(CryptoWorkspace& ws, PacketView& pkt) noexcept;
  // Same with a caller-chosen sequence number (the data plane reserves a
  // range per burst; tests replay published vectors).
  EspStatus encap_with_seq(CryptoWorkspace& ws, PacketView& pkt, std::uint64_t seq) noexcept;

  std::uint32_t spi() const noexcept { return spi_; }
  std::uint64_t next_seq() const noexcept { return next_seq_; }
  bool esn() const noexcept { return esn_; }
  Backend backend() const noexcept { return aead_.backend(); }

 private:
  Aes256Gcm aead_;
  std::array<std::uint8_t, 4> salt_;
  std::uint32_t spi_;
  bool esn_;
  std::uint64_t next_seq_;
  std::array<std::uint8_t, kOuterIpv4Bytes + kUdpBytes> outer_template_{};
  std::uint32_t outer_ip_sum_ = 0;  // one's-complement sum of the template, TOS and length 0
};

// Runtime of an inbound SA: key schedule and anti-replay window.
// Threads: one worker decaps on it (RSS on the outer 5-tuple).
class alignas(64) InboundSa {
 public:
  InboundSa(const InboundSaConfig& config, const CryptoWorkspace& ws);

  // pkt starts at the ESP header (SPI already matched by the caller). On ok,
  // pkt is the inner IP packet. On any error the bytes of pkt are exactly as
  // they were (ciphertext restored if it had been decrypted) and the replay
  // window is updated only if the ICV verified.
  EspStatus decap(CryptoWorkspace& ws, PacketView& pkt, std::uint64_t* seq_out = nullptr) noexcept;

  std::uint32_t spi() const noexcept { return spi_; }
  const ReplayWindow& window() const noexcept { return window_; }
  // For state carried over from a previous instance of the SA (and tests).
  ReplayWindow& window() noexcept { return window_; }

 private:
  EspStatus restore(CryptoWorkspace& ws, const std::uint8_t* nonce, const std::uint8_t* aad,
                    std::size_t aad_len, std::uint8_t* text, std::size_t len,
                    EspStatus reason) noexcept;

  Aes256Gcm aead_;
  std::array<std::uint8_t, 4> salt_;
  std::uint32_t spi_;
  ReplayWindow window_;
};

// What the outer headers said, for counters and NAT-T peer learning.
struct OuterUdpInfo {
  std::uint32_t src_ip = 0, dst_ip = 0;  // host order
  std::uint16_t src_port = 0, dst_port = 0;
  std::uint32_t spi = 0;
  std::uint64_t seq = 0;
};

// Validates outer IPv4 + UDP and leaves pkt at the ESP header. Ethernet
// padding beyond the IPv4 total length is trimmed.
EspStatus parse_outer_udp_ipv4(PacketView& pkt, OuterUdpInfo& info) noexcept;

// Full inbound path for an ESP-in-UDP-in-IPv4 packet: outer checks, SPI
// lookup (find_sa(spi) returns InboundSa* or nullptr, inlined, no virtual
// call), replay check, decrypt, trailer and inner checks. On any error pkt is
// exactly as it was given.
template <class FindSa>
EspStatus decap_udp_ipv4(CryptoWorkspace& ws, FindSa&& find_sa, PacketView& pkt,
                         OuterUdpInfo& info) noexcept {
  PacketView esp = pkt;
  EspStatus st = parse_outer_udp_ipv4(esp, info);
  if (st != EspStatus::ok) return st;
  InboundSa* sa = find_sa(info.spi);
  if (sa == nullptr) return EspStatus::unknown_spi;
  st = sa->decap(ws, esp, &info.seq);
  if (st == EspStatus::ok) pkt = esp;
  return st;
}

}  // namespace meshgw::crypto
