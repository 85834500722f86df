// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_ca.hpp"

#include <openssl/crypto.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "controlplane/common/secret_file.hpp"

namespace meshgw::controller {

namespace pki = crypto::pki;

namespace {

std::string read_public(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_public(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::out | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw std::runtime_error(path + ": cannot write");
}

pki::PrivateKey load_key(const std::string& path) {
  std::string pem = common::read_secret_text(path, 16384);
  try {
    pki::PrivateKey key = pki::PrivateKey::from_pem(pem);
    OPENSSL_cleanse(pem.data(), pem.size());
    return key;
  } catch (const pki::PkiError& e) {
    OPENSSL_cleanse(pem.data(), pem.size());
    throw std::runtime_error(path + ": " + e.what());
  }
}

void write_key(const std::string& path, const pki::PrivateKey& key) {
  std::string pem = key.pem();
  try {
    common::write_secret_text(path, pem, false);
  } catch (...) {
    OPENSSL_cleanse(pem.data(), pem.size());
    throw;
  }
  OPENSSL_cleanse(pem.data(), pem.size());
}

}  // namespace

void MeshCa::init(const std::string& dir, const CaInitOptions& options, std::int64_t now) {
  const pki::PrivateKey ca_key = pki::PrivateKey::generate_p256();
  const std::string ca_pem = pki::make_ca_certificate(ca_key, options.mesh_name + " CA", now, options.ca_lifetime_s);
  const pki::PrivateKey server_key = pki::PrivateKey::generate_p256();
  pki::IssueRequest req;
  req.public_key_pem = server_key.public_pem();
  req.common_name = "meshctld";
  req.role = "controller";
  req.dns_names = options.server_dns;
  req.ip_addresses = options.server_ips;
  req.server_auth = true;
  req.client_auth = false;
  req.not_before = now - 60;
  req.not_after = now + options.server_lifetime_s;
  const std::string server_pem = pki::issue_certificate(ca_key, ca_pem, req);
  // Keys first, exclusively: a second init fails before touching anything.
  write_key(dir + "/ca.key", ca_key);
  write_key(dir + "/server.key", server_key);
  write_public(dir + "/ca.pem", ca_pem);
  write_public(dir + "/server.pem", server_pem);
}

MeshCa::MeshCa(const std::string& dir)
    : dir_(dir), key_(load_key(dir + "/ca.key")), ca_pem_(read_public(dir + "/ca.pem")) {
  const pki::CertificateInfo info = pki::inspect_certificate(ca_pem_);
  if (!info.is_ca) throw std::runtime_error(dir + "/ca.pem: not a CA certificate");
  load_key(server_key_path());  // present and private
  read_public(server_cert_path());
}

std::string MeshCa::issue_gateway(const std::string& public_key_pem, const std::string& id, const std::string& role,
                                  std::int64_t now, std::int64_t lifetime_s) const {
  pki::IssueRequest req;
  req.public_key_pem = public_key_pem;
  req.common_name = id;
  req.role = role;
  req.server_auth = true;  // gateways also serve each other's key-exchange TLS
  req.client_auth = true;
  req.not_before = now - 60;
  req.not_after = now + lifetime_s;
  return pki::issue_certificate(key_, ca_pem_, req);
}

}  // namespace meshgw::controller
