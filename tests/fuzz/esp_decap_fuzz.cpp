// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for the inbound ESP path (outer IPv4/UDP parse, SPI lookup,
// replay check, decrypt, trailer and inner checks).
// Input byte 0 picks the mode:
//   even: the rest is a packet off the wire -> decap_udp_ipv4.
//   odd:  the rest is an inner packet; it is encapsulated with the fuzz SA
//         (when valid), then bit 1..7 of byte 0 choose a truncation or a
//         bit flip, and the result is decapsulated. This reaches the code
//         after ICV verification with authentic packets.
// Invariants checked: no crash or sanitizer report; a packet rejected before
// decryption is left byte for byte as it was; an untouched encapsulation
// always decaps back to the original; a tampered one never decaps.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "crypto/esp.hpp"

using namespace meshgw::crypto;

namespace {

constexpr std::uint32_t kSpi = 0x1001;
constexpr std::uint32_t kRoom = 64;

SaKeyMaterial fuzz_keys() {
  SaKeyMaterial k;
  for (std::size_t i = 0; i < k.key.size(); ++i) k.key[i] = static_cast<std::uint8_t>(i * 7 + 1);
  k.salt = {0xde, 0xca, 0xf8, 0x88};
  return k;
}

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 70000) return 0;
  static CryptoWorkspace ws;
  const std::uint8_t mode = data[0];
  const bool esn = (mode & 0x80) == 0;
  const Backend backend = (mode & 0x40) ? Backend::openssl : Backend::ipsec_mb;
  InboundSa in({kSpi, esn, fuzz_keys(), 1024, backend}, ws);
  auto find = [&](std::uint32_t spi) { return spi == kSpi ? &in : nullptr; };

  std::vector<std::uint8_t> buf(kRoom + size - 1 + kRoom);
  std::memcpy(buf.data() + kRoom, data + 1, size - 1);
  PacketView view{buf.data() + kRoom, static_cast<std::uint32_t>(size - 1), kRoom, kRoom};

  if ((mode & 1) == 0) {
    const std::vector<std::uint8_t> before(view.data, view.data + view.len);
    OuterUdpInfo info;
    const EspStatus st = decap_udp_ipv4(ws, find, view, info);
    if (rejected_before_decryption(st)) {
      check(before.empty() || std::memcmp(buf.data() + kRoom, before.data(), before.size()) == 0);
    } else if (st != EspStatus::ok) {
      check(st == EspStatus::icv_failed);  // random bytes never pass the ICV
    } else {
      check(view.data >= buf.data() && view.data + view.len <= buf.data() + buf.size());
    }
    return 0;
  }

  OutboundSa out({kSpi, esn, fuzz_keys(), {0xc6120001, 0xc6120002}, backend, 1}, ws);
  const std::vector<std::uint8_t> inner(view.data, view.data + view.len);
  if (out.encap(ws, view) != EspStatus::ok) {
    check(inner.empty() || std::memcmp(view.data, inner.data(), inner.size()) == 0);
    return 0;
  }
  const unsigned tweak = (mode >> 1) & 0x1f;
  if (tweak == 0) {
    OuterUdpInfo info;
    check(decap_udp_ipv4(ws, find, view, info) == EspStatus::ok);
    check(view.len == inner.size() && std::memcmp(view.data, inner.data(), inner.size()) == 0);
    return 0;
  }
  std::uint32_t flipped = 0;
  if (tweak < 16) {
    view.len -= tweak;  // truncated on the way
  } else {
    flipped = (tweak * 131u) % view.len;
    view.data[flipped] ^= static_cast<std::uint8_t>(1u << (tweak & 7));
  }
  const std::vector<std::uint8_t> before(view.data, view.data + view.len);
  OuterUdpInfo info;
  const EspStatus st = decap_udp_ipv4(ws, find, view, info);
  if (rejected_before_decryption(st)) check(std::memcmp(view.data, before.data(), before.size()) == 0);
  // A truncated packet or a flipped bit in the ESP part never decaps (a flip
  // in the outer UDP checksum, which RFC 3948 lets us ignore, may).
  check(st != EspStatus::ok || (tweak >= 16 && flipped < kOuterIpv4Bytes + kUdpBytes));
  return 0;
}
