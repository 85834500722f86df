// SPDX-License-Identifier: BSD-3-Clause
// What meshctld keeps durably: gateways, tokens, events, SPI allocations and
// policies, as plain values that any Storage backend stores and returns
// unchanged. Secrets appear only as hashes (tokens) or in beacon_key, which
// no log or REST answer ever prints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "routing/topology.hpp"

namespace meshgw::controller {

// The roles of routing/ (core, edge, transit): one enum for the whole mesh.
using routing::Role;
using routing::role_from_string;

enum class GatewayStatus : std::uint8_t {
  registered,  // has a certificate, no beacon yet
  up,          // beacons arrive
  down,        // beacons missed for longer than the configured time
  revoked,     // certificate revoked: refused everywhere, kept for the record
};
std::string_view to_string(GatewayStatus status) noexcept;
std::optional<GatewayStatus> status_from_string(std::string_view name) noexcept;

struct GatewayRecord {
  std::string id;  // mesh-unique, assigned by the controller: "gw-<n>"
  Role role = Role::edge;
  GatewayStatus status = GatewayStatus::registered;
  bool ephemeral = false;  // removed after being down for the configured time
  std::string site;
  std::string region;
  std::string cert_serial;        // of the current certificate (lower-case hex)
  std::string public_key_sha256;  // of the current certificate's key
  std::int64_t cert_not_after = 0;
  std::vector<std::uint8_t> beacon_key;  // 32 bytes, HMAC-SHA256 key for its beacons
  std::int64_t registered_at = 0;
  std::int64_t status_since = 0;
  std::vector<std::string> sites;  // the site prefixes it serves, as it reported them
  bool operator==(const GatewayRecord&) const = default;
};

enum class TokenKind : std::uint8_t { join, admin, read_only };
std::string_view to_string(TokenKind kind) noexcept;
std::optional<TokenKind> token_kind_from_string(std::string_view name) noexcept;

struct TokenRecord {
  std::string id;           // public part of the token, also its key here
  std::string secret_hash;  // SHA-256 of the secret part, hex
  TokenKind kind = TokenKind::join;
  Role role = Role::edge;   // join tokens: the role a gateway gets
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;  // 0: never
  std::int64_t uses_left = 1;   // join tokens; -1: unlimited
  bool ephemeral = false;       // join tokens: gateways it registers are ephemeral
  std::string site;
  std::string region;
  std::string description;
  bool operator==(const TokenRecord&) const = default;
};

struct EventRecord {
  std::uint64_t seq = 0;  // assigned by the storage, increasing
  std::int64_t time = 0;  // Unix milliseconds
  std::string kind;       // joined, left, down, up, revoked, renewed, path_changed, ...
  std::string gateway;
  std::string detail;
  bool operator==(const EventRecord&) const = default;
};

// One direction of a tunnel: the SPI its egress expects.
struct SpiRecord {
  std::uint32_t spi = 0;
  std::string ingress;
  std::string egress;
  std::string path;  // gateway IDs joined by '>' (ingress first)
  std::int64_t allocated_at = 0;
  // The gateway that asked for the tunnel (both directions' SPIs name it):
  // its owner, who releases it after a restart. Empty for records from
  // before schema version 4.
  std::string requested_by;
  bool operator==(const SpiRecord&) const = default;
};

}  // namespace meshgw::controller
