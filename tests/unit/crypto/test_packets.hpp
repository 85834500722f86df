// SPDX-License-Identifier: BSD-3-Clause
// Test helpers: inner IPv4/IPv6 packets and buffers with headroom/tailroom.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "crypto/bytes.hpp"
#include "crypto/esp.hpp"

namespace meshgw::crypto::test {

// A valid IPv4/UDP packet of total_len bytes (>= 28), 192.0.2.1 -> 198.51.100.1.
inline std::vector<std::uint8_t> make_ipv4_udp(std::uint32_t total_len, std::mt19937_64& rng,
                                               std::uint8_t tos = 0) {
  std::vector<std::uint8_t> p(total_len);
  p[0] = 0x45;
  p[1] = tos;
  store_be16(&p[2], static_cast<std::uint16_t>(total_len));
  p[8] = 64;
  p[9] = 17;
  store_be32(&p[12], 0xc0000201);
  store_be32(&p[16], 0xc6336401);
  store_be16(&p[10], internet_checksum(p.data(), 20));
  store_be16(&p[20], 40000);
  store_be16(&p[22], 5001);
  store_be16(&p[24], static_cast<std::uint16_t>(total_len - 20));
  for (std::size_t i = 28; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(rng());
  return p;
}

// A valid IPv6 packet of total_len bytes (>= 40), fd00::1 -> fd00::2, next header 59.
inline std::vector<std::uint8_t> make_ipv6(std::uint32_t total_len, std::mt19937_64& rng) {
  std::vector<std::uint8_t> p(total_len);
  p[0] = 0x60;
  store_be16(&p[4], static_cast<std::uint16_t>(total_len - 40));
  p[6] = 59;
  p[7] = 64;
  p[8] = 0xfd;
  p[23] = 1;
  p[24] = 0xfd;
  p[39] = 2;
  for (std::size_t i = 40; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(rng());
  return p;
}

// Owns a buffer laid out like an mbuf: headroom | packet | tailroom.
class TestBuffer {
 public:
  static constexpr std::uint32_t kHeadroom = 128;
  static constexpr std::uint32_t kTailroom = 128;

  explicit TestBuffer(const std::vector<std::uint8_t>& packet,
                      std::uint32_t headroom = kHeadroom, std::uint32_t tailroom = kTailroom)
      : storage_(headroom + packet.size() + tailroom, 0xee) {
    if (!packet.empty()) std::memcpy(storage_.data() + headroom, packet.data(), packet.size());
    view = {storage_.data() + headroom, static_cast<std::uint32_t>(packet.size()), headroom,
            tailroom};
  }
  std::vector<std::uint8_t> bytes() const { return {view.data, view.data + view.len}; }
  const std::vector<std::uint8_t>& storage() const { return storage_; }

  PacketView view;

 private:
  std::vector<std::uint8_t> storage_;
};

}  // namespace meshgw::crypto::test
