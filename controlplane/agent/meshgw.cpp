// SPDX-License-Identifier: BSD-3-Clause
// meshgw: the gateway. Reads its configuration, starts the DPDK data plane
// (worker lcores) and runs the control thread on the EAL main lcore:
// snapshot publication and reclamation, learned neighbours, statistics,
// configuration reload on SIGHUP, clean stop on SIGINT/SIGTERM.
#include <rte_eal.h>

#include <csignal>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "dataplane/runtime.hpp"
#include "gateway_config.hpp"
#include "mesh_agent.hpp"
#include "log.hpp"
#include "stats_report.hpp"
#include "stats_server.hpp"

namespace {

using namespace meshgw;

constexpr const char* kUsage = R"(NAME
    meshgw - a gateway of the meshgw VPN mesh (DPDK data plane, ESP AES-256-GCM)

SYNOPSIS
    meshgw --config FILE [--check-config] [--swap-rate N]
    meshgw --help | --version

DESCRIPTION
    meshgw forwards a site's traffic into the mesh as standard ESP in UDP 4500
    (RFC 4303/4106/3948, AES-256-GCM, 64-bit sequence numbers), decrypts what
    the mesh brings to the site, and relays by SPI, without crypto, the
    tunnels of other gateways that cross it. Worker lcores poll the ports and
    run each burst of 32 packets to completion; the control thread (the EAL
    main lcore) swaps forwarding snapshots in without locks.

OPTIONS
    --config FILE    the gateway's configuration (TOML; see CONFIGURATION)
    --check-config   validate FILE and the key files it names, then exit:
                     0 if valid, 1 with one message naming the key, the value
                     and the rule otherwise. Touches no device.
    --swap-rate N    for benchmarks: publish N snapshots a second (the
                     current plan with its destination map rebuilt, which is
                     what a path switch costs) while forwarding
    --help           this page
    --version        the version

CONFIGURATION
    [gateway]    id = "gw-a"                          this gateway's mesh id
    [eal]        args = ["--no-huge", "-m", "512", "--file-prefix", "gw-a"]
                 EAL arguments, except lcores and devices, which meshgw sets
                 (use --in-memory or a distinct --file-prefix per gateway)
    [dataplane]  main_cpu = 0           CPU of the control thread
                 worker_cpus = [1]      one worker lcore per entry (may repeat)
                 idle = "poll"          or "sleep": back off after empty polls
                                        (and the control loop turns every
                                        5 ms instead of every 1 ms)
                 idle_sleep_max_us = 1000, mbufs = 16383, mbuf_cache = 256
                 icmp_errors_per_second = 100 (per worker), twamp_port = 862
                 backend = "ipsec-mb" (or "openssl", one worker only)
                 replay_window = 1024, stuck_worker_ms = 1000
    [stats]      listen = "127.0.0.1:9464"   GET /v1/stats (JSON), /metrics
    [controller] the mesh to join (optional):
                 url = "https://127.0.0.1:8443"   meshctld
                 ca_file = "ca.pem"               the mesh CA (from meshctld init)
                 join_token_file = "join.token"   0600; read only until registered
                 state_dir = "/var/lib/meshgw"    key, certificate, identity
                                                  (0600), last mesh state
                 role = "edge"                    asked for; the token decides
                 beacon_interval_ms = 2000, renew_before_s = 3600,
                 declared_bps = 0, latitude = 41.88, longitude = -87.63
                 probe_interval_ms = 100, probe_timeout_ms = 250,
                 probe_down_after = 3   TWAMP-light to every other gateway
                                        through the data plane; a peer whose
                                        probes are lost that many times in a
                                        row is down: traffic moves to the
                                        backup tunnels at once (a swap)
                 failover_confirm_ms = 200   and if the peer is still down
                                        then, paths are replanned and the
                                        mesh told (a peer that answers again
                                        sooner was slow, not cut: a reply
                                        after its probe's timeout counts);
                                        a run of losses while no other peer
                                        answers either is this machine's own
                                        stall and counts only after 1 s
                 tunnel_probe_interval_ms = 500 (0: off)   the same through
                                        each of our tunnels, reflected by the
                                        egress inside the tunnel: a tunnel
                                        that stops answering while its links
                                        are up (its egress restarted, a relay
                                        is missing) carries traffic only if
                                        nothing else is left and is set up
                                        again
                 key_port = 4501        TCP port of the end-to-end key
                                        exchange (mTLS 1.3 between a tunnel's
                                        ends, TLS exporter), the same on every
                                        gateway, at its WAN address (needs
                                        exception_iface)
                 tunnel_mtu = 1400, backups = 1   backup tunnels set up ahead
                                        per egress, so failover is a swap
                 rekey_after_s = 3600, rekey_after_bytes = 0 (0: by time)
                                        make before break: the new SAs carry
                                        traffic once the egress and the
                                        transits hold them; the old drain
                 predict = true         link loads from the mesh state are
                                        forecast (routing/predict, chosen by
                                        backtest) and the forecast enters
                                        the link cost; false: the load now
                 forecast_interval_ms = 1000, forecast_horizon = 5 (samples),
                 forecast_season = 0 (samples per season, 0: none),
                 forecast_trend_window = 20 (samples, 0: off)   a rise
                                        the fitted forecaster has not learnt
                                        (a surge on a link that was flat):
                                        the least-squares trend of the last
                                        samples, when significant, is priced
                                        if it is the higher forecast; the
                                        mesh policy's "predict": false turns
                                        forecasts off mesh-wide
                 path_hold_ms = 10000   a cheaper path must stay cheaper
                                        this long (plus up to path_hold_jitter
                                        = 0.5 times that again, different on
                                        every gateway) before traffic moves to
                                        it
                 path_migration_rate = 0.5   then the move is drawn: it
                                        happens with probability rate x gain
                                        (the share of the cost it saves),
                                        else is drawn again a third of the
                                        hold later, so gateways leaving one
                                        hot link do not all land together on
                                        the next; 0: move as the hold ends
                 behind_nat = false     true on a gateway behind a NAT: its
                                        beacons (from the WAN address's port
                                        4500) tell the controller its NAT's
                                        mapping; it sends NAT keepalives
                                        every nat_keepalive_ms = 10000 to
                                        every peer, sets up its tunnels
                                        itself and takes the ones of other
                                        NATed gateways through meshctld's
                                        key relay
                 Tunnels go to every gateway with sites, along the planned
                 primary and backups; routes to their sites and the mesh
                 policy (ACL, classes; enforced at ingress and egress) come
                 with them. meshgw forwards on its static plan meanwhile;
                 registration, beacons and the state stream retry with
                 backoff while the controller is away, and known tunnels go
                 on carrying traffic. In a mesh the stats listener also
                 serves GET /v1/peers (probes and tunnels), GET /v1/paths
                 and GET /v1/explain?to=EGRESS&class=C (meshctl gateway
                 peers|paths, meshctl explain); transits install the relay
                 entries the controller allocates through them
    [[port]]     name, role = "lan" | "wan" (exactly one wan, at most one lan),
                 device = a DPDK device string: net_pcap0,rx_pcap=IN,tx_pcap=OUT
                 | net_tap0,iface=NAME | net_af_packet0,iface=NAME | net_memif0,...
                 | net_ring0 | net_null0 | a PCI address (0000:03:00.0),
                 address = "198.18.0.1/24", address6 = "fd00::1/64" (optional),
                 mac = "02:00:00:00:00:01" (optional), rx/tx_descriptors,
                 router = "198.18.1.1" (optional): next hop for IPv4
                 destinations outside the port's subnet (a cloud or home
                 router),
                 exception_iface = "mgw0" (wan only): a kernel TAP with the
                 port's address; frames for the gateway the fast path does
                 not answer (TCP, other UDP, ICMP errors) go to the kernel,
                 and what the kernel sends leaves through the port, so
                 kernel sockets work over the DPDK-owned port
    [[neighbour]] port, ip, mac            static ARP/NDP entries
    [[tunnel]]   id, egress, path = [...], next_hop = "198.18.0.2",
                 out_spi, out_key_file, in_spi, in_key_file,
                 remote_sites = ["198.51.100.0/24"], mtu = 1400
                 key files: 36 bytes in hex (key || salt), mode 0600, as
                 written by `meshctl esp keygen`; never logged
    [[route]]    prefix, egress, class = "default"
    [[path]]     egress, class, tunnel     active tunnel per (egress, class);
                 without one, an egress's first tunnel carries its traffic
    [[relay]]    spi, next_hop, next_hop_port = 4500, prev_hop (optional)
    [[policy]]   name, priority, src, dst, protocol, src_ports, dst_ports,
                 dscp = [..], action = "route" | "deny", class
    Unknown keys are errors.

SIGNALS
    SIGINT, SIGTERM  stop cleanly and print the final counters
    SIGHUP           re-read FILE and apply its tunnels, routes, paths,
                     relays and policies without a restart (ports, lcores
                     and EAL settings need one)

EXIT STATUS
    0 stopped cleanly (or --check-config found no problem); 1 bad
    configuration or a failure to start; 2 bad command line.
)";

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reload = 0;

