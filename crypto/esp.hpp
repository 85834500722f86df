// SPDX-License-Identifier: BSD-3-Clause
// ESP (RFC 4303) tunnel mode with AES-256-GCM (RFC 4106), UDP-encapsulated as
// in RFC 3948, over an IPv4 underlay. Encap and decap work in place on a byte
// buffer with headroom and tailroom (an mbuf's data area), no copies, no
// allocation, no exceptions: the data plane calls them per burst.
//
// Wire layout produced by OutboundSa::encap_burst (offsets in bytes):
//   0 IPv4 (20, DF, TOS copied from the inner packet)   20 UDP 4500 (8, checksum 0)
//   28 SPI (4)  32 sequence number low 32 bits (4)  36 IV = 64-bit sequence (8)
//   44 inner IPv4/IPv6 packet | padding 1,2,3.. | pad length | next header | ICV (16)
// Nonce = salt(4) || IV(8). AAD = SPI || seq (8 bytes), or SPI || seq high ||
// seq low (12 bytes) with extended sequence numbers (RFC 4106 section 5).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
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

// Overwrites n bytes in a way the compiler may not elide (OPENSSL_cleanse).
void secure_wipe(void* p, std::size_t n) noexcept;

// RFC 4106 KEYMAT: 32-byte AES key followed by the 4-byte salt. Every copy
// wipes itself when it dies, on every path (exceptions unwinding included).
struct SaKeyMaterial {
  std::array<std::uint8_t, kGcmKeyBytes> key{};
  std::array<std::uint8_t, 4> salt{};
  ~SaKeyMaterial() { secure_wipe(this, sizeof *this); }
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

// The control records: what an SA is. The runtimes below are derived from
// them in one place (their constructors) and hold only what packets read.
struct OutboundSaConfig {
  std::uint32_t spi = 0;
  bool esn = true;
  SaKeyMaterial keys;
  UdpTunnelEndpoints outer;
  Backend backend = Backend::ipsec_mb;
  std::uint64_t first_seq = 1;  // a new SA starts at 1; tests replay published vectors
};

struct InboundSaConfig {
  std::uint32_t spi = 0;
  bool esn = true;
  SaKeyMaterial keys;
  std::uint32_t replay_window = ReplayWindow::kDefaultSize;
  Backend backend = Backend::ipsec_mb;
};

inline constexpr std::uint16_t kMaxBurst = 64;

class OutboundSa;
class InboundSa;
using EncapBurstFn = std::uint16_t (*)(OutboundSa&, CryptoWorkspace&, PacketView*, std::uint16_t,
                                       EspStatus*) noexcept;
using DecapBurstFn = std::uint16_t (*)(InboundSa&, CryptoWorkspace&, PacketView*, std::uint16_t,
                                       EspStatus*, std::uint64_t*) noexcept;

// What every outbound packet reads, on one cache line.
struct alignas(64) OutboundSaHot {
  EncapBurstFn encap_burst;  // chosen once from the backend
  std::uint32_t spi;
  std::uint32_t outer_ip_sum;  // one's-complement sum of the template, TOS and length 0
  std::uint8_t salt[4];
  std::uint8_t outer_template[kOuterIpv4Bytes + kUdpBytes];
  bool esn;
};
static_assert(sizeof(OutboundSaHot) == 64, "outbound hot fields fit one cache line");

// Runtime of an outbound SA: key schedule, header template and the sequence
// counter. Threads: with ipsec-mb, any number of workers encap on it at once
// (the key schedule is read-only); each burst reserves its sequence numbers
// with one atomic add, so no number is ever used twice under this key (the
// only way to encrypt is through a burst). The OpenSSL backend keeps one
// EVP context per SA: one thread at a time.
class alignas(64) OutboundSa {
 public:
  // Throws std::invalid_argument (SPI 0..255 reserved, first_seq 0) or
  // std::runtime_error (backend). Control path.
  OutboundSa(const OutboundSaConfig& config, const CryptoWorkspace& ws);

