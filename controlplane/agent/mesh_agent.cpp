// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_agent.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <ctime>

#include "controlplane/api/mesh_topology.hpp"
#include "crypto/bytes.hpp"
#include "dataplane/runtime.hpp"
#include "log.hpp"
#include "mesh_metrics.hpp"
#include "plan_builder.hpp"

namespace meshgw::agent {

using nlohmann::json;

namespace {

// CPU time of the calling thread: a slow turn that used little of it was
// waiting (for a lock, or for a core on a busy machine).
std::uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Adds the time its scope took to a total.
struct TimeInto {
  explicit TimeInto(std::chrono::steady_clock::duration& total) : total_(total) {}
  ~TimeInto() { total_ += std::chrono::steady_clock::now() - start_; }
  TimeInto(const TimeInto&) = delete;
  TimeInto& operator=(const TimeInto&) = delete;
  std::chrono::steady_clock::duration& total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

constexpr std::uint64_t kFastTurnNs = 10'000'000;   // mesh state, tunnels, plan
constexpr std::uint64_t kSlowTurnNs = 250'000'000;  // beacon inputs, debounced replans
// A busy mesh changes its SPIs tens of times a second; taking each change
// (a copy of the state, the tunnels checked, a plan compiled) cost a
// gateway most of a core on a shared machine. Changes are taken in batches,
// at most this often (a new tunnel waits at most this long for its relays).
constexpr std::uint64_t kStructuralViewNs = 100'000'000;

std::string path_text(const std::vector<std::string>& nodes) {
  std::string s;
  for (const auto& n : nodes) s += (s.empty() ? "" : " > ") + n;
  return s;
}

// The links from this gateway as its own probes see them now: fresher than
// what the controller last heard (and down once a peer's failure is
// confirmed; until then, `unconfirmed`, only the active tunnels avoid it).
void apply_local_probes(routing::Topology& t, const std::string& self, const Prober& prober,
                        const std::map<std::string, std::uint64_t>& unconfirmed) {
  const auto s = t.find(self);
  if (!s) return;
  for (routing::LinkIndex l = 0; l < t.link_count(); ++l) {
    if (t.links()[l].src != *s) continue;
    const auto it = prober.stats().find(t.nodes()[t.links()[l].dst].id);
    if (it == prober.stats().end() || !it->second.measured) continue;
    routing::Link& link = t.link(l);
    link.latency_ms = it->second.rtt_us / 2000.0;
    link.jitter_ms = it->second.jitter_us / 1000.0;
    link.loss = std::min(1.0, it->second.loss);
    link.up = link.up && (it->second.up || unconfirmed.contains(it->first));
  }
}

// Every other gateway of the view with an IPv4 underlay address.
std::vector<ProbeTarget> probe_targets(const MeshView& view, const std::string& self, bool self_behind_nat) {
  std::vector<ProbeTarget> out;
  for (const auto& [id, g] : view.gateways().items()) {
    if (id == self || g.value("status", "") == "revoked") continue;
    // Two gateways behind NATs probe each other's mapping of port 4500 at
    // once: that opens the way between their NATs (hole punching) for a
    // direct path. A public gateway does not: its packets to a mapping the
    // NATed side has not used yet could make some NATs move the mapping;
    // the NATed side measures the link and the mesh takes it both ways.
    const bool nat = self_behind_nat && g.value("behind_nat", false);
    if (const auto u = underlay_of(view, id)) out.push_back({id, u->ip, nat ? u->port : std::uint16_t{0}});
  }
  return out;
}

std::uint32_t spi_field(const json& answer, const char* direction) {
  const std::uint64_t spi = answer.at(direction).at("spi").get<std::uint64_t>();
  if (spi < 256 || spi > 0xffffffffu) throw std::runtime_error("the controller allocated an invalid SPI");
  return static_cast<std::uint32_t>(spi);
}

}  // namespace

MeshAgent::MeshAgent(const GatewayConfig& cfg, dataplane::Dataplane& dp, dataplane::SaStore& store)
    : cfg_(cfg), settings_(*cfg.controller), dp_(dp), store_(store), static_plan_(cfg.plan) {
  for (const auto& p : cfg.dataplane.ports) {
    if (p.role != dataplane::PortRole::wan) continue;
    local_ = {p.address.ipv4, crypto::kEspUdpPort};
    key_server_on_wan_ = !p.exception_iface.empty();
  }
  ProberConfig pc;
  pc.interval_ns = std::uint64_t{settings_.probe_interval_ms} * 1'000'000;
  pc.timeout_ns = std::uint64_t{settings_.probe_timeout_ms} * 1'000'000;
  pc.down_after_lost = settings_.probe_down_after;
  pc.first_port = dataplane::kProbePortFirst;
  prober_ = std::make_unique<Prober>(pc);
  if (settings_.tunnel_probe_interval_ms != 0) {
    TunnelProbeConfig tc;
    tc.interval_ns = std::uint64_t{settings_.tunnel_probe_interval_ms} * 1'000'000;
    tc.timeout_ns = std::max(2 * tc.interval_ns, pc.timeout_ns);
    tc.down_after_lost = settings_.probe_down_after;
    tunnel_probes_ = std::make_unique<TunnelProbes>(tc);
  }
  if (settings_.predict) {
    LinkDemandConfig dc;
    dc.sample_interval_ns = std::uint64_t{settings_.forecast_interval_ms} * 1'000'000;
    dc.horizon = static_cast<int>(settings_.forecast_horizon);
    dc.season = settings_.forecast_season;
    dc.trend.window = settings_.forecast_trend_window;
    demand_ = std::make_unique<LinkDemand>(dc);
  }
  link_ = std::make_unique<MeshLink>(settings_);
  link_->start();
}

MeshAgent::~MeshAgent() { stop(); }

void MeshAgent::stop() {
  if (!link_) return;
  const MeshLinkStatus st = link_->status();
  log_info("controller link: gateway " + (st.gateway_id.empty() ? std::string("(unregistered)") : st.gateway_id) +
           ", mesh state " + st.epoch + "/" + std::to_string(st.version) + ", " + std::to_string(st.beacons_sent) +
           " beacons sent, " + std::to_string(st.reconnects) + " stream reconnects" +
           (tunnels_ ? ", " + std::to_string(tunnels_->setups()) + " tunnels set up, " +
                           std::to_string(tunnels_->rekeys()) + " rekeyed, " +
                           std::to_string(tunnels_->setup_failures()) + " setups failed"
                     : std::string()));
  key_server_.reset();
  tunnels_.reset();
  link_->stop();
  link_.reset();
}

// Once the gateway knows its id: the tunnel manager and the key server.
void MeshAgent::start_tunnels() {
  TunnelManagerConfig tc;
  tc.self = self_;
  tc.rekey_after_ns = std::uint64_t{settings_.rekey_after_s} * 1'000'000'000;
  tc.rekey_after_bytes = settings_.rekey_after_bytes;
  tc.settle_needs_probe = tunnel_probes_ != nullptr;  // verified end to end before it carries traffic
  const TlsIdentity me{link_->cert_file(), link_->key_file(), link_->ca_file()};
  TunnelOps ops;
  MeshLink* link = link_.get();
  ops.allocate = [link](const std::vector<std::string>& path) {
    const common::RestAnswer a = link->call("POST", "/v1/gw/tunnels", json{{"path", path}}.dump());
    if (a.status != 201) throw std::runtime_error("the controller refused the tunnel (" + std::to_string(a.status) + "): " + a.body);
    const json answer = json::parse(a.body);
    return std::make_pair(spi_field(answer, "forward"), spi_field(answer, "reverse"));
  };
  ops.release = [link](std::uint32_t spi) {
    const common::RestAnswer a = link->call("DELETE", "/v1/gw/tunnels/" + std::to_string(spi));
    if (a.status != 200 && a.status != 404)
      throw std::runtime_error("the controller refused (" + std::to_string(a.status) + "): " + a.body);
  };
  const std::uint16_t key_port = settings_.key_port;
  ops.exchange = [this, me, key_port, link](const TunnelRequest& request) {
    std::uint32_t ip = 0;
    bool nat = false;
    {
      std::lock_guard lock(address_mutex_);
      const auto it = addresses_.find(request.path.back());
      if (it != addresses_.end()) ip = it->second;
      nat = behind_nat_.contains(request.path.back());
    }
    if (nat) {  // it cannot be reached: through the controller's key relay, where it waits
      const std::uint16_t relay = link->key_relay_port();
      if (relay == 0) throw std::runtime_error(request.path.back() + " is behind a NAT and the controller has no key relay");
      return request_tunnel_keys_relayed(me, link->controller_host(), relay, request);
    }
    if (ip == 0) throw std::runtime_error(request.path.back() + " has no underlay address in the mesh state");
    return request_tunnel_keys(me, routing::ipv4_text(ip), key_port, request);
  };
  ops.install_key = [this](std::uint32_t spi, const crypto::SaKeyMaterial& k) { store_.add_key(spi, k); };
  ops.forget_key = [this](std::uint32_t spi) { store_.forget(spi); };
  ops.replace_key = [this](std::uint32_t spi, const crypto::SaKeyMaterial& k) { store_.replace_key(spi, k); };
  ops.resolve = [this](const std::string& gw) -> std::optional<routing::UnderlayEndpoint> {
    if (!view_) return std::nullopt;
    return underlay_of(*view_, gw);
  };
  ops.log = [](const std::string& line) { log_info(line); };
  tunnels_ = std::make_unique<TunnelManager>(tc, std::move(ops));
  const std::string listen = key_server_on_wan_ && local_.ip != 0 ? routing::ipv4_text(local_.ip) : "0.0.0.0";
  TunnelManager* manager = tunnels_.get();
  try {
    key_server_ = std::make_unique<TunnelKeyServer>(
        me, self_, listen, key_port,
        [manager](const TunnelRequest& r, const std::string& peer) { return manager->check(r, peer); });
    log_info("tunnel key exchange listening on " + listen + ":" + std::to_string(key_server_->port()));
    if (settings_.behind_nat) {
      if (const std::uint16_t relay = link_->key_relay_port(); relay != 0) {
        key_server_->park_at(link_->controller_host(), relay);
        log_info("behind a NAT: peers reach this gateway's key exchange through the controller's relay " +
                 link_->controller_host() + ":" + std::to_string(relay));
      } else {
        log_warning("behind a NAT and the controller has no key relay: only this gateway's own tunnels can be set up");
      }
    }
  } catch (const std::exception& e) {
    log_error(std::string("peers cannot set up tunnels to this gateway: ") + e.what());
  }
}

void MeshAgent::on_view(MeshView view, std::uint64_t now_ns, bool structural) {
  if (!structural && view_ && view_->epoch() == view.epoch()) {
    // New measurements (every few seconds from a busy mesh): the gateways,
    // SPIs and policy are what they were; only the costs move.
    view_->take_measurements(std::move(view));
    debounce_.trigger(now_ns);
    return;
  }
  ++view_generation_;
  // Measurements change the state every few seconds; the log says when its shape does.
  if (!view_ || view_->epoch() != view.epoch() || view_->gateways().size() != view.gateways().size() ||
      view_->links().size() != view.links().size() || view_->spis().size() != view.spis().size())
    log_info("mesh state " + view.epoch() + "/" + std::to_string(view.version()) + ": " +
             std::to_string(view.gateways().size()) + " gateways, " + std::to_string(view.links().size()) +
             " links, " + std::to_string(view.spis().size()) + " SPIs through this gateway");
  if (!view_ || view_->policy() != view.policy())
    log_info("mesh policy: " + std::to_string(view.policy().value("rules", json::array()).size()) + " rules, edges " +
             (view.policy().value("edge_transit", false) ? "may" : "may not") + " transit, paths priced on " +
             (view.policy().value("predict", true) ? "forecast" : "measured") + " loads");
  if (view_) view.keep_addresses_from(*view_);
  view_ = std::move(view);
  {
    std::lock_guard lock(address_mutex_);
    addresses_.clear();
    behind_nat_.clear();
    for (const auto& [id, g] : view_->gateways().items()) {
      if (const auto u = underlay_of(*view_, id)) addresses_[id] = u->ip;
      if (g.value("behind_nat", false)) behind_nat_.insert(id);
    }
  }
  prober_->set_targets(probe_targets(*view_, self_, settings_.behind_nat));
  if (tunnels_ && tunnels_->set_view(view_->gateways(), view_->spis(), now_ns)) plan_dirty_ = true;
  if (tunnels_) {
    // Where the mesh reaches us (behind a NAT: our mapping) and our hops.
    const auto me = underlay_of(*view_, self_);
    const bool moved = me && self_address_ && !(*me == *self_address_);
    if (me) self_address_ = me;
    tunnels_->rekey_moved(moved && settings_.behind_nat);
  }
  // A revoked gateway stops being used now, not at the next debounced turn.
  bool revoked = false;
  for (const auto& t : applied_ ? applied_->tunnels : std::vector<routing::PlanTunnel>{})
    for (const auto& g : t.path)
      if (const auto it = view_->gateways().find(g); it == view_->gateways().end() || it->value("status", "") == "revoked")
        revoked = true;
  debounce_.trigger(now_ns);
  plan_dirty_ = true;
  if (revoked) replan(now_ns, true);
}

bool MeshAgent::usable(const std::vector<std::string>& path) const {
  if (path.size() >= 2) {  // without the next hop's address the tunnel cannot be in the plan
    std::lock_guard lock(address_mutex_);
    if (!addresses_.contains(path[1])) return false;
  }
  for (std::size_t i = 0; i + 1 < path.size(); ++i)
    if (!up_links_.contains({path[i], path[i + 1]})) return false;
  return true;
}

// Recomputes the paths once the debounce says so (a burst of deltas makes
// one recomputation), or at once when force is set; the tunnel manager then
// sets up what the new paths need.
void MeshAgent::replan(std::uint64_t now_ns, bool force) {
  if (!view_ || self_.empty() || !(force || debounce_.due(now_ns))) return;
  const TimeInto timer(replan_time_);
  debounce_.ran();
  if (!planner_) {
    PlannerConfig pc;
    pc.self = self_;
    pc.selector.hold_ns = std::uint64_t{settings_.path_hold_ms} * 1'000'000;
    pc.selector.hold_jitter_fraction = settings_.path_hold_jitter;
    pc.selector.migration_rate = settings_.path_migration_rate;
    planner_ = std::make_unique<PathPlanner>(pc);
  }
  planner_->set_edge_transit(view_->policy().value("edge_transit", false));
  planner_->set_own_rates(own_mbps_);
  try {
    topology_ = api::topology_from_state(view_->gateways(), view_->links());
  } catch (const std::exception& e) {
    log_warning(std::string("mesh state not usable for routing: ") + e.what());
    return;
  }
  if (!topology_.find(self_)) return;  // not in the state yet
  apply_local_probes(topology_, self_, *prober_, unconfirmed_down_);
  // The cost prices the forecast load, not only today's, unless the mesh
  // policy says otherwise (the forecasts go on learning meanwhile).
  if (demand_ && view_->policy().value("predict", true)) demand_->apply(topology_);
  up_links_.clear();
  for (const auto& l : topology_.links())
    if (l.up && !(topology_.nodes()[l.src].id == self_ && unconfirmed_down_.contains(topology_.nodes()[l.dst].id)))
      up_links_.insert({topology_.nodes()[l.src].id, topology_.nodes()[l.dst].id});
  for (const auto& r : planner_->plan(topology_, now_ns)) {
    if (!r.selection.has_route) {
      log_info("no path to " + r.egress + "/" + r.traffic_class);
      continue;
    }
    std::string backups;
    for (const auto& b : r.selection.backups) backups += (backups.empty() ? "" : "; ") + path_text(b.nodes);
    log_info("path to " + r.egress + "/" + r.traffic_class + ": " + path_text(r.selection.primary.nodes) + " (cost " +
             std::to_string(r.selection.primary.cost) + ", " + routing::to_string(r.selection.reason) +
             (backups.empty() ? "" : "; backups " + backups) + ")");
    path_changes_.push_back({{"egress", r.egress}, {"class", r.traffic_class}, {"path", r.selection.primary.nodes},
                             {"reason", routing::to_string(r.selection.reason)}});
  }
  if (tunnels_) {
    std::vector<TunnelWant> wants;
    for (const auto& [k, sel] : planner_->routes()) {
      // Tunnels go where traffic can: to gateways that serve sites. A
      // gateway behind a NAT sets up its tunnels to the others itself, and
      // their reverse SAs carry the others' traffic to it; between two
      // behind NATs, the smaller id asks, through the key relay.
      const auto g = view_->gateways().find(k.first);
      if (!sel.has_route || g == view_->gateways().end() || g->value("sites", json::array()).empty()) continue;
      TunnelWant w{k.first, k.second, {sel.primary.nodes}};
      for (std::size_t i = 0; i < sel.backups.size() && i < settings_.backups; ++i) w.paths.push_back(sel.backups[i].nodes);
      w.set_up = !g->value("behind_nat", false) || (settings_.behind_nat && self_ < k.first);
      wants.push_back(std::move(w));
    }
    tunnels_->want(std::move(wants), now_ns);
  }
  plan_dirty_ = true;
}

void MeshAgent::note_active(const std::vector<routing::PlanActivePath>& active) {
  std::map<std::pair<std::string, std::string>, std::string> now;
  for (const auto& a : active) now[{a.egress, a.traffic_class}] = a.tunnel;
  for (const auto& [k, id] : now) {
    const auto before = active_.find(k);
    if (before != active_.end() && before->second == id) continue;
    std::string path;
    for (const auto& t : tunnels_->tunnels())
      if (t.id == id) path = path_text(t.path);
    log_info("active tunnel to " + k.first + "/" + k.second + ": " + id + " (" + path + ")" +
             (before == active_.end() ? "" : ", was " + before->second));
  }
  active_ = std::move(now);
}

// The plan from the static configuration, the mesh state and the tunnels,
// published when it differs from the last one (a refused plan leaves the
// data plane on the previous one).
std::vector<std::string> MeshAgent::apply_plan() {
  const TimeInto timer(plan_time_);
  plan_dirty_ = false;
  if (self_.empty() || !view_) return {};
  std::vector<PlanProblem> problems;
  MeshTunnels mt;
  const MeshTunnels* with = nullptr;
  if (tunnels_) {
    mt.local = local_;
    mt.mtu = settings_.tunnel_mtu;
    mt.tunnels = tunnels_->tunnels();
    mt.active = tunnels_->active([this](const std::vector<std::string>& p) { return usable(p); });
    with = &mt;
  }
  routing::ForwardingPlan plan = plan_from_view(static_plan_, *view_, self_, &problems, with);
  plan.gateway_id = self_;  // in a mesh, paths name the gateway by the id the controller gave it
  std::vector<std::string> texts;
  for (const auto& p : problems) texts.push_back(p.why);
  if (texts != last_problems_)
    for (const auto& t : texts) log_warning("not in the plan: " + t);
  last_problems_ = std::move(texts);
  if (applied_ && plan == *applied_) return {};
  if (auto errors = dp_.apply(plan); !errors.empty()) {
    for (const auto& e : errors) log_error("plan from the mesh state refused: " + e);
    return errors;
  }
  if (tunnels_) note_active(plan.active);
  if (!applied_ || applied_->relays != plan.relays || applied_->tunnels.size() != plan.tunnels.size() ||
      applied_->routes.size() != plan.routes.size())
    log_info("plan from the mesh state: " + std::to_string(plan.tunnels.size()) + " tunnels, " +
             std::to_string(plan.routes.size()) + " routes, relays from the mesh state: " +
             std::to_string(plan.relays.size() - static_plan_.relays.size()) + " (snapshot " +
             std::to_string(dp_.publisher().current()->version) + ")");
  applied_ = plan;
  return {};
}

std::vector<std::string> MeshAgent::set_static_plan(const routing::ForwardingPlan& plan) {
  if (!view_ || self_.empty()) {
    auto errors = dp_.apply(plan);
    if (errors.empty()) static_plan_ = plan;
    return errors;
  }
  // The new static part under the mesh's: kept only if the data plane takes it.
  routing::ForwardingPlan before = static_plan_;
  static_plan_ = plan;
  auto previous = applied_;
  applied_.reset();
  if (auto errors = apply_plan(); !errors.empty()) {
    static_plan_ = std::move(before);
    applied_ = std::move(previous);
    return errors;
  }
  return {};
}

void MeshAgent::turn(std::uint64_t now_ns) {
  // A mesh state the agent cannot use (a mistyped field from a controller,
  // say) must not stop the gateway: the turn is logged and abandoned, the
  // data plane keeps the last plan, and the next turn tries again.
  const auto started = std::chrono::steady_clock::now();
  const std::uint64_t cpu_started = thread_cpu_ns();
  try {
    turn_once(now_ns);
  } catch (const std::exception& e) {
    if (now_ns - last_turn_error_ns_ > 1'000'000'000) log_error(std::string("mesh turn abandoned: ") + e.what());
    last_turn_error_ns_ = now_ns;
  }
  // A slow turn delays probes and failover: the log says so (once a
  // second at most), with the slowest part.
  const auto took = std::chrono::steady_clock::now() - started;
  const std::uint64_t cpu_ns = thread_cpu_ns() - cpu_started;
  if (took > std::chrono::milliseconds(50) && now_ns - last_slow_log_ns_ > 1'000'000'000) {
    last_slow_log_ns_ = now_ns;
    log_warning("mesh turn took " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()) +
                " ms, " + std::to_string(cpu_ns / 1'000'000) + " ms of CPU (plan " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(plan_time_).count()) +
                " ms, paths " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(replan_time_).count()) +
                " ms, mesh state " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(view_time_).count()) +
                " ms, forecasts " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(demand_time_).count()) +
                " ms in it)");
  }
  plan_time_ = replan_time_ = view_time_ = demand_time_ = {};
}

