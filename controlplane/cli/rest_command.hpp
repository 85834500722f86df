// SPDX-License-Identifier: BSD-3-Clause
// meshctl's commands against a running meshctld: gateways, tokens, links,
// topology (table, json or Graphviz dot), events (paged or followed), policies,
// paths, spis, register, health, metrics, openapi, and the gateway API (gw).
// The server, CA and token come from flags, else the environment
// (MESHCTL_SERVER, MESHCTL_CA, MESHCTL_TOKEN), else a config file
// (MESHCTL_CONFIG or ~/.config/meshctl/config.toml, mode 0600).
#pragma once

#include <string>
#include <vector>

namespace meshgw::cli {

// Whether `command` is one of the REST commands.
bool is_rest_command(const std::string& command);
// Runs it; returns the exit status (0 ok, 1 refused by the server or
// unreachable, 2 usage). Throws for local errors (files), caught by main.
int rest_command(const std::string& command, const std::vector<std::string>& args);
extern const char* const kRestUsage;

}  // namespace meshgw::cli
