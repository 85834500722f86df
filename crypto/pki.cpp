// SPDX-License-Identifier: BSD-3-Clause
#include "pki.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>

namespace meshgw::crypto::pki {

namespace {

// OpenSSL's most recent error, for a message that says why.
std::string ssl_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

[[noreturn]] void fail(const std::string& what) { throw PkiError(what + ": " + ssl_reason()); }

struct BioFree {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
struct ReqFree {
  void operator()(X509_REQ* r) const noexcept { X509_REQ_free(r); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using ReqPtr = std::unique_ptr<X509_REQ, ReqFree>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

BioPtr read_bio(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) fail("BIO_new_mem_buf");
  return bio;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

X509Ptr parse_cert(const std::string& pem) {
  auto bio = read_bio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) fail("not a PEM certificate");
  return cert;
}

KeyPtr parse_public_key(const std::string& pem) {
  auto bio = read_bio(pem);
  KeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) fail("not a PEM public key");
  return key;
}

void check_key_type(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) return;
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &len) == 1 &&
        std::strcmp(group, "prime256v1") == 0)
      return;
    throw PkiError(std::string("EC key on curve ") + (group[0] ? group : "?") + ": only P-256 is accepted");
  }
  throw PkiError("key type not accepted: use ECDSA P-256 or Ed25519");
}

const EVP_MD* digest_for(EVP_PKEY* key) {
  // Ed25519 signs the message itself: no separate digest.
  return EVP_PKEY_is_a(key, "ED25519") ? nullptr : EVP_sha256();
}

std::string spki_sha256(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  if (len <= 0) fail("i2d_PUBKEY");
  std::string hex = sha256_hex(der, static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return hex;
}

std::string name_entry(const X509_NAME* name, int nid) {
  const int at = X509_NAME_get_index_by_NID(name, nid, -1);
  if (at < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

void set_subject(X509_NAME* name, const std::string& cn, const std::string& ou) {
  auto add = [name](const char* field, const std::string& value) {
    if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1)
      fail(std::string("subject ") + field);
  };
  add("O", "meshgw");
  if (!ou.empty()) add("OU", ou);
  add("CN", cn);
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) fail("extension " + std::string(OBJ_nid2sn(nid)) + " = " + value);
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) fail("X509_add_ext");
}

void set_serial_and_times(X509* cert, std::int64_t not_before, std::int64_t not_after) {
  if (not_after <= not_before) throw PkiError("certificate validity: not_after must be after not_before");
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) fail("RAND_bytes");
  raw[0] &= 0x7f;  // positive (RFC 5280 4.1.2.2)
  raw[0] |= 0x01;  // and exactly 16 bytes long
  BIGNUM* bn = BN_bin2bn(raw, sizeof raw, nullptr);
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == nullptr) {
    BN_free(bn);
    fail("serial number");
  }
  BN_free(bn);
  if (ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(not_after)) == nullptr)
    fail("validity period");
}

std::string cert_pem(X509* cert) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509(out.get(), cert) != 1) fail("PEM_write_bio_X509");
  return bio_text(out.get());
}

std::int64_t asn1_seconds(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) fail("certificate time");
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace

void PrivateKey::Free::operator()(evp_pkey_st* k) const noexcept { EVP_PKEY_free(k); }

PrivateKey PrivateKey::generate_p256() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) fail("P-256 key generation");
  return PrivateKey(key);
}

PrivateKey PrivateKey::from_pem(const std::string& pem) {
  auto bio = read_bio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    ERR_clear_error();
    throw PkiError("not an unencrypted PEM private key");
  }
  PrivateKey k(key);
  check_key_type(k.get());
  return k;
}

std::string PrivateKey::pem() const {
  BioPtr out(BIO_new(BIO_s_secmem()));
  if (!out || PEM_write_bio_PrivateKey(out.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("PEM_write_bio_PrivateKey");
  return bio_text(out.get());
}

std::string PrivateKey::public_pem() const {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PUBKEY(out.get(), key_.get()) != 1) fail("PEM_write_bio_PUBKEY");
  return bio_text(out.get());
}

std::string sha256_hex(const std::uint8_t* data, std::size_t len) {
  unsigned char md[32];
  unsigned int md_len = 0;
  if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), nullptr) != 1) fail("SHA-256");
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < md_len; ++i) {
    hex += digits[md[i] >> 4];
    hex += digits[md[i] & 15];
  }
  return hex;
}

std::string make_ca_certificate(const PrivateKey& key, const std::string& common_name, std::int64_t now,
                                std::int64_t valid_seconds) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) fail("X509_new");
  set_serial_and_times(cert.get(), now - 60, now + valid_seconds);  // a minute of clock skew
  set_subject(X509_get_subject_name(cert.get()), common_name, "ca");
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1) fail("issuer");
  if (X509_set_pubkey(cert.get(), key.get()) != 1) fail("X509_set_pubkey");
  add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  if (X509_sign(cert.get(), key.get(), digest_for(key.get())) <= 0) fail("X509_sign");
  return cert_pem(cert.get());
}