void on_stop(int) { g_stop = 1; }
void on_reload(int) { g_reload = 1; }

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_handler = on_reload;
  sigaction(SIGHUP, &sa, nullptr);
}

struct Options {
  std::string config;
  bool check = false;
  unsigned swap_rate = 0;
};

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--version") {
      std::cout << "meshgw 0.1.0\n";
      std::exit(0);
    } else if (a == "--check-config") {
      o.check = true;
    } else if (a == "--swap-rate" && i + 1 < argc) {
      const std::string v = argv[++i];
      if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(v) > 100000) {
        std::cerr << "meshgw: --swap-rate '" << v << "': must be 0..100000 snapshots a second\n";
        std::exit(2);
      }
      o.swap_rate = static_cast<unsigned>(std::stoul(v));
    } else if (a == "--config" && i + 1 < argc) {
      o.config = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      o.config = a.substr(9);
    } else {
      std::cerr << "meshgw: unknown or incomplete argument '" << a << "' (see meshgw --help)\n";
      std::exit(2);
    }
  }
  if (o.config.empty()) {
    std::cerr << "meshgw: --config FILE is required (see meshgw --help)\n";
    std::exit(2);
  }
  return o;
}

void reload(const std::string& path, agent::GatewayConfig& current, dataplane::SaStore& store,
            dataplane::Dataplane& dp, agent::MeshAgent* mesh) {
  try {
    agent::GatewayConfig next = agent::GatewayConfig::from_file(path);
    if (next.eal_args != current.eal_args || next.worker_cpus != current.worker_cpus ||
        next.main_cpu != current.main_cpu || next.dataplane.ports.size() != current.dataplane.ports.size())
      agent::log_warning("reload: EAL, lcore and port changes need a restart; applying the rest");
    agent::GatewayConfig fresh_keys = next;
    fresh_keys.key_files.clear();
    for (const auto& [spi, file] : next.key_files) {
      if (!store.has_key(spi)) {
        fresh_keys.key_files[spi] = file;
      } else if (const auto it = current.key_files.find(spi); it != current.key_files.end() && it->second != file) {
        agent::log_warning("reload: SPI " + routing::spi_text(spi) + " keeps its key; a new key needs a new SPI (" +
                           file + " not read)");
      }
    }
    agent::load_keys(fresh_keys, store);
    const auto errors = mesh ? mesh->set_static_plan(next.plan) : dp.apply(next.plan);
    if (!errors.empty()) {
      for (const auto& e : errors) agent::log_error("reload refused, still forwarding on the previous plan: " + e);
      return;
    }
    current.plan = next.plan;
    for (const auto& [spi, file] : fresh_keys.key_files) current.key_files[spi] = file;
    agent::log_info("reload: applied " + path + " (snapshot " +
                    std::to_string(dp.publisher().current()->version) + ")");
  } catch (const std::exception& e) {
    agent::log_error(std::string("reload refused, still forwarding on the previous plan: ") + e.what());
  }
}

