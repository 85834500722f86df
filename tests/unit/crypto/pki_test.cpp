// SPDX-License-Identifier: BSD-3-Clause
// The mesh PKI with real keys and certificates: CA, CSR, issuance, the
// fields the controller reads back, verification in and out of validity, and
// every refusal (foreign CA, tampered CSR, wrong key types, mismatched CA key).
#include "crypto/pki.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

using namespace meshgw::crypto::pki;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;  // fixed: tests do not read the clock

struct Ca {
  PrivateKey key = PrivateKey::generate_p256();
  std::string cert = make_ca_certificate(key, "test mesh CA", kNow, 3600 * 24);
};

IssueRequest gateway_request(const std::string& csr, const std::string& id, const std::string& role) {
  IssueRequest r;
  r.public_key_pem = inspect_csr(csr).public_key_pem;
  r.common_name = id;
  r.role = role;
  r.server_auth = true;
  r.not_before = kNow - 60;
  r.not_after = kNow + 3600;
  return r;
}

std::string pem_of(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string s(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return s;
}

TEST(Pki, CaCertificateIsSelfSignedCa) {
  Ca ca;
  const CertificateInfo info = inspect_certificate(ca.cert);
  EXPECT_EQ(info.common_name, "test mesh CA");
  EXPECT_EQ(info.role, "ca");
  EXPECT_TRUE(info.is_ca);
  EXPECT_EQ(info.not_after, kNow + 3600 * 24);
  EXPECT_NO_THROW(verify_certificate(ca.cert, ca.cert, kNow));
}

TEST(Pki, GatewayCertificateFromCsr) {
  Ca ca;
  const PrivateKey gw = PrivateKey::generate_p256();
  const std::string csr = make_csr(gw, "whatever-the-gateway-asks");
  const CsrInfo csr_info = inspect_csr(csr);
  EXPECT_EQ(csr_info.common_name, "whatever-the-gateway-asks");
  const std::string cert = issue_certificate(ca.key, ca.cert, gateway_request(csr, "gw-7", "edge"));
  const CertificateInfo info = inspect_certificate(cert);
  EXPECT_EQ(info.common_name, "gw-7");  // the controller's ID, not the CSR's
  EXPECT_EQ(info.role, "edge");
  EXPECT_FALSE(info.is_ca);
  EXPECT_EQ(info.not_after, kNow + 3600);
  EXPECT_EQ(info.serial_hex.size(), 32u);
  EXPECT_EQ(info.public_key_sha256_hex, csr_info.public_key_sha256_hex);
  EXPECT_NO_THROW(verify_certificate(cert, ca.cert, kNow));
  // Two certificates never share a serial.
  EXPECT_NE(inspect_certificate(issue_certificate(ca.key, ca.cert, gateway_request(csr, "gw-7", "edge"))).serial_hex,
            info.serial_hex);
}

TEST(Pki, VerificationFailsOutsideValidityAndForForeignCa) {
  Ca ca, other;
  const PrivateKey gw = PrivateKey::generate_p256();
  const std::string cert = issue_certificate(ca.key, ca.cert, gateway_request(make_csr(gw, "x"), "gw-1", "core"));
  try {
    verify_certificate(cert, ca.cert, kNow + 7200);
    FAIL() << "an expired certificate verified";
  } catch (const PkiError& e) {
    EXPECT_NE(std::string(e.what()).find("expired"), std::string::npos) << e.what();
  }
  EXPECT_THROW(verify_certificate(cert, ca.cert, kNow - 3600), PkiError);
  EXPECT_THROW(verify_certificate(cert, other.cert, kNow), PkiError);
}

TEST(Pki, TamperedCsrRefused) {
  const PrivateKey gw = PrivateKey::generate_p256();
  std::string csr = make_csr(gw, "gw");
  EXPECT_NO_THROW(inspect_csr(csr));
  // Flip a byte inside the base64 body (not the armour).
  const std::size_t at = csr.find('\n') + 40;
  csr[at] = csr[at] == 'A' ? 'B' : 'A';
  EXPECT_THROW(inspect_csr(csr), PkiError);
  EXPECT_THROW(inspect_csr("not a csr"), PkiError);
}

TEST(Pki, KeyTypesOtherThanP256AndEd25519Refused) {
  EXPECT_THROW(PrivateKey::from_pem(pem_of(EVP_RSA_gen(2048))), PkiError);
  EXPECT_THROW(PrivateKey::from_pem(pem_of(EVP_EC_gen("P-384"))), PkiError);
  const PrivateKey ed = PrivateKey::from_pem(pem_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")));
  Ca ca;
  const std::string cert = issue_certificate(ca.key, ca.cert, gateway_request(make_csr(ed, "ed"), "gw-9", "edge"));
  EXPECT_NO_THROW(verify_certificate(cert, ca.cert, kNow));
  EXPECT_THROW(PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), PkiError);
}

TEST(Pki, KeyPemRoundTripAndCaKeyMismatch) {
  Ca ca;
  const PrivateKey again = PrivateKey::from_pem(ca.key.pem());
  EXPECT_EQ(again.public_pem(), ca.key.public_pem());
  const PrivateKey gw = PrivateKey::generate_p256();
  const std::string csr = make_csr(gw, "gw");
  EXPECT_THROW(issue_certificate(gw, ca.cert, gateway_request(csr, "gw-2", "edge")), PkiError);
  IssueRequest backwards = gateway_request(csr, "gw-2", "edge");
  backwards.not_after = backwards.not_before;
  EXPECT_THROW(issue_certificate(ca.key, ca.cert, backwards), PkiError);
}

TEST(Pki, ServerCertificateNamesItsAddresses) {
  Ca ca;
  const PrivateKey srv = PrivateKey::generate_p256();
  IssueRequest r;
  r.public_key_pem = srv.public_pem();
  r.common_name = "meshctld";
  r.role = "controller";
  r.dns_names = {"localhost"};
  r.ip_addresses = {"127.0.0.1", "::1"};
  r.server_auth = true;
  r.client_auth = false;
  r.not_before = kNow;
  r.not_after = kNow + 100;
  const std::string cert = issue_certificate(ca.key, ca.cert, r);
  EXPECT_EQ(inspect_certificate(cert).role, "controller");
  EXPECT_NO_THROW(verify_certificate(cert, ca.cert, kNow + 1));
  r.ip_addresses = {"not-an-ip"};
  EXPECT_THROW(issue_certificate(ca.key, ca.cert, r), PkiError);
}

}  // namespace