void MeshAgent::turn_once(std::uint64_t now_ns) {
  if (!self_.empty()) probe_turn(now_ns);
  if (now_ns >= next_fast_ns_) {
    next_fast_ns_ = now_ns + kFastTurnNs;
    if (self_.empty()) {
      self_ = link_->status().gateway_id;
      if (!self_.empty()) {
        start_tunnels();
        if (view_) on_view(std::move(*view_), now_ns);
      }
    }
    bool structural = true;
    if (now_ns >= next_view_ns_) {
      const TimeInto timer(view_time_);
      if (auto view = link_->take_view(&structural)) {
        on_view(std::move(*view), now_ns, structural);
        if (structural) next_view_ns_ = now_ns + kStructuralViewNs;
      }
    }
    if (key_server_) {
      // A peer's tunnel: installed and published before its ingress hears
      // "installed" and starts sending on it (make before break).
      const auto agreed = key_server_->take();
      for (const auto& k : agreed) tunnels_->accepted(*k, now_ns);
      if (!agreed.empty()) apply_plan();
      for (const auto& k : agreed) {
        bool in_plan = false;
        if (applied_)
          for (const auto& t : applied_->tunnels) in_plan = in_plan || t.in_spi == k->tunnel.forward_spi;
        key_server_->installed(k->tunnel.forward_spi, in_plan);
      }
    }
    if (tunnels_ && tunnels_->poll(now_ns, tx_bytes_)) plan_dirty_ = true;
    replan(now_ns, false);  // when the debounce says so: a remote link's loss moves traffic within ~50 ms
    if (plan_dirty_) apply_plan();
  }
  if (now_ns >= next_slow_ns_) {
    next_slow_ns_ = now_ns + kSlowTurnNs;
    beacon_inputs(now_ns);
    if (demand_ && view_) {
      const TimeInto timer(demand_time_);
      if (demand_->sample(view_->links(), now_ns)) debounce_.trigger(now_ns);
    }
    nat_keepalives(now_ns);
    replan(now_ns, false);
    if (plan_dirty_) apply_plan();
  }
}

