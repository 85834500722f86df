// SPDX-License-Identifier: BSD-3-Clause
// The running data plane: EAL, mempool, ports, worker lcores, the snapshot
// publisher and the neighbour table. Built and driven by the gateway's
// control thread (the EAL main lcore).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "publisher.hpp"
#include "sa_store.hpp"
#include "settings.hpp"
#include "snapshot_compiler.hpp"
#include "worker.hpp"

namespace meshgw::dataplane {

// EAL arguments for these settings: the operator's own arguments, then the
// lcore map (main lcore + one per worker, several may share a CPU), the
// vdevs and, for PCI ports, an allow list (--no-pci when there is none), so
// the gateway never takes a device it was not given.
std::vector<std::string> eal_arguments(const DataplaneSettings& settings,
                                       const std::vector<std::string>& operator_args,
                                       unsigned main_cpu, const std::vector<unsigned>& worker_cpus);

// rte_eal_init with those arguments; throws std::runtime_error with DPDK's reason.
void init_eal(const std::vector<std::string>& args);

// Totals over all workers, read by the control thread (stats, /metrics).
struct DataplaneStats {
  struct Port {
    std::string name;
    std::uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
    std::uint64_t hw_rx_missed = 0, hw_rx_errors = 0, hw_tx_errors = 0;  // from the device
  };
  struct Tunnel {
    std::string id;
    std::uint64_t tx_packets = 0, tx_bytes = 0, rx_packets = 0, rx_bytes = 0;
  };
  std::vector<Port> ports;
  std::vector<Tunnel> tunnels;
  std::uint64_t drops[kDropReasonCount] = {};
#define MESHGW_X(name, help) std::uint64_t name = 0;
  MESHGW_WORKER_EVENTS(MESHGW_X)
#undef MESHGW_X
  std::vector<std::vector<std::uint64_t>> per_worker_drops;  // [worker][reason]
  std::uint64_t snapshot_version = 0, snapshots_published = 0, snapshots_freed = 0;
  std::uint64_t snapshot_policy_rules = 0;  // policy rules the workers enforce now
  std::uint64_t snapshots_waiting = 0;
  std::uint64_t neighbours = 0;
};

class Dataplane {
 public:
  // The EAL must be initialised with one worker lcore per settings.workers.
  // Configures and starts every port; throws std::runtime_error naming the
  // port and DPDK's reason.
  Dataplane(const DataplaneSettings& settings, SaStore& store);
  ~Dataplane();
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  // Compiles and publishes a plan, or leaves the current one and returns
  // every reason the plan was refused.
  std::vector<std::string> apply(const routing::ForwardingPlan& plan);

  // switch_path() of the compiler, published (see SnapshotCompiler).
  std::vector<std::string> switch_path(const std::string& egress, const std::string& traffic_class,
                                       const std::string& tunnel);

  void start_workers();
  void stop_workers();  // returns once every worker has left its loop

  // Control-thread housekeeping, call every millisecond or so: learned
  // neighbours, snapshot reclamation, stuck-worker detection. Returns a
  // message when a worker has not passed a quiescent state in time.
  std::string service();

  // Control thread: a TWAMP-light test packet (RFC 5357 4.1.2, unauthenticated)
  // from the WAN address and src_port to dst_ipv4:twamp_port, sent by worker
  // 0. False when no mbuf or the queue to the worker is full (the prober
  // counts it as lost).
  bool send_probe(std::uint32_t dst_ipv4, std::uint16_t src_port, std::uint32_t seq, std::uint64_t t1_ntp);
  // The same test packet inside the tunnel whose outbound SA is out_spi,
  // from our WAN address to dst_ipv4 (the egress's): the egress's fast path
  // reflects it on the tunnel's inbound half, so its reply (a probe reply
  // event with tunnel_spi set) shows the whole path works, keys and relays
  // included. False as send_probe; a tunnel not in the plan drops it.
  // The test packet to a peer behind a NAT, through its mapping of port
  // 4500 (dst_port: the mapped port): sent from our port 4500 after a
  // non-ESP marker, so both NATs' mappings carry it (sending it both ways
  // at once opens a path between two NATed gateways); reflected by the
  // peer's fast path. src_port names the probe, as in send_probe.
  static constexpr std::uint16_t kNatProbeBytes = 12 + 41;
  bool send_nat_probe(std::uint32_t dst_ipv4, std::uint16_t dst_port, std::uint16_t src_port, std::uint32_t seq,
                      std::uint64_t t1_ntp);
  bool send_tunnel_probe(std::uint32_t out_spi, std::uint32_t dst_ipv4, std::uint16_t src_port, std::uint32_t seq,
                         std::uint64_t t1_ntp);
  // Control thread: a NAT keepalive (RFC 3948 2.3: one byte 0xFF, UDP 4500
  // to dst_ipv4:dst_port) that keeps this gateway's NAT mapping open
  // towards a peer. False when it could not be queued.
  bool send_nat_keepalive(std::uint32_t dst_ipv4, std::uint16_t dst_port);
  // Control thread: the reflected packets service() collected since the last call.
  std::vector<WorkerEvent> take_probe_replies();
  // NTP 32.32 time now, on the clock the workers stamp with.
  std::uint64_t ntp_now() const noexcept;

  DataplaneStats stats() const;
  const std::vector<PortRuntime>& ports() const noexcept { return ports_; }
  const std::vector<std::string>& port_names() const noexcept { return port_names_; }
  const SnapshotPublisher& publisher() const noexcept { return publisher_; }
  SnapshotCompiler& compiler() noexcept { return compiler_; }
  // Publishes the current snapshot again with a fresh destination map (the
  // cost of a path switch; benchmarks).
  void republish();

 private:
  void setup_port(std::size_t index, const PortSettings& p);
  // An IPv4/UDP frame from the WAN address for worker 0 to send (the worker
  // writes the next hop's MAC); payload is zeroed. nullptr without an mbuf
  // or a WAN address.
  rte_mbuf* wan_udp_frame(std::uint32_t dst_ipv4, std::uint16_t src_port, std::uint16_t dst_port,
                          std::uint16_t payload_bytes, std::uint8_t ttl, std::uint8_t** payload);
  bool inject(rte_mbuf* m);
  void publish_neighbours();

  DataplaneSettings settings_;
  SaStore& store_;
  SnapshotCompiler compiler_;
  SnapshotPublisher publisher_;
  rte_mempool* pool_ = nullptr;
  std::vector<PortRuntime> ports_;
  std::vector<std::string> port_names_;
  std::vector<std::unique_ptr<WorkerContext>> workers_;
  std::vector<std::unique_ptr<WorkerCounters>> counters_;
  std::vector<std::unique_ptr<EventQueue>> events_;
  std::unique_ptr<InjectQueue> inject_;
  std::vector<WorkerEvent> probe_replies_;
  std::uint64_t tsc0_ = 0, ntp_at_tsc0_ = 0;
  std::vector<unsigned> worker_lcores_;
  std::atomic<bool> stop_{false};
  bool running_ = false;
  std::map<std::pair<std::uint16_t, std::uint32_t>, MacAddress> neighbours_v4_;
  std::vector<NeighbourTable::V6> neighbours_v6_;
  std::shared_ptr<const NeighbourTable> neighbour_piece_;
  std::vector<std::uint64_t> last_bursts_seen_;
};

}  // namespace meshgw::dataplane