std::string make_csr(const PrivateKey& key, const std::string& common_name) {
  ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1) fail("X509_REQ_new");
  set_subject(X509_REQ_get_subject_name(req.get()), common_name, "");
  if (X509_REQ_set_pubkey(req.get(), key.get()) != 1) fail("X509_REQ_set_pubkey");
  if (X509_REQ_sign(req.get(), key.get(), digest_for(key.get())) <= 0) fail("X509_REQ_sign");
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509_REQ(out.get(), req.get()) != 1) fail("PEM_write_bio_X509_REQ");
  return bio_text(out.get());
}

CsrInfo inspect_csr(const std::string& csr_pem) {
  auto bio = read_bio(csr_pem);
  ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) {
    ERR_clear_error();
    throw PkiError("not a PEM certificate signing request");
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr) fail("CSR without a public key");
  check_key_type(key);
  if (X509_REQ_verify(req.get(), key) != 1) {
    ERR_clear_error();
    throw PkiError("CSR signature does not verify with its own public key");
  }
  CsrInfo info;
  info.common_name = name_entry(X509_REQ_get_subject_name(req.get()), NID_commonName);
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PUBKEY(out.get(), key) != 1) fail("PEM_write_bio_PUBKEY");
  info.public_key_pem = bio_text(out.get());
  info.public_key_sha256_hex = spki_sha256(key);
  return info;
}

std::string issue_certificate(const PrivateKey& ca_key, const std::string& ca_cert_pem, const IssueRequest& req) {
  if (req.common_name.empty()) throw PkiError("certificate common name is empty");
  X509Ptr ca = parse_cert(ca_cert_pem);
  if (X509_check_private_key(ca.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    throw PkiError("the CA key does not match the CA certificate");
  }
  KeyPtr subject_key = parse_public_key(req.public_key_pem);
  check_key_type(subject_key.get());
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) fail("X509_new");
  set_serial_and_times(cert.get(), req.not_before, req.not_after);
  set_subject(X509_get_subject_name(cert.get()), req.common_name, req.role);
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get())) != 1) fail("issuer");
  if (X509_set_pubkey(cert.get(), subject_key.get()) != 1) fail("X509_set_pubkey");
  add_extension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  std::string eku;
  if (req.server_auth) eku = "serverAuth";
  if (req.client_auth) eku += eku.empty() ? "clientAuth" : ",clientAuth";
  if (eku.empty()) throw PkiError("certificate must allow server or client authentication");
  add_extension(cert.get(), ca.get(), NID_ext_key_usage, eku);
  std::string san;
  auto add_san = [&san](const std::string& item) { san += (san.empty() ? "" : ",") + item; };
  for (const auto& d : req.dns_names) add_san("DNS:" + d);
  for (const auto& ip : req.ip_addresses) add_san("IP:" + ip);
  if (req.role != "controller") add_san("URI:urn:meshgw:gateway:" + req.common_name);
  if (!san.empty()) add_extension(cert.get(), ca.get(), NID_subject_alt_name, san);
  add_extension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  if (X509_sign(cert.get(), ca_key.get(), digest_for(ca_key.get())) <= 0) fail("X509_sign");
  return cert_pem(cert.get());
}

CertificateInfo inspect_certificate(const std::string& pem) {
  X509Ptr cert = parse_cert(pem);
  CertificateInfo info;
  const X509_NAME* subject = X509_get_subject_name(cert.get());
  info.common_name = name_entry(subject, NID_commonName);
  info.role = name_entry(subject, NID_organizationalUnitName);
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr);
  char* hex = bn ? BN_bn2hex(bn) : nullptr;
  BN_free(bn);
  if (hex == nullptr) fail("serial number");
  info.serial_hex = hex;
  OPENSSL_free(hex);
  for (char& c : info.serial_hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  info.not_before = asn1_seconds(X509_get0_notBefore(cert.get()));
  info.not_after = asn1_seconds(X509_get0_notAfter(cert.get()));
  info.is_ca = X509_check_ca(cert.get()) != 0;
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  if (key == nullptr) fail("certificate without a public key");
  info.public_key_sha256_hex = spki_sha256(key);
  return info;
}

void verify_certificate(const std::string& cert_pem, const std::string& ca_pem, std::int64_t now) {
  X509Ptr cert = parse_cert(cert_pem);
  X509Ptr ca = parse_cert(ca_pem);
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1)
    fail("X509_STORE");
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now));
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    throw PkiError(std::string("certificate does not verify: ") + X509_verify_cert_error_string(err));
  }
}

}  // namespace meshgw::crypto::pki