void MeshAgent::fill(StatsReport& report, std::uint64_t now_ns) const {
  json peers = json::array();
  for (const auto& [id, s] : prober_->stats()) {
    std::uint32_t ip = 0;
    {
      std::lock_guard lock(address_mutex_);
      if (const auto it = addresses_.find(id); it != addresses_.end()) ip = it->second;
    }
    peers.push_back({{"gateway", id}, {"address", ip ? routing::ipv4_text(ip) : ""}, {"up", s.up},
                     {"measured", s.measured}, {"rtt_us", s.rtt_us}, {"jitter_us", s.jitter_us}, {"loss", s.loss},
                     {"sent", s.sent}, {"received", s.received}, {"lost", s.lost},
                     {"late", s.late}, {"loss_runs_held", s.held}});
  }
  json tunnels = json::array();
  if (tunnels_) {
    for (const auto& t : tunnels_->tunnels()) {
      bool is_active = false;
      for (const auto& [k, id] : active_) is_active = is_active || id == t.id;
      json entry = {{"id", t.id}, {"egress", t.egress}, {"path", t.path}, {"out_spi", t.out_spi},
                    {"in_spi", t.in_spi}, {"epoch", t.epoch}, {"own", t.own}, {"active", is_active},
                    {"usable", usable(t.path)}, {"retiring", t.retiring_since_ns != 0}, {"dead", t.dead},
                    {"age_s", static_cast<double>(now_ns - t.ready_at_ns) / 1e9}};
      if (tunnel_probes_) {
        const auto& probes = tunnel_probes_->stats();
        if (const auto p = probes.find(t.id); p != probes.end())
          entry["probe"] = {{"measured", p->second.measured}, {"rtt_us", p->second.rtt_us}, {"loss", p->second.loss},
                            {"sent", p->second.sent}, {"received", p->second.received}};
      }
      tunnels.push_back(std::move(entry));
    }
  }
  report.peers = json{{"peers", peers}, {"tunnels", tunnels}}.dump();
  report.metrics += mesh_metrics_text(*prober_, tunnels_.get(), planner_.get(), active_, tunnel_probes_.get());
  if (!planner_) return;
  json routes = json::array();
  for (const auto& [key, sel] : planner_->routes()) {
    json backups = json::array();
    for (const auto& b : sel.backups) backups.push_back({{"nodes", b.nodes}, {"cost", b.cost}});
    const auto a = active_.find(key);
    routes.push_back({{"egress", key.first}, {"class", key.second}, {"has_route", sel.has_route},
                      {"primary", sel.has_route ? json{{"nodes", sel.primary.nodes}, {"cost", sel.primary.cost}} : json()},
                      {"backups", backups}, {"reason", routing::to_string(sel.reason)},
                      {"active_tunnel", a == active_.end() ? json() : json(a->second)}});
    json why = planner_->explain(topology_, key.first, key.second, now_ns);
    // The forecast behind each link's predicted utilisation.
    if (demand_ && view_ && !view_->policy().value("predict", true)) {
      why["forecast"] = {{"disabled", true}, {"by", "mesh policy"}};
    } else if (why.contains("primary") && demand_) {
      for (auto& l : why["primary"]["links"]) {
        const std::string method = demand_->method(l.value("from", ""), l.value("to", ""));
        if (!method.empty()) l["forecast_method"] = method;
      }
      why["forecast"] = {{"horizon_samples", demand_->config().horizon},
                         {"sample_interval_ms", demand_->config().sample_interval_ns / 1'000'000},
                         {"series", demand_->series()}, {"refits", demand_->refits()}};
    } else if (!demand_) {
      why["forecast"] = {{"disabled", true}, {"by", "gateway config"}};
    }
    report.explain[key.first + "|" + key.second] = why.dump();
  }
  report.paths = json{{"version", view_ ? view_->version() : 0}, {"routes", routes}}.dump();
}

}  // namespace meshgw::agent
