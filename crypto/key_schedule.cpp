// SPDX-License-Identifier: BSD-3-Clause
#include "key_schedule.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace meshgw::crypto {

namespace {

struct KdfDeleter {
  void operator()(EVP_KDF* k) const noexcept { EVP_KDF_free(k); }
  void operator()(EVP_KDF_CTX* c) const noexcept { EVP_KDF_CTX_free(c); }
};

SaKeyMaterial split_keymat(std::uint8_t* keymat) {
  SaKeyMaterial keys;
  std::memcpy(keys.key.data(), keymat, keys.key.size());
  std::memcpy(keys.salt.data(), keymat + keys.key.size(), keys.salt.size());
  OPENSSL_cleanse(keymat, keys.key.size() + keys.salt.size());
  return keys;
}

}  // namespace

std::vector<std::uint8_t> hkdf_sha256(std::span<const std::uint8_t> ikm,
                                      std::span<const std::uint8_t> salt,
                                      std::span<const std::uint8_t> info, std::size_t length) {
  if (length == 0 || length > 255 * 32)
    throw std::invalid_argument("HKDF-SHA256 output length must be 1..8160 bytes");
  std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) throw std::runtime_error("openssl: HKDF not available");
  std::unique_ptr<EVP_KDF_CTX, KdfDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) throw std::runtime_error("openssl: EVP_KDF_CTX_new failed");
  // OpenSSL's parameter API takes non-const pointers but does not write through them.
  auto* ikm_p = const_cast<std::uint8_t*>(ikm.data());
  auto* salt_p = const_cast<std::uint8_t*>(salt.data());
  auto* info_p = const_cast<std::uint8_t*>(info.data());
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm_p, ikm.size());
  if (!salt.empty())
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_p, salt.size());
  if (!info.empty())
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_p, info.size());
  params[n] = OSSL_PARAM_construct_end();
  std::vector<std::uint8_t> out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1)
    throw std::runtime_error("openssl: HKDF-SHA256 derivation failed");
  return out;
}

std::vector<std::uint8_t> sa_context_bytes(const SaContext& ctx) {
  static constexpr std::string_view kPrefix = "meshgw-esp-v1";
  std::vector<std::uint8_t> bytes(kPrefix.begin(), kPrefix.end());
  bytes.resize(kPrefix.size() + 8);
  store_be32(bytes.data() + kPrefix.size(), ctx.spi);
  store_be32(bytes.data() + kPrefix.size() + 4, ctx.epoch);
  return bytes;
}

SaKeyMaterial derive_sa_keys_hkdf(std::span<const std::uint8_t> secret, const SaContext& ctx) {
  if (secret.size() < 32) throw std::invalid_argument("SA secret must be at least 32 bytes");
  const std::vector<std::uint8_t> info = sa_context_bytes(ctx);
  std::vector<std::uint8_t> keymat = hkdf_sha256(secret, {}, info, kGcmKeyBytes + 4);
  return split_keymat(keymat.data());
}

SaKeyMaterial derive_sa_keys_exporter(SSL* ssl, const SaContext& ctx) {
  if (ssl == nullptr || SSL_version(ssl) != TLS1_3_VERSION)
    throw std::invalid_argument("TLS exporter keys need an established TLS 1.3 session");
  const std::vector<std::uint8_t> context = sa_context_bytes(ctx);
  std::array<std::uint8_t, kGcmKeyBytes + 4> keymat{};
  if (SSL_export_keying_material(ssl, keymat.data(), keymat.size(), kExporterLabel.data(),
                                 kExporterLabel.size(), context.data(), context.size(), 1) != 1)
    throw std::runtime_error("openssl: SSL_export_keying_material failed");
  return split_keymat(keymat.data());
}

}  // namespace meshgw::crypto
