// SPDX-License-Identifier: BSD-3-Clause
#include "tokens.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "crypto/pki.hpp"

namespace meshgw::controller {

namespace {

constexpr std::size_t kIdHex = 16;
constexpr std::size_t kSecretHex = 64;

std::string random_hex(std::size_t bytes) {
  unsigned char raw[32];
  if (bytes > sizeof raw || RAND_bytes(raw, static_cast<int>(bytes)) != 1)
    throw std::runtime_error("token: no randomness");
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (std::size_t i = 0; i < bytes; ++i) {
    hex += digits[raw[i] >> 4];
    hex += digits[raw[i] & 15];
  }
  OPENSSL_cleanse(raw, sizeof raw);
  return hex;
}

bool all_hex(std::string_view s) noexcept {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

NewToken make_token() {
  NewToken t;
  t.id = random_hex(kIdHex / 2);
  const std::string secret = random_hex(kSecretHex / 2);
  t.secret_hash = hash_secret(secret);
  t.text = t.id + "." + secret;
  return t;
}

std::optional<PresentedToken> parse_token(std::string_view text) noexcept {
  if (text.size() != kIdHex + 1 + kSecretHex || text[kIdHex] != '.') return std::nullopt;
  const std::string_view id = text.substr(0, kIdHex);
  const std::string_view secret = text.substr(kIdHex + 1);
  if (!all_hex(id) || !all_hex(secret)) return std::nullopt;
  return PresentedToken{std::string(id), std::string(secret)};
}

std::string hash_secret(std::string_view secret) {
  return crypto::pki::sha256_hex(reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size());
}

bool secret_matches(std::string_view secret, std::string_view stored_hash) noexcept {
  std::string computed;
  try {
    computed = hash_secret(secret);
  } catch (...) {
    return false;
  }
  return computed.size() == stored_hash.size() &&
         CRYPTO_memcmp(computed.data(), stored_hash.data(), computed.size()) == 0;
}

}  // namespace meshgw::controller
