// SPDX-License-Identifier: BSD-3-Clause
// The mesh side of meshgw's /metrics (Prometheus text, prometheus-cpp):
// per peer the probes' RTT, jitter, loss and state; per (egress, class) the
// primary's and backups' costs; per tunnel whether it is active and its
// end-to-end RTT, loss and liveness; and the
// tunnel manager's setups, failures and rekeys. Control thread.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "path_planner.hpp"
#include "prober.hpp"
#include "tunnel_manager.hpp"
#include "tunnel_probes.hpp"

namespace meshgw::agent {

std::string mesh_metrics_text(const Prober& prober, const TunnelManager* tunnels, const PathPlanner* planner,
                              const std::map<std::pair<std::string, std::string>, std::string>& active,
                              const TunnelProbes* tunnel_probes = nullptr);

}  // namespace meshgw::agent
