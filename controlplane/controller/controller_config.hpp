// SPDX-License-Identifier: BSD-3-Clause
// meshctld's configuration file (TOML), validated whole in one constructor:
// unknown keys refused, every value range-checked, each error naming file,
// line, key, value and rule (common::ConfigError). Defaults make a file with
// only [controller] state_dir a working controller on loopback.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "controlplane/common/toml_reader.hpp"

namespace meshgw::controller {

struct Listen {
  std::string address;
  std::uint16_t port = 0;  // 0: any free port, printed at start
};

struct ControllerConfig {
  static ControllerConfig from_file(const std::string& path);
  static ControllerConfig from_string(const std::string& text, const std::string& source_name);

  std::string source;
  std::string state_dir;           // ca.key, ca.pem, server.*, state.db
  bool sync_full = true;           // [storage] synchronous = "full" | "normal"
  Listen api{"127.0.0.1", 8443};   // HTTPS: operator REST + gateway API (mTLS)
  Listen beacons{"127.0.0.1", 8444};  // UDP
  // TCP: the key relay for gateways behind NAT; default the API's address
  // and port + 2 (any free port when the API's is 0).
  std::optional<Listen> key_relay;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_connections = 2048;
  std::uint32_t requests_per_second = 500;  // per client address, burst of as many
  std::int64_t cert_lifetime_s = 86400;
  std::uint64_t down_after_ms = 6000;     // missed beacons
  std::uint64_t max_skew_ms = 30000;      // beacon staleness
  std::int64_t ephemeral_remove_after_s = 600;
  std::size_t delta_log = 4096;
  std::uint32_t first_spi = 0x1000;  // SPIs are allocated from here up
};

}  // namespace meshgw::controller
