// SPDX-License-Identifier: BSD-3-Clause
// meshctl's gateway-side commands: register (a gateway's key, CSR and
// certificate), gw (the gateway API of meshctld, with a gateway's
// certificate), gateway paths|stats and explain (a gateway's own admin
// endpoint). Each returns the exit status; rest_command dispatches to them.
#pragma once

#include <string>
#include <vector>

namespace meshgw::cli {

int register_gateway(const std::vector<std::string>& args);
int gateway_api(std::vector<std::string> args);
int gateway_admin(std::vector<std::string> args);
int explain(const std::vector<std::string>& args);

}  // namespace meshgw::cli
