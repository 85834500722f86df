// SPDX-License-Identifier: BSD-3-Clause
// The mesh PKI on OpenSSL 3: ECDSA P-256 keys, the self-signed mesh CA, the
// CSRs gateways send, the certificates the controller issues (CN = gateway ID,
// OU = role, SAN URI urn:meshgw:gateway:<ID>), and their inspection and
// verification. Time is passed in (crypto/ has no clock). Control path:
// every function may throw PkiError with a message that names what is wrong
// and never includes key material. Any thread; no shared state.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct evp_pkey_st;

namespace meshgw::crypto::pki {

class PkiError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An ECDSA P-256 private key. PEM output is unencrypted PKCS#8: write it only
// to a 0600 file (common/secret_file), never to a log.
class PrivateKey {
 public:
  static PrivateKey generate_p256();
  // Throws PkiError for anything but a PEM private key of a supported type
  // (P-256 or Ed25519).
  static PrivateKey from_pem(const std::string& pem);
  std::string pem() const;
  std::string public_pem() const;
  evp_pkey_st* get() const noexcept { return key_.get(); }

 private:
  struct Free {
    void operator()(evp_pkey_st* k) const noexcept;
  };
  explicit PrivateKey(evp_pkey_st* k) : key_(k) {}
  std::unique_ptr<evp_pkey_st, Free> key_;
};

// What a certificate says, as the controller and the agents read it.
struct CertificateInfo {
  std::string common_name;   // the gateway ID (or the controller's name)
  std::string role;          // subject OU: core, edge, transit, controller, ca
  std::string serial_hex;    // lower-case hex, no leading zeros
  std::int64_t not_before = 0;  // Unix seconds
  std::int64_t not_after = 0;
  bool is_ca = false;
  std::string public_key_sha256_hex;  // of the DER SubjectPublicKeyInfo
};

// What a CSR asks for, once its signature has been checked.
struct CsrInfo {
  std::string common_name;  // as requested; the controller replaces it
  std::string public_key_pem;
  std::string public_key_sha256_hex;
};

// A self-signed CA certificate (CN = common_name, OU = "ca") valid from now
// for valid_seconds; path length 0, keyCertSign and cRLSign only.
std::string make_ca_certificate(const PrivateKey& key, const std::string& common_name, std::int64_t now,
                                std::int64_t valid_seconds);

// A CSR for key with subject CN = common_name, signed with SHA-256.
std::string make_csr(const PrivateKey& key, const std::string& common_name);

// Parses a PEM CSR and checks its self-signature; throws PkiError otherwise
// (also for keys other than P-256 and Ed25519).
CsrInfo inspect_csr(const std::string& csr_pem);

struct IssueRequest {
  std::string public_key_pem;  // from inspect_csr: the CSR's subject is never copied
  std::string common_name;
  std::string role;
  std::vector<std::string> dns_names;     // server certificates
  std::vector<std::string> ip_addresses;  // server certificates
  bool server_auth = false;
  bool client_auth = true;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
};

// Issues a certificate signed by the CA (random 128-bit serial). Gateway
// certificates carry the SAN URI urn:meshgw:gateway:<common_name>.
std::string issue_certificate(const PrivateKey& ca_key, const std::string& ca_cert_pem, const IssueRequest& req);

// Parses one PEM certificate; throws PkiError when it is not one.
CertificateInfo inspect_certificate(const std::string& cert_pem);

// Verifies cert_pem against the CA at time now: signature, validity period,
// and that it was issued by ca_pem. Throws PkiError with OpenSSL's reason.
void verify_certificate(const std::string& cert_pem, const std::string& ca_pem, std::int64_t now);

// Lower-case hex SHA-256 of the DER public key of a PEM key or certificate.
std::string sha256_hex(const std::uint8_t* data, std::size_t len);

}  // namespace meshgw::crypto::pki
