// SPDX-License-Identifier: BSD-3-Clause
#include "runtime.hpp"

#include "kernel_iface.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace meshgw::dataplane {

namespace {

bool is_pci_address(const std::string& device) {
  // dddd:bb:dd.f or bb:dd.f, optionally followed by ,devargs
  const std::string name = device.substr(0, device.find(','));
  return name.find(':') != std::string::npos && name.find('.') != std::string::npos &&
         name.rfind("net_", 0) != 0;
}

std::string device_name(const std::string& device) { return device.substr(0, device.find(',')); }

std::string dpdk_error(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

}  // namespace

std::vector<std::string> eal_arguments(const DataplaneSettings& settings,
                                       const std::vector<std::string>& operator_args, unsigned main_cpu,
                                       const std::vector<unsigned>& worker_cpus) {
  std::vector<std::string> args{"meshgw"};
  args.insert(args.end(), operator_args.begin(), operator_args.end());
  // lcore 0 is the control thread on main_cpu; lcores 1..N the workers.
  std::string map = "0@";
  map += std::to_string(main_cpu);
  for (std::size_t i = 0; i < worker_cpus.size(); ++i) {
    map += ',';
    map += std::to_string(i + 1);
    map += '@';
    map += std::to_string(worker_cpus[i]);
  }
  args.push_back("--lcores=" + map);
  args.push_back("--main-lcore=0");
  bool pci = false;
  for (const auto& p : settings.ports) {
    if (!p.exception_iface.empty()) args.push_back("--vdev=net_tap_mgw0,iface=" + p.exception_iface);
    if (is_pci_address(p.device)) {
      args.push_back("-a");
      args.push_back(p.device);
      pci = true;
    } else {
      args.push_back("--vdev=" + p.device);
    }
  }
  if (!pci) args.push_back("--no-pci");
  return args;
}

void init_eal(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::vector<std::string> copy = args;  // rte_eal_init may permute argv
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(copy.size()), argv.data()) < 0)
    throw std::runtime_error(std::string("EAL initialisation failed: ") + rte_strerror(rte_errno));
}

