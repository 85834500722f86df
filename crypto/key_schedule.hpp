// SPDX-License-Identifier: BSD-3-Clause
// Key schedule: derive an SA's AES-256-GCM key and salt (RFC 4106 KEYMAT,
// 36 bytes) from a shared secret and a context naming the SA.
//  - HKDF-SHA256 (RFC 5869) over a secret both ends hold.
//  - The TLS 1.3 exporter (RFC 8446 section 7.5) of the mTLS session between
//    ingress and egress, so the controller never sees data keys.
// The context binds the key to the SPI and the key epoch, so every SA and every
// rekey gets a distinct key and no nonce is ever reused under one key.
// Threads: control path only (allocates, may throw).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "esp.hpp"

typedef struct ssl_st SSL;

namespace meshgw::crypto {

// HKDF-SHA256 extract-then-expand; length <= 255 * 32. Throws
// std::invalid_argument for a bad length, std::runtime_error if OpenSSL fails.
std::vector<std::uint8_t> hkdf_sha256(std::span<const std::uint8_t> ikm,
                                      std::span<const std::uint8_t> salt,
                                      std::span<const std::uint8_t> info, std::size_t length);

struct SaContext {
  std::uint32_t spi = 0;
  std::uint32_t epoch = 0;  // incremented on every rekey of the tunnel
};

// The context bytes both derivations use: "meshgw-esp-v1" || SPI || epoch (big endian).
std::vector<std::uint8_t> sa_context_bytes(const SaContext& ctx);

inline constexpr std::string_view kExporterLabel = "EXPORTER-meshgw-esp-aes256gcm";

SaKeyMaterial derive_sa_keys_hkdf(std::span<const std::uint8_t> secret, const SaContext& ctx);

// ssl must be a completed TLS 1.3 connection; both ends get the same keys.
SaKeyMaterial derive_sa_keys_exporter(SSL* ssl, const SaContext& ctx);

}  // namespace meshgw::crypto
