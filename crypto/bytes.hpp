// SPDX-License-Identifier: BSD-3-Clause
// Big-endian loads/stores on unaligned byte buffers, and the Internet checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace meshgw::crypto {

inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void store_be64(std::uint8_t* p, std::uint64_t v) noexcept {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

// The checksum field for a 32-bit one's-complement sum of 16-bit words
// (RFC 1071): fold the carries, complement.
inline std::uint16_t finish_checksum(std::uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// RFC 1071 one's-complement sum over len bytes (len even for IP headers).
inline std::uint16_t internet_checksum(const std::uint8_t* p, std::size_t len) noexcept {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += load_be16(p + i);
  if (len & 1) sum += static_cast<std::uint32_t>(p[len - 1]) << 8;
  return finish_checksum(sum);
}

}  // namespace meshgw::crypto
