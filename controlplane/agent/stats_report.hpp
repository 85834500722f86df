// SPDX-License-Identifier: BSD-3-Clause
// The data plane's statistics as /v1/stats JSON and /metrics Prometheus text
// (every drop reason by name, with its help text). Control thread.
#pragma once

#include <string>

#include "dataplane/runtime.hpp"
#include "stats_server.hpp"

namespace meshgw::agent {

StatsReport make_report(const std::string& gateway_id, const dataplane::DataplaneStats& stats,
                        double uptime_s);

// The final counters printed when meshgw stops: every non-zero figure.
std::string summary_text(const dataplane::DataplaneStats& stats);

}  // namespace meshgw::agent
