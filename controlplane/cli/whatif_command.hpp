// SPDX-License-Identifier: BSD-3-Clause
// meshctl whatif: POST /v1/whatif with the failures and demand given on the
// command line, printed as the flows that would move and the links whose
// load would change or that would run hot. rest_command dispatches to it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace meshgw::cli {

int whatif(const std::vector<std::string>& args);
// "5M", "200k", "1.5G", "800000" (bits/s, SI suffixes); nullopt if not a
// positive finite rate.
std::optional<double> parse_rate_bps(const std::string& text);

}  // namespace meshgw::cli