  // Encapsulates n inner IPv4/IPv6 packets (n <= kMaxBurst) in place, in
  // index order with consecutive sequence numbers. status[i] is ok or the
  // reason pkts[i] was refused; refused packets are unchanged and consume
  // no sequence number (except crypto_error, OpenSSL only, never seen: the
  // packet bytes are then undefined). Returns the number encapsulated.
  // Hot path: one indirect call a burst, no branch on the backend per packet.
  std::uint16_t encap_burst(CryptoWorkspace& ws, PacketView* pkts, std::uint16_t n,
                            EspStatus* status) noexcept {
    return hot_.encap_burst(*this, ws, pkts, n, status);
  }
  // One packet (tools and tests).
  EspStatus encap(CryptoWorkspace& ws, PacketView& pkt) noexcept {
    EspStatus st;
    encap_burst(ws, &pkt, 1, &st);
    return st;
  }

  std::uint32_t spi() const noexcept { return hot_.spi; }
  std::uint64_t next_seq() const noexcept { return next_seq_.load(std::memory_order_relaxed); }
  bool esn() const noexcept { return hot_.esn; }
  Backend backend() const noexcept { return aead_.backend(); }

  template <Backend B>
  friend std::uint16_t encap_burst_impl(OutboundSa&, CryptoWorkspace&, PacketView*, std::uint16_t,
                                        EspStatus*) noexcept;

 private:
  OutboundSaHot hot_;
  // Written by every burst: its own line, so readers of hot_ do not share it.
  alignas(64) std::atomic<std::uint64_t> next_seq_;
  Aes256Gcm aead_;
};
static_assert(alignof(OutboundSa) == 64);

// Runtime of an inbound SA: key schedule and anti-replay window.
// Threads: one worker decaps on it at a time (RSS on the outer 5-tuple).
class alignas(64) InboundSa {
 public:
  InboundSa(const InboundSaConfig& config, const CryptoWorkspace& ws);

  // pkts[i] starts at the ESP header (SPI already matched by the caller).
  // On ok, pkts[i] is the inner IP packet and seqs[i] (if seqs) its full
  // sequence number. On an error found before decryption (truncated,
  // replayed, too_old) the bytes are unchanged; after decryption began they
  // are undefined and the packet must be dropped: a forged packet costs one
  // GCM pass, never two. The replay window moves only for packets whose ICV
  // verified. Returns the number of ok packets. Hot path.
  std::uint16_t decap_burst(CryptoWorkspace& ws, PacketView* pkts, std::uint16_t n,
                            EspStatus* status, std::uint64_t* seqs = nullptr) noexcept {
    return decap_burst_(*this, ws, pkts, n, status, seqs);
  }
  EspStatus decap(CryptoWorkspace& ws, PacketView& pkt, std::uint64_t* seq_out = nullptr) noexcept {
    EspStatus st;
    decap_burst(ws, &pkt, 1, &st, seq_out);
    return st;
  }

  std::uint32_t spi() const noexcept { return spi_; }
  const ReplayWindow& window() const noexcept { return window_; }
  // For state carried over from a previous instance of the SA (and tests).
  ReplayWindow& window() noexcept { return window_; }

  template <Backend B>
  friend std::uint16_t decap_burst_impl(InboundSa&, CryptoWorkspace&, PacketView*, std::uint16_t,
                                        EspStatus*, std::uint64_t*) noexcept;

 private:
  DecapBurstFn decap_burst_;
  std::uint32_t spi_;
  std::uint8_t salt_[4];
  ReplayWindow window_;
  Aes256Gcm aead_;
};
static_assert(alignof(InboundSa) == 64);

// Whether a decap error was found before decryption began, so the packet's
// bytes are still exactly as received.
constexpr bool rejected_before_decryption(EspStatus s) noexcept {
  return s != EspStatus::ok && s != EspStatus::icv_failed && s != EspStatus::bad_padding &&
         s != EspStatus::bad_next_header && s != EspStatus::bad_inner_packet &&
         s != EspStatus::crypto_error;
}

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

// Full inbound path for one ESP-in-UDP-in-IPv4 packet (tools and tests): outer
// checks, SPI lookup (find_sa(spi) returns InboundSa* or nullptr), replay
// check, decrypt, trailer and inner checks. On an error found before
// decryption pkt is unchanged; after it, its bytes are undefined.
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