Dataplane::Dataplane(const DataplaneSettings& settings, SaStore& store)
    : settings_(settings), store_(store), compiler_(store), publisher_(settings.workers) {
  if (rte_lcore_count() != settings.workers + 1)
    throw std::runtime_error("the EAL has " + std::to_string(rte_lcore_count()) + " lcores, expected " +
                             std::to_string(settings.workers + 1) + " (main + workers)");
  pool_ = rte_pktmbuf_pool_create("meshgw_mbufs", settings.mbufs, settings.mbuf_cache, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
  if (pool_ == nullptr)
    throw std::runtime_error("cannot create the mbuf pool of " + std::to_string(settings.mbufs) +
                             " mbufs: " + rte_strerror(rte_errno) + " (lower [dataplane] mbufs or give the EAL more memory)");
  ports_.resize(settings.ports.size());
  for (std::size_t i = 0; i < settings.ports.size(); ++i) setup_port(i, settings.ports[i]);
  for (std::size_t i = 0; i < settings.ports.size(); ++i) {
    const PortSettings& wan_port = settings.ports[i];
    if (wan_port.exception_iface.empty()) continue;
    // The exception path: the kernel TAP, with the WAN port's MAC and IPv4
    // address, as one more port the workers poll.
    PortSettings tap;
    tap.name = wan_port.exception_iface;
    tap.device = "net_tap_mgw0";
    tap.role = PortRole::exception;
    tap.mac = ports_[i].mac;
    tap.address = wan_port.address;
    ports_.emplace_back();
    setup_port(ports_.size() - 1, tap);
    configure_kernel_interface(tap.name, wan_port.address.ipv4, wan_port.address.ipv4_prefix);
  }

  for (const auto& n : settings.neighbours) {
    std::uint16_t port = 0;
    while (port < port_names_.size() && port_names_[port] != n.port) ++port;
    if (n.v6) {
      neighbours_v6_.push_back({port, n.ip, n.mac});
    } else {
      neighbours_v4_[{port, load_be32(n.ip.data())}] = n.mac;
    }
  }
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) { worker_lcores_.push_back(lcore); }
  int lan = -1, wan = -1, exception = -1;
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    (ports_[i].role == PortRole::lan ? lan : ports_[i].role == PortRole::wan ? wan : exception) = static_cast<int>(i);
  }
  // NTP time now, for TWAMP timestamps taken from the TSC.
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const std::uint64_t tsc0 = rte_rdtsc();
  const std::uint64_t ntp = ((static_cast<std::uint64_t>(ts.tv_sec) + 2208988800ull) << 32) +
                            (static_cast<std::uint64_t>(ts.tv_nsec) << 32) / 1000000000ull;
  tsc0_ = tsc0;
  ntp_at_tsc0_ = ntp;
  inject_ = std::make_unique<InjectQueue>();
  for (unsigned w = 0; w < settings.workers; ++w) {
    counters_.push_back(std::make_unique<WorkerCounters>());
    events_.push_back(std::make_unique<EventQueue>());
    auto ctx = std::make_unique<WorkerContext>();
    ctx->index = w;
    ctx->ports = ports_;
    ctx->lan = lan;
    ctx->wan = wan;
    ctx->exception = exception;
    for (std::size_t p = 0; p < ports_.size(); ++p) {
      if (w < ports_[p].rx_queues)
        ctx->rx.emplace_back(static_cast<std::uint16_t>(p), static_cast<std::uint16_t>(w));
    }
    ctx->pool = pool_;
    ctx->source = &publisher_.source();
    ctx->counters = counters_.back().get();
    ctx->events = events_.back().get();
    if (w == 0) ctx->inject = inject_.get();
    ctx->stop = &stop_;
    ctx->idle = settings.idle;
    ctx->idle_sleep_max_us = settings.idle_sleep_max_us;
    ctx->twamp_port = settings.twamp_port;
    ctx->tsc_hz = rte_get_tsc_hz();
    ctx->icmp_max_tokens = std::max<std::uint64_t>(1, settings.icmp_errors_per_second / 5);
    ctx->icmp_tokens = ctx->icmp_max_tokens;
    ctx->icmp_tsc_per_token = ctx->tsc_hz / std::max<std::uint32_t>(1, settings.icmp_errors_per_second);
    ctx->icmp_last_tsc = tsc0;
    ctx->tsc0 = tsc0;
    ctx->ntp_at_tsc0 = ntp;
    workers_.push_back(std::move(ctx));
  }
  last_bursts_seen_.assign(settings.workers, 0);
  publish_neighbours();
  // Until a plan arrives: an empty one, so workers always have a snapshot.
  const auto errors = apply(routing::ForwardingPlan{});
  if (!errors.empty()) throw std::runtime_error("empty plan refused: " + errors.front());
}

Dataplane::~Dataplane() {
  stop_workers();
  for (auto& ctx : workers_) {
    for (unsigned i = 0; i < ctx->pending.count; ++i) rte_pktmbuf_free(ctx->pending.entries[i].m);
    ctx->pending.count = 0;
  }
  for (const auto& p : ports_) {
    rte_eth_dev_stop(p.port_id);
    rte_eth_dev_close(p.port_id);
  }
}

