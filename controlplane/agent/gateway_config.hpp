// SPDX-License-Identifier: BSD-3-Clause
// meshgw's configuration file (TOML, toml++): EAL arguments, lcores, mempool,
// ports, static neighbours, tunnels with their SA key files, routes, active
// paths, relays, policies and the stats listener. Parsed and validated whole
// in one constructor: every field range-checked, unknown keys refused,
// cross-field rules checked, and the first problem thrown as a ConfigError
// naming the file, line, key, value and rule. An invalid GatewayConfig cannot
// exist. Key files are named here and read by load_keys(), never logged.
// Threads: control thread, before the data plane starts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "controlplane/common/toml_reader.hpp"
#include "mesh_link.hpp"
#include "dataplane/settings.hpp"
#include "routing/forwarding_plan.hpp"

namespace meshgw::dataplane {
class SaStore;
}

namespace meshgw::agent {

using ConfigError = common::ConfigError;

struct StatsListen {
  std::string address = "127.0.0.1";
  std::uint16_t port = 9464;  // 0: an ephemeral port, printed at start
};

struct GatewayConfig {
  // Reads and validates path; throws ConfigError.
  static GatewayConfig from_file(const std::string& path);
  // Same from text (tests, fuzzing); relative key files resolve against base_dir.
  static GatewayConfig from_string(const std::string& text, const std::string& source_name,
                                   const std::string& base_dir);

  std::string source;  // file name, for messages
  std::string gateway_id;
  std::vector<std::string> eal_args;
  unsigned main_cpu = 0;
  std::vector<unsigned> worker_cpus{1};
  dataplane::DataplaneSettings dataplane;
  routing::ForwardingPlan plan;
  std::map<std::uint32_t, std::string> key_files;  // SPI -> file (meshctl esp keygen format, 0600)
  std::optional<StatsListen> stats;
  // [controller]: the mesh this gateway joins (registration, beacons, state).
  std::optional<ControllerSettings> controller;
};

// Reads every SA key file into the store; throws ConfigError naming the
// tunnel, the SPI and the file (never the key).
void load_keys(const GatewayConfig& config, dataplane::SaStore& store);

}  // namespace meshgw::agent
