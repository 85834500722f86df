// SPDX-License-Identifier: BSD-3-Clause
// Who may be in the mesh: join and bearer tokens, gateway registration with
// a CSR, renewal, revocation and eviction, over a Storage and the MeshCa.
// Every decision is written before it is returned (acknowledged = durable).
// The caller serialises calls (the controller's state lock); time is passed in.
// Refusals throw RegistryError with a kind the REST layer maps to a status.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "mesh_ca.hpp"
#include "records.hpp"
#include "storage.hpp"

namespace meshgw::controller {

class RegistryError : public std::runtime_error {
 public:
  enum class Kind { bad_request, unauthorized, forbidden, not_found, conflict };
  RegistryError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

struct RegistryOptions {
  std::int64_t cert_lifetime_s = 86400;  // short-lived: renewed over mTLS before expiry
  std::uint32_t first_spi = 0x1000;
};

struct TokenRequest {
  TokenKind kind = TokenKind::join;
  Role role = Role::edge;
  std::int64_t lifetime_s = 3600;  // 0: never expires
  std::int64_t uses = 1;           // join tokens; -1: unlimited
  bool ephemeral = false;
  std::string site;
  std::string region;
  std::string description;
};

struct CreatedToken {
  TokenRecord record;
  std::string text;  // shown once
};

struct Registration {
  GatewayRecord gateway;
  std::string certificate_pem;
  std::string ca_pem;
  EventRecord event;
};

class Registry {
 public:
  Registry(Storage& storage, const MeshCa& ca, RegistryOptions options);

  // Admin tokens, read-only tokens and join tokens.
  CreatedToken create_token(const TokenRequest& req, std::int64_t now);
  // The admin or read-only token a bearer string names, if valid at now.
  std::optional<TokenRecord> authenticate(const std::string& bearer, std::int64_t now);
  std::vector<TokenRecord> tokens();
  void delete_token(const std::string& id);

  // Registers a gateway with a join token and a PEM CSR. requested_role, when
  // given, must be the token's role (a core gateway needs a core token).
  Registration register_gateway(const std::string& join_token, const std::string& csr_pem,
                                std::optional<Role> requested_role, std::int64_t now);
  // A new certificate for a registered, unrevoked gateway (identified by its
  // current certificate, never by the request).
  Registration renew(const std::string& gateway_id, const std::string& csr_pem, std::int64_t now);
  // Revokes: status revoked, certificate serial refused from now on.
  EventRecord revoke(const std::string& gateway_id, std::int64_t now);
  // Forgets a gateway (it may register again with a new token).
  EventRecord evict(const std::string& gateway_id, std::int64_t now, const std::string& why);

  std::optional<GatewayRecord> gateway(const std::string& id) { return storage_.gateway(id); }
  const MeshCa& ca() const noexcept { return ca_; }

 private:
  Storage& storage_;
  const MeshCa& ca_;
  RegistryOptions options_;
};

}  // namespace meshgw::controller
