// SPDX-License-Identifier: BSD-3-Clause
// meshctl esp: offline ESP tools over pcap files, with the same crypto/ code
// the gateway runs per packet.
#pragma once

#include <string>
#include <vector>

namespace meshgw::cli {

// args: what follows "meshctl esp". Returns the process exit status.
int esp_command(const std::vector<std::string>& args);

}  // namespace meshgw::cli
