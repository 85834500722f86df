// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for the inbound path past the ICV: the input is the
// plaintext of an ESP packet (inner packet, padding, pad length, next
// header, all fuzzed), sealed here with the inbound SA's key and a fresh
// sequence number into ESP-in-UDP-in-IPv4 to this gateway, then received on
// the WAN port. Random bytes never pass an ICV; these do, so the checks
// after it (padding, next header, inner header and length, inner source,
// neighbour) are what gets fuzzed.
// Invariants: no crash or sanitizer report; a packet that comes out on the
// LAN is exactly the inner packet its own header delimits, from a remote
// site; every mbuf returns to the pool.
#include <cstdint>
#include <vector>

#include "crypto/aead.hpp"
#include "crypto/bytes.hpp"
#include "dataplane_fixture.hpp"

using namespace meshgw;
using namespace meshgw::dataplane;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2 || size > 1800) return 0;
  fuzz::Fixture& f = fuzz::fixture();
  static std::uint64_t seq = 0;
  static crypto::CryptoWorkspace ws;
  static const crypto::SaKeyMaterial key = fuzz::fuzz_key(fuzz::Fixture::kInSpi);
  static crypto::Aes256Gcm aead(crypto::Backend::ipsec_mb, key.key, ws);
  ++seq;
  // Ethernet | IPv4 | UDP 4500 | SPI | seq | IV | ciphertext | ICV
  std::vector<std::uint8_t> frame(14 + 20 + 8 + 16 + size + 16);
  std::uint8_t* eth = frame.data();
  const std::uint8_t wan_mac[6] = {2, 0, 0, 0, 0, 2};
  std::memcpy(eth, wan_mac, 6);
  crypto::store_be16(eth + 12, 0x0800);
  std::uint8_t* ip = eth + 14;
  ip[0] = 0x45;
  crypto::store_be16(ip + 2, static_cast<std::uint16_t>(frame.size() - 14));
  ip[8] = 64;
  ip[9] = 17;
  crypto::store_be32(ip + 12, fuzz::Fixture::kGwB);
  crypto::store_be32(ip + 16, fuzz::Fixture::kGwA);
  crypto::store_be16(ip + 10, crypto::internet_checksum(ip, 20));
  std::uint8_t* udp = ip + 20;
  crypto::store_be16(udp, 4500);
  crypto::store_be16(udp + 2, 4500);
  crypto::store_be16(udp + 4, static_cast<std::uint16_t>(frame.size() - 34));
  std::uint8_t* esp = udp + 8;
  crypto::store_be32(esp, fuzz::Fixture::kInSpi);
  crypto::store_be32(esp + 4, static_cast<std::uint32_t>(seq));
  crypto::store_be64(esp + 8, seq);
  std::uint8_t nonce[12], aad[12];
  std::memcpy(nonce, key.salt.data(), 4);
  crypto::store_be64(nonce + 4, seq);
  crypto::store_be32(aad, fuzz::Fixture::kInSpi);
  crypto::store_be32(aad + 4, static_cast<std::uint32_t>(seq >> 32));
  crypto::store_be32(aad + 8, static_cast<std::uint32_t>(seq));
  aead.seal(ws, nonce, aad, 12, data, esp + 16, size, esp + 16 + size);

  const std::uint64_t decrypted_before = f.counters->decrypted.get();
  auto& unresolved = f.counters->drops[static_cast<std::size_t>(DropReason::neighbour_unresolved)];
  const std::uint64_t unresolved_before = unresolved.get();
  f.run(1, f.frame(frame.data(), frame.size()));
  const bool delivered = f.counters->decrypted.get() != decrypted_before;
  // The delivered frame is on the LAN's TX buffer, or waiting for its
  // neighbour (then an ARP request is on the TX buffer instead).
  rte_mbuf* out_frame = nullptr;
  for (std::uint16_t i = 0; i < f.ctx.tx[0].count; ++i) {
    rte_mbuf* m = f.ctx.tx[0].pkts[i];
    if (crypto::load_be16(rte_pktmbuf_mtod(m, const std::uint8_t*) + 12) != 0x0806) out_frame = m;
  }
  if (f.ctx.pending.count != 0) out_frame = f.ctx.pending.entries[0].m;
  // IPv6 neighbours are static: a packet to an unknown one is dropped.
  const bool unresolved_drop = unresolved.get() != unresolved_before;
  fuzz::check(delivered == (out_frame != nullptr || unresolved_drop), "decrypted packets are delivered or counted");
  if (out_frame != nullptr) {
    const std::uint8_t* out = rte_pktmbuf_mtod(out_frame, const std::uint8_t*) + 14;
    const std::uint32_t len = out_frame->data_len - 14u;
    const std::uint8_t pad = data[size - 2];
    fuzz::check(len + pad + 2u <= size, "delivered packet lies inside the payload");
    fuzz::check(std::memcmp(out, data, len) == 0, "delivered packet is the plaintext's inner packet");
    const bool v6 = (out[0] >> 4) == 6;
    fuzz::check(v6 ? (out[8] == 0xfd && out[9] == 0 && out[10] == 0 && out[11] == 2)
                   : (out[12] == 198 && out[13] == 51 && out[14] == 100),
                "delivered packet comes from a remote site");
  }
  f.drain();
  return 0;
}
