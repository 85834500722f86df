// SPDX-License-Identifier: BSD-3-Clause
// The mesh side of the gateway's control thread: the link to meshctld
// (identity, beacons, the mesh state), TWAMP-light probes to every other
// gateway through the data plane, the paths planned over the topology, the
// tunnels along them with end-to-end keys (and the key server for peers'
// tunnels to us), and the forwarding plan built from all of it and
// published to the workers whenever it changes.
//
// Failover: when a neighbour's probes stop, the active tunnels move at once
// to the best pre-installed tunnel that avoids the dead link (a snapshot
// swap), and only then are the paths recomputed; the rest of the mesh hears
// of it from a beacon sent right away. Each of our tunnels is probed end to
// end as well (tunnel_probes): one that stops answering while its links are
// up moves its traffic away and is set up again.
//
// Threads: turn() and the rest on the control thread (the EAL main lcore);
// MeshLink, the tunnel manager and the key server run threads of their own.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "debounce.hpp"
#include "gateway_config.hpp"
#include "controlplane/common/link_demand.hpp"
#include "routing/predict/local_trend.hpp"
#include "mesh_link.hpp"
#include "mesh_view.hpp"
#include "path_planner.hpp"
#include "prober.hpp"
#include "stats_server.hpp"
#include "tunnel_keys.hpp"
#include "tunnel_manager.hpp"
#include "tunnel_probes.hpp"

namespace meshgw::dataplane {
class Dataplane;
struct DataplaneStats;
class SaStore;
}  // namespace meshgw::dataplane

namespace meshgw::agent {

using common::LinkDemand;
using common::LinkDemandConfig;

class MeshAgent {
 public:
  // cfg.controller must be set. Starts the controller link.
  MeshAgent(const GatewayConfig& cfg, dataplane::Dataplane& dp, dataplane::SaStore& store);
  ~MeshAgent();
  MeshAgent(const MeshAgent&) = delete;
  MeshAgent& operator=(const MeshAgent&) = delete;

  // Every control-loop turn (about 1 ms).
  void turn(std::uint64_t now_ns);
  // The static part of the plan changed (SIGHUP): rebuilt on top of it.
  // Returns the data plane's refusal, if any.
  std::vector<std::string> set_static_plan(const routing::ForwardingPlan& plan);
  // /v1/paths, /v1/explain and /v1/peers bodies.
  void fill(StatsReport& report, std::uint64_t now_ns) const;
  // Logs the link's final state and stops its threads.
  void stop();

 private:
  // structural: more than measurements changed (gateways, policy, SPIs);
  // a view of new measurements only reprices the paths.
  void on_view(MeshView view, std::uint64_t now_ns, bool structural = true);
  void start_tunnels();
  void replan(std::uint64_t now_ns, bool force);
  std::vector<std::string> apply_plan();  // the data plane's refusal, if any
  void probe_turn(std::uint64_t now_ns);  // mesh_agent_probes.cpp
  void tunnel_probe_turn(std::uint64_t now_ns, const std::vector<ProbeReply>& replies);
  void turn_once(std::uint64_t now_ns);
  std::uint64_t last_turn_error_ns_ = 0;
  // How long turns take (a slow one is logged with its parts).
  std::chrono::steady_clock::duration plan_time_{}, replan_time_{}, view_time_{}, demand_time_{};
  std::uint64_t last_slow_log_ns_ = 0;
  void beacon_inputs(std::uint64_t now_ns);
  void nat_keepalives(std::uint64_t now_ns);
  std::uint64_t next_keepalive_ns_ = 0;
  bool usable(const std::vector<std::string>& path) const;
  void note_active(const std::vector<routing::PlanActivePath>& active);

  const GatewayConfig& cfg_;
  const ControllerSettings& settings_;
  dataplane::Dataplane& dp_;
  dataplane::SaStore& store_;
  routing::ForwardingPlan static_plan_;
  std::unique_ptr<MeshLink> link_;
  std::unique_ptr<Prober> prober_;
  std::unique_ptr<TunnelProbes> tunnel_probes_;  // null when tunnel_probe_interval_ms = 0
  std::optional<MeshView> view_;
  routing::Topology topology_;
  std::set<std::pair<std::string, std::string>> up_links_;  // directed, from the last replan and probes since
  std::unique_ptr<PathPlanner> planner_;
  Debouncer debounce_{50'000'000, 1'000'000'000};  // 50 ms .. 1 s
  std::unique_ptr<TunnelManager> tunnels_;
  std::unique_ptr<TunnelKeyServer> key_server_;
  std::string self_;
  routing::UnderlayEndpoint local_;
  std::optional<routing::UnderlayEndpoint> self_address_;  // ours in the mesh state
  bool key_server_on_wan_ = false;
  std::optional<routing::ForwardingPlan> applied_;
  std::vector<std::string> last_problems_;
  std::map<std::pair<std::string, std::string>, std::string> active_;  // (egress, class) -> tunnel id
  bool plan_dirty_ = false;
  std::set<std::string> peers_up_;
  // Peers down and not yet confirmed (failover_confirm_ms): when each went.
  std::map<std::string, std::uint64_t> unconfirmed_down_;
  void confirm_downs(std::uint64_t now_ns, bool tell_mesh);
  bool every_active_usable() const;
  std::uint64_t view_generation_ = 0;  // structural views taken
  std::uint64_t probed_list_changes_ = ~std::uint64_t{0}, probed_view_generation_ = 0;  // what the tunnel probes mirror
  std::uint64_t next_fast_ns_ = 0, next_slow_ns_ = 0, next_view_ns_ = 0;
  std::uint64_t last_bursts_ = 0, last_empty_ = 0;
  std::map<std::string, std::uint64_t> tx_bytes_;  // since first seen (see tx_base_)
  std::map<std::string, std::uint64_t> tx_base_;
  std::unique_ptr<LinkDemand> demand_;  // null when predict = false
  std::uint64_t last_report_ns_ = 0;
  std::map<std::uint32_t, std::uint64_t> last_report_bytes_;  // by out SPI
  std::map<std::string, double> own_mbps_;  // what we send to each egress: as last reported, or its trend ahead
  std::map<std::string, routing::predict::LocalTrend> own_trend_;  // of own_mbps_, per egress
  std::vector<nlohmann::json> path_changes_;  // for the next report
  void report(std::uint64_t now_ns, const dataplane::DataplaneStats& st);
  // Underlay addresses by gateway id, for the tunnel manager's job threads.
  mutable std::mutex address_mutex_;
  std::map<std::string, std::uint32_t> addresses_;
  std::set<std::string> behind_nat_;
};

}  // namespace meshgw::agent
