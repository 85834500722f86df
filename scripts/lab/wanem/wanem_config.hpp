// SPDX-License-Identifier: BSD-3-Clause
// The WAN emulator's configuration file (TOML) and its run-time control
// commands: both parsed and validated here, every error naming the key or
// word, the value and the rule. No I/O besides reading the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "link_shaper.hpp"

namespace meshgw::lab {

struct PortConfig {
  std::string name;   // what links and commands call it (a gateway's name)
  std::string iface;  // the interface in the emulator's namespace
};

struct LinkConfig {
  std::string a, b;   // port names; the link carries both directions
  LinkParams params;  // the same for both directions at start
};

struct EmulatorConfig {
  std::string control_socket;  // UNIX stream socket for commands
  std::uint64_t seed = 1;      // loss and jitter draws (one stream per link direction)
  std::uint32_t frames = 32768;  // frames that can wait in all queues together
  std::vector<PortConfig> ports;
  std::vector<LinkConfig> links;
};

// Reads and checks the whole file; throws common::ConfigError ("lab.toml:12:
// [[link]] 'c1-c2' loss = 1.5: must be in 0..1 (a probability)").
EmulatorConfig load_emulator_config(const std::string& path);

// One command line on the control socket:
//   cut A-B | restore A-B                 both directions (A>B: one direction)
//   set A-B key=value...                  delay_ms, jitter_ms, loss, rate_mbit, queue_ms
//   stats                                 counters and queueing delays, JSON
//   reset                                 clears the queueing-delay histograms
//   help
struct Command {
  enum class Kind { cut, restore, set, stats, reset, help } kind = Kind::help;
  std::string from, to;  // the link, for cut/restore/set
  bool both_directions = true;
  std::vector<std::pair<std::string, double>> changes;  // for set
};

// The command, or an error message (the offending word and the rule).
struct ParsedCommand {
  Command command;
  std::string error;  // empty when command is valid
};
ParsedCommand parse_command(std::string_view line);

// Applies set's changes to params; returns "" or the first rule broken (params unchanged then).
std::string apply_changes(LinkParams& params, const std::vector<std::pair<std::string, double>>& changes);

}  // namespace meshgw::lab