void Dataplane::setup_port(std::size_t index, const PortSettings& p) {
  const std::string name = device_name(p.device);
  std::uint16_t port_id = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port_id) != 0)
    throw std::runtime_error("port '" + p.name + "': device '" + name + "' was not probed by the EAL");
  rte_eth_dev_info info{};
  if (const int rc = rte_eth_dev_info_get(port_id, &info); rc != 0)
    throw std::runtime_error("port '" + p.name + "': cannot read device info: " + dpdk_error(rc));
  const unsigned workers = settings_.workers;
  if (info.max_tx_queues < workers)
    throw std::runtime_error("port '" + p.name + "': device '" + name + "' has " +
                             std::to_string(info.max_tx_queues) + " TX queues, each of the " +
                             std::to_string(workers) + " workers needs its own (net_pcap: give one tx_pcap/tx_iface per worker)");
  const std::uint16_t rxq = static_cast<std::uint16_t>(std::min<unsigned>(workers, info.max_rx_queues));
  rte_eth_conf conf{};
  if (rxq > 1 && info.flow_type_rss_offloads != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP);
  }
  if (const int rc = rte_eth_dev_configure(port_id, rxq, static_cast<std::uint16_t>(workers), &conf); rc != 0)
    throw std::runtime_error("port '" + p.name + "': configure failed: " + dpdk_error(rc));
  std::uint16_t rxd = p.rx_descriptors, txd = p.tx_descriptors;
  rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
  const int socket = rte_eth_dev_socket_id(port_id);
  for (std::uint16_t q = 0; q < rxq; ++q) {
    if (const int rc = rte_eth_rx_queue_setup(port_id, q, rxd, static_cast<unsigned>(socket), nullptr, pool_); rc != 0)
      throw std::runtime_error("port '" + p.name + "': RX queue " + std::to_string(q) + ": " + dpdk_error(rc));
  }
  for (std::uint16_t q = 0; q < workers; ++q) {
    if (const int rc = rte_eth_tx_queue_setup(port_id, q, txd, static_cast<unsigned>(socket), nullptr); rc != 0)
      throw std::runtime_error("port '" + p.name + "': TX queue " + std::to_string(q) + ": " + dpdk_error(rc));
  }
  PortRuntime& pr = ports_[index];
  pr.port_id = port_id;
  pr.role = p.role;
  pr.address = p.address;
  pr.rx_queues = rxq;
  if (p.mac) {
    pr.mac = *p.mac;
    rte_ether_addr a;
    std::memcpy(a.addr_bytes, p.mac->data(), 6);
    rte_eth_dev_default_mac_addr_set(port_id, &a);  // some PMDs cannot; frames use it anyway
  } else {
    rte_ether_addr a;
    rte_eth_macaddr_get(port_id, &a);
    std::memcpy(pr.mac.data(), a.addr_bytes, 6);
  }
  rte_eth_promiscuous_enable(port_id);  // frames to a configured MAC the device does not know
  if (const int rc = rte_eth_dev_start(port_id); rc != 0)
    throw std::runtime_error("port '" + p.name + "': start failed: " + dpdk_error(rc));
  port_names_.push_back(p.name);
}

std::vector<std::string> Dataplane::apply(const routing::ForwardingPlan& plan) {
  auto result = compiler_.compile(plan, neighbour_piece_);
  if (!result.snapshot) return result.errors;
  publisher_.publish(std::move(result.snapshot));
  return {};
}

std::vector<std::string> Dataplane::switch_path(const std::string& egress, const std::string& traffic_class,
                                                const std::string& tunnel) {
  auto result = compiler_.switch_path(egress, traffic_class, tunnel);
  if (!result.snapshot) return result.errors;
  publisher_.publish(std::move(result.snapshot));
  return {};
}

void Dataplane::start_workers() {
  if (running_) return;
  stop_.store(false, std::memory_order_relaxed);
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    const int rc = rte_eal_remote_launch(worker_main, workers_[w].get(), worker_lcores_[w]);
    if (rc != 0) throw std::runtime_error("cannot launch worker " + std::to_string(w) + ": " + dpdk_error(rc));
  }
  running_ = true;
}

void Dataplane::stop_workers() {
  if (!running_) return;
  stop_.store(true, std::memory_order_relaxed);
  rte_eal_mp_wait_lcore();
  running_ = false;
  // Everything they learned on the way out.
  service();
  rte_mbuf* m;
  while (inject_->pop(m)) rte_pktmbuf_free(m);  // probes nobody will send now
}

void Dataplane::republish() {
  publisher_.publish(compiler_.with_new_destinations(*publisher_.current()));
}

void Dataplane::publish_neighbours() {
  auto table = std::make_shared<NeighbourTable>();
  table->v4.resize(ports_.size());
  for (const auto& [key, mac] : neighbours_v4_) table->v4[key.first].insert(key.second, {mac});
  table->v6 = neighbours_v6_;
  neighbour_piece_ = table;
  if (publisher_.current() != nullptr)
    publisher_.publish(compiler_.with_neighbours(*publisher_.current(), neighbour_piece_));
}

std::uint64_t Dataplane::ntp_now() const noexcept {
  const std::uint64_t hz = rte_get_tsc_hz();
  const std::uint64_t delta = rte_rdtsc() - tsc0_;
  return ntp_at_tsc0_ + ((delta / hz) << 32) + (((delta % hz) << 32) / hz);
}

std::vector<WorkerEvent> Dataplane::take_probe_replies() {
  std::vector<WorkerEvent> out;
  out.swap(probe_replies_);
  return out;
}

