// SPDX-License-Identifier: BSD-3-Clause
// The mesh CA on disk: <dir>/ca.key (0600), <dir>/ca.pem, and the
// controller's TLS identity <dir>/server.key (0600), <dir>/server.pem, signed
// by the CA for the names and addresses gateways use to reach meshctld.
// Control path; throws std::runtime_error naming the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/pki.hpp"

namespace meshgw::controller {

struct CaInitOptions {
  std::string mesh_name = "meshgw mesh";
  std::vector<std::string> server_dns = {"localhost"};
  std::vector<std::string> server_ips = {"127.0.0.1", "::1"};
  std::int64_t ca_lifetime_s = 10LL * 365 * 86400;
  std::int64_t server_lifetime_s = 365LL * 86400;
};

class MeshCa {
 public:
  // Creates the four files in dir (which must exist); refuses to overwrite.
  static void init(const std::string& dir, const CaInitOptions& options, std::int64_t now);
  // Loads them; throws when one is missing, unreadable or does not match.
  explicit MeshCa(const std::string& dir);

  const std::string& ca_pem() const noexcept { return ca_pem_; }
  std::string ca_key_path() const { return dir_ + "/ca.key"; }
  std::string server_cert_path() const { return dir_ + "/server.pem"; }
  std::string server_key_path() const { return dir_ + "/server.key"; }
  std::string ca_cert_path() const { return dir_ + "/ca.pem"; }

  // A client (and server) certificate for a gateway: CN = id, OU = role.
  std::string issue_gateway(const std::string& public_key_pem, const std::string& id, const std::string& role,
                            std::int64_t now, std::int64_t lifetime_s) const;

 private:
  std::string dir_;
  crypto::pki::PrivateKey key_;
  std::string ca_pem_;
};

}  // namespace meshgw::controller
