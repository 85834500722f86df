// SPDX-License-Identifier: BSD-3-Clause
#include "crypto/key_schedule.hpp"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

#include "crypto/hex.hpp"

namespace meshgw::crypto {
namespace {

std::vector<std::uint8_t> hex(const char* s) { return from_hex(s).value(); }

// RFC 5869 appendix A, test cases 1-3 (SHA-256).
TEST(Hkdf, Rfc5869Vectors) {
  EXPECT_EQ(to_hex(hkdf_sha256(hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
                               hex("000102030405060708090a0b0c"), hex("f0f1f2f3f4f5f6f7f8f9"), 42)
                       .data(),
                   42),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  std::vector<std::uint8_t> ikm2, salt2, info2;
  for (int i = 0x00; i <= 0x4f; ++i) ikm2.push_back(static_cast<std::uint8_t>(i));
  for (int i = 0x60; i <= 0xaf; ++i) salt2.push_back(static_cast<std::uint8_t>(i));
  for (int i = 0xb0; i <= 0xff; ++i) info2.push_back(static_cast<std::uint8_t>(i));
  const auto okm2 = hkdf_sha256(ikm2, salt2, info2, 82);
  EXPECT_EQ(to_hex(okm2.data(), okm2.size()),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87");
  const auto okm3 = hkdf_sha256(hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), {}, {}, 42);
  EXPECT_EQ(to_hex(okm3.data(), okm3.size()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(Hkdf, RejectsBadLengths) {
  const auto ikm = hex("0b0b0b0b");
  EXPECT_THROW(hkdf_sha256(ikm, {}, {}, 0), std::invalid_argument);
  EXPECT_THROW(hkdf_sha256(ikm, {}, {}, 255 * 32 + 1), std::invalid_argument);
}

TEST(SaKeys, HkdfBindsSpiAndEpoch) {
  std::vector<std::uint8_t> secret(32, 0x42);
  const auto a = derive_sa_keys_hkdf(secret, {0x1001, 0});
  const auto a2 = derive_sa_keys_hkdf(secret, {0x1001, 0});
  const auto b = derive_sa_keys_hkdf(secret, {0x1002, 0});
  const auto c = derive_sa_keys_hkdf(secret, {0x1001, 1});
  EXPECT_EQ(a.key, a2.key);
  EXPECT_EQ(a.salt, a2.salt);
  EXPECT_NE(a.key, b.key);
  EXPECT_NE(a.key, c.key);
  // Independent of our code path: the KEYMAT is HKDF(secret, info = context)[0..36).
  const auto okm = hkdf_sha256(secret, {}, sa_context_bytes({0x1001, 0}), 36);
  EXPECT_TRUE(std::equal(a.key.begin(), a.key.end(), okm.begin()));
  EXPECT_TRUE(std::equal(a.salt.begin(), a.salt.end(), okm.begin() + 32));
  EXPECT_THROW(derive_sa_keys_hkdf(std::vector<std::uint8_t>(16, 1), {1, 0}), std::invalid_argument);
}

// A real TLS 1.3 handshake over an in-memory BIO pair with a throwaway
// self-signed P-256 certificate; both ends must export the same SA keys.
struct SslDeleter {
  void operator()(SSL* s) const { SSL_free(s); }
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(X509* x) const { X509_free(x); }
};

TEST(SaKeys, TlsExporterGivesBothEndsTheSameKeys) {
  std::unique_ptr<EVP_PKEY, SslDeleter> key(EVP_EC_gen("P-256"));
  ASSERT_TRUE(key);
  std::unique_ptr<X509, SslDeleter> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("gw-test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  ASSERT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);

  std::unique_ptr<SSL_CTX, SslDeleter> sctx(SSL_CTX_new(TLS_server_method()));
  std::unique_ptr<SSL_CTX, SslDeleter> cctx(SSL_CTX_new(TLS_client_method()));
  for (SSL_CTX* c : {sctx.get(), cctx.get()}) {
    SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
  }
  ASSERT_EQ(SSL_CTX_use_certificate(sctx.get(), cert.get()), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey(sctx.get(), key.get()), 1);
  std::unique_ptr<SSL, SslDeleter> server(SSL_new(sctx.get()));
  std::unique_ptr<SSL, SslDeleter> client(SSL_new(cctx.get()));
  BIO *sbio = nullptr, *cbio = nullptr;
  ASSERT_EQ(BIO_new_bio_pair(&sbio, 0, &cbio, 0), 1);
  SSL_set_bio(server.get(), sbio, sbio);
  SSL_set_bio(client.get(), cbio, cbio);
  SSL_set_accept_state(server.get());
  SSL_set_connect_state(client.get());
  bool s_done = false, c_done = false;
  for (int i = 0; i < 20 && !(s_done && c_done); ++i) {
    if (!c_done) c_done = SSL_do_handshake(client.get()) == 1;
    if (!s_done) s_done = SSL_do_handshake(server.get()) == 1;
  }
  ASSERT_TRUE(s_done && c_done);
  ASSERT_EQ(SSL_version(client.get()), TLS1_3_VERSION);

  const auto ck = derive_sa_keys_exporter(client.get(), {0x2001, 3});
  const auto sk = derive_sa_keys_exporter(server.get(), {0x2001, 3});
  EXPECT_EQ(ck.key, sk.key);
  EXPECT_EQ(ck.salt, sk.salt);
  const auto other = derive_sa_keys_exporter(client.get(), {0x2001, 4});
  EXPECT_NE(ck.key, other.key);
  EXPECT_THROW(derive_sa_keys_exporter(nullptr, {1, 1}), std::invalid_argument);
}

}  // namespace
}  // namespace meshgw::crypto