rte_mbuf* Dataplane::wan_udp_frame(std::uint32_t dst_ipv4, std::uint16_t src_port, std::uint16_t dst_port,
                                   std::uint16_t payload_bytes, std::uint8_t ttl, std::uint8_t** payload) {
  int wan = -1;
  for (std::size_t i = 0; i < ports_.size(); ++i)
    if (ports_[i].role == PortRole::wan) wan = static_cast<int>(i);
  if (wan < 0 || ports_[static_cast<std::size_t>(wan)].address.ipv4 == 0) return nullptr;
  const PortRuntime& p = ports_[static_cast<std::size_t>(wan)];
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) return nullptr;
  constexpr std::uint16_t kIp = 20, kUdp = 8;
  const std::uint16_t bytes = static_cast<std::uint16_t>(kEthBytes + kIp + kUdp + payload_bytes);
  auto* frame = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, bytes));
  if (frame == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memset(frame, 0, bytes);
  m->hash.usr = 0;  // sent as it is (send_tunnel_probe names a tunnel's outbound SPI here)
  std::memcpy(frame + 6, p.mac.data(), 6);  // the worker writes the next hop's MAC
  store_be16(frame + 12, kEtherIpv4);
  std::uint8_t* ip = frame + kEthBytes;
  ip[0] = 0x45;
  // DSCP CS6 (network control): the probes measure the link, so they ask
  // for the queue a WAN gives its own control traffic rather than die in
  // the data's (RFC 4594 4.1; the ESP outer header copies it).
  ip[1] = 0xc0;
  store_be16(ip + 2, static_cast<std::uint16_t>(kIp + kUdp + payload_bytes));
  store_be16(ip + 6, 0x4000);
  ip[8] = ttl;
  ip[9] = kProtoUdp;
  store_be32(ip + 12, p.address.ipv4);
  store_be32(ip + 16, dst_ipv4);
  store_be16(ip + 10, crypto::internet_checksum(ip, kIp));
  std::uint8_t* udp = ip + kIp;
  store_be16(udp, src_port);
  store_be16(udp + 2, dst_port);
  store_be16(udp + 4, static_cast<std::uint16_t>(kUdp + payload_bytes));
  *payload = udp + kUdp;
  return m;
}

