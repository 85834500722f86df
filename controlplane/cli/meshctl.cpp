// SPDX-License-Identifier: BSD-3-Clause
// meshctl: the operator's command-line tool. Offline commands work on files
// (pcap, topologies, traffic); the others talk to a running meshctld.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "esp_command.hpp"
#include "forecast_command.hpp"
#include "path_command.hpp"
#include "rest_command.hpp"

namespace {

const char* kUsage = R"(usage: meshctl COMMAND [options]

offline commands:
  esp keygen|encrypt|decrypt   ESP (AES-256-GCM, UDP 4500) over pcap files
  path                         shortest paths over a topology file
  forecast                     backtest the demand forecasters on a traffic CSV

against a running meshctld (meshctl help-rest for all verbs and options):
  health, gateways, tokens, links, topology, events, policies, paths, spis,
  metrics, openapi, register, gw

against a gateway's admin endpoint (meshgw [stats] listen):
  gateway paths|peers|stats, explain --to EGRESS

  help                         this text

meshctl COMMAND --help shows a command's options.
)";

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "help-rest") {
    std::cout << meshgw::cli::kRestUsage;
    return 0;
  }
  if (meshgw::cli::is_rest_command(args[0])) return meshgw::cli::rest_command(args[0], {args.begin() + 1, args.end()});
  try {
    if (args[0] == "esp") return meshgw::cli::esp_command({args.begin() + 1, args.end()});
    if (args[0] == "path") return meshgw::cli::path_command({args.begin() + 1, args.end()});
    if (args[0] == "forecast") return meshgw::cli::forecast_command({args.begin() + 1, args.end()});
  } catch (const std::exception& e) {
    // Control-path errors (bad files, bad keys) end here, once, with a clear message.
    std::cerr << "meshctl " << args[0] << ": error: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "meshctl: unknown command '" << args[0] << "'\n" << kUsage;
  return 2;
}
