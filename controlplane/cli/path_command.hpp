// SPDX-License-Identifier: BSD-3-Clause
// meshctl path: the routing engine, offline, over a topology file.
#pragma once

#include <string>
#include <vector>

namespace meshgw::cli {

// args: what follows "meshctl path". Returns the process exit status.
int path_command(const std::vector<std::string>& args);

}  // namespace meshgw::cli