bool Dataplane::inject(rte_mbuf* m) {
  if (m == nullptr) return false;
  if (!inject_->push(m)) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

bool Dataplane::send_probe(std::uint32_t dst_ipv4, std::uint16_t src_port, std::uint32_t seq, std::uint64_t t1_ntp) {
  // Padded to the reflector's reply size (41 bytes of TWAMP fields), as RFC
  // 5357 4.1.2 suggests, so the reply is no larger than the test packet;
  // sent with TTL 255 (4.1.2).
  std::uint8_t* t = nullptr;
  rte_mbuf* m = wan_udp_frame(dst_ipv4, src_port, settings_.twamp_port, 41, 255, &t);
  if (m == nullptr) return false;
  store_be32(t, seq);
  crypto::store_be64(t + 4, t1_ntp);
  store_be16(t + 12, 0x0001);  // error estimate: not synchronised, multiplier 1
  return inject(m);
}

bool Dataplane::send_tunnel_probe(std::uint32_t out_spi, std::uint32_t dst_ipv4, std::uint16_t src_port,
                                  std::uint32_t seq, std::uint64_t t1_ntp) {
  if (out_spi == 0) return false;
  std::uint8_t* t = nullptr;
  rte_mbuf* m = wan_udp_frame(dst_ipv4, src_port, settings_.twamp_port, 41, 255, &t);
  if (m == nullptr) return false;
  store_be32(t, seq);
  crypto::store_be64(t + 4, t1_ntp);
  store_be16(t + 12, 0x0001);
  m->hash.usr = out_spi;  // the worker encrypts it on this tunnel
  return inject(m);
}

bool Dataplane::send_nat_probe(std::uint32_t dst_ipv4, std::uint16_t dst_port, std::uint16_t src_port,
                               std::uint32_t seq, std::uint64_t t1_ntp) {
  std::uint8_t* p = nullptr;
  rte_mbuf* m = wan_udp_frame(dst_ipv4, crypto::kEspUdpPort, dst_port, kNatProbeBytes, 255, &p);
  if (m == nullptr) return false;
  std::memcpy(p + 4, "MGWP", 4);  // after the non-ESP marker (zero)
  p[8] = 1;                       // a test packet
  store_be16(p + 10, src_port);   // the reply comes back to the ESP port: this says which probe
  std::uint8_t* t = p + 12;
  store_be32(t, seq);
  crypto::store_be64(t + 4, t1_ntp);
  store_be16(t + 12, 0x0001);
  return inject(m);
}

bool Dataplane::send_nat_keepalive(std::uint32_t dst_ipv4, std::uint16_t dst_port) {
  std::uint8_t* payload = nullptr;
  rte_mbuf* m = wan_udp_frame(dst_ipv4, crypto::kEspUdpPort, dst_port, 1, 64, &payload);
  if (m == nullptr) return false;
  payload[0] = 0xff;
  return inject(m);
}

std::string Dataplane::service() {
  bool changed = false;
  for (auto& q : events_) {
    WorkerEvent ev;
    while (q->pop(ev)) {
      if (ev.kind == WorkerEvent::Kind::probe_reply) {
        if (probe_replies_.size() < 65536) probe_replies_.push_back(ev);  // bounded if nobody takes them
        continue;
      }
      if (ev.kind != WorkerEvent::Kind::neighbour_learned) continue;
      auto& slot = neighbours_v4_[{ev.port, ev.ipv4}];
      if (slot != ev.mac) {
        slot = ev.mac;
        changed = true;
      }
    }
  }
  if (changed) publish_neighbours();
  const auto st = publisher_.reclaim();
  if (st.waiting == 0 || st.oldest_wait_ns < std::uint64_t{settings_.stuck_worker_ms} * 1000000) return {};
  std::string stuck;
  for (std::size_t w = 0; w < counters_.size(); ++w) {
    const std::uint64_t loops = counters_[w]->bursts.get() + counters_[w]->empty_polls.get();
    if (loops == last_bursts_seen_[w]) {
      if (!stuck.empty()) stuck += ", ";
      stuck += std::to_string(w);
    }
    last_bursts_seen_[w] = loops;
  }
  return "snapshot reclamation waiting " + std::to_string(st.oldest_wait_ns / 1000000) + " ms for " +
         (stuck.empty() ? std::string("a worker") : "worker " + stuck) +
         " to pass a quiescent state (" + std::to_string(st.waiting) + " retired snapshots held)";
}

DataplaneStats Dataplane::stats() const {
  DataplaneStats s;
  for (std::size_t p = 0; p < ports_.size(); ++p) {
    DataplaneStats::Port out;
    out.name = port_names_[p];
    for (const auto& c : counters_) {
      out.rx_packets += c->ports[p].rx_packets.get();
      out.rx_bytes += c->ports[p].rx_bytes.get();
      out.tx_packets += c->ports[p].tx_packets.get();
      out.tx_bytes += c->ports[p].tx_bytes.get();
    }
    rte_eth_stats hw{};
    if (rte_eth_stats_get(ports_[p].port_id, &hw) == 0) {
      out.hw_rx_missed = hw.imissed;
      out.hw_rx_errors = hw.ierrors;
      out.hw_tx_errors = hw.oerrors;
    }
    s.ports.push_back(out);
  }
  for (const auto& [id, slot] : compiler_.tunnel_slots()) {
    DataplaneStats::Tunnel t;
    t.id = id;
    for (const auto& c : counters_) {
      t.tx_packets += c->tunnels[slot].tx_packets.get();
      t.tx_bytes += c->tunnels[slot].tx_bytes.get();
      t.rx_packets += c->tunnels[slot].rx_packets.get();
      t.rx_bytes += c->tunnels[slot].rx_bytes.get();
    }
    s.tunnels.push_back(t);
  }
  for (const auto& c : counters_) {
    std::vector<std::uint64_t> mine(kDropReasonCount);
    for (std::size_t r = 0; r < kDropReasonCount; ++r) {
      mine[r] = c->drops[r].get();
      s.drops[r] += mine[r];
    }
    s.per_worker_drops.push_back(std::move(mine));
#define MESHGW_X(name, help) s.name += c->name.get();
    MESHGW_WORKER_EVENTS(MESHGW_X)
#undef MESHGW_X
  }
  if (const Snapshot* cur = publisher_.current()) {
    s.snapshot_version = cur->version;
    s.snapshot_policy_rules = cur->policy ? cur->policy->verdicts.size() : 0;
  }
  s.snapshots_published = publisher_.published();
  s.snapshots_freed = publisher_.freed();
  s.snapshots_waiting = publisher_.published() - publisher_.freed() - 1;
  s.neighbours = neighbours_v4_.size() + neighbours_v6_.size();
  return s;
}

}  // namespace meshgw::dataplane