int run(const Options& opt) {
  agent::GatewayConfig cfg = agent::GatewayConfig::from_file(opt.config);
  dataplane::SaStore store(cfg.dataplane.backend, cfg.dataplane.replay_window);
  agent::load_keys(cfg, store);
  if (opt.check) {
    std::cout << opt.config << ": valid: gateway " << cfg.gateway_id << ", " << cfg.dataplane.ports.size()
              << " ports, " << cfg.dataplane.workers << " workers, " << cfg.plan.tunnels.size() << " tunnels, "
              << cfg.plan.routes.size() << " routes, " << cfg.plan.relays.size() << " relays, "
              << cfg.plan.policies.size() << " policies, " << cfg.key_files.size() << " SA keys\n";
    return 0;
  }
  dataplane::init_eal(dataplane::eal_arguments(cfg.dataplane, cfg.eal_args, cfg.main_cpu, cfg.worker_cpus));
  {
    dataplane::Dataplane dp(cfg.dataplane, store);
    if (const auto errors = dp.apply(cfg.plan); !errors.empty()) {
      for (const auto& e : errors) agent::log_error(opt.config + ": " + e);
      return 1;
    }
    agent::StatsExchange exchange;
    std::unique_ptr<agent::StatsServer> server;
    if (cfg.stats) server = std::make_unique<agent::StatsServer>(cfg.stats->address, cfg.stats->port, exchange);
    install_signals();
    dp.start_workers();
    const auto started = std::chrono::steady_clock::now();
    std::string ports;
    for (const auto& n : dp.port_names()) ports += (ports.empty() ? "" : ", ") + n;
    agent::log_info("gateway " + cfg.gateway_id + " forwarding: " + std::to_string(cfg.dataplane.workers) +
                    " workers, ports " + ports + ", " + std::to_string(cfg.plan.tunnels.size()) + " tunnels, " +
                    std::to_string(cfg.plan.routes.size()) + " routes" +
                    (server ? ", stats on " + cfg.stats->address + ":" + std::to_string(server->port()) : ""));
    std::cout << "meshgw: ready" << (server ? " stats_port=" + std::to_string(server->port()) : "") << std::endl;
    // The mesh: registration, beacons, the mesh state, probes, paths and
    // tunnels (MeshAgent runs the network parts in threads of its own).
    std::unique_ptr<agent::MeshAgent> mesh;
    if (cfg.controller) mesh = std::make_unique<agent::MeshAgent>(cfg, dp, store);
    auto last_warning = std::chrono::steady_clock::time_point{};
    const auto swap_period = opt.swap_rate ? std::chrono::nanoseconds(1000000000 / opt.swap_rate)
                                           : std::chrono::nanoseconds(0);
    auto next_swap = std::chrono::steady_clock::now();
    // The control loop's period: 1 ms, or 5 ms on a gateway that shares its
    // cores (idle = "sleep"), where a dozen gateways waking a thousand times
    // a second each would spend a core on wake-ups alone. Probe timestamps
    // come from the workers, so RTTs are as exact either way; timeouts and
    // failover move by at most the period.
    const auto control_period = cfg.dataplane.idle == dataplane::IdleMode::sleep ? std::chrono::milliseconds(5)
                                                                                : std::chrono::milliseconds(1);
    while (g_stop == 0) {
      const std::string stuck = dp.service();
      const auto now = std::chrono::steady_clock::now();
      if (!stuck.empty() && now - last_warning > std::chrono::seconds(1)) {
        agent::log_warning(stuck);
        last_warning = now;
      }
      if (g_reload != 0) {
        g_reload = 0;
        reload(opt.config, cfg, store, dp, mesh.get());
      }
      const auto now_ns = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
      if (mesh) mesh->turn(now_ns);
      if (exchange.wanted()) {
        const double up = std::chrono::duration<double>(now - started).count();
        auto report = std::make_shared<agent::StatsReport>(agent::make_report(cfg.gateway_id, dp.stats(), up));
        if (mesh) mesh->fill(*report, now_ns);
        exchange.publish(std::move(report));
      }
      if (opt.swap_rate != 0) {
        while (now >= next_swap) {
          dp.republish();
          next_swap += swap_period;
        }
        std::this_thread::sleep_until(std::min(next_swap, now + std::chrono::milliseconds(1)));
      } else {
        std::this_thread::sleep_for(control_period);
      }
    }
    agent::log_info("stopping");
    if (mesh) mesh->stop();
    dp.stop_workers();
    server.reset();
    std::cout << "meshgw " << cfg.gateway_id << " stopped; final counters:\n" << agent::summary_text(dp.stats())
              << std::flush;
  }
  rte_eal_cleanup();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  try {
    return run(opt);
  } catch (const agent::ConfigError& e) {
    std::cerr << "meshgw: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "meshgw: " << e.what() << "\n";
    return 1;
  }
}
