// SPDX-License-Identifier: BSD-3-Clause
// The worker lcores' packet path, run to completion per burst of 32:
//   LAN  -> parse -> policy -> route (rte_fib) -> tunnel -> MTU / MSS ->
//           ESP encrypt (ipsec-mb, this core) -> outer IPv4/UDP 4500 + Ethernet -> WAN
//   WAN  -> outer checks -> SPI -> relay (rewrite outer, TTL-1, no crypto) or
//           replay check -> decrypt -> inner source check -> Ethernet -> LAN
//   both -> ARP (replies for our addresses, next-hop resolution with a bounded
//           wait queue), ICMP echo, ICMPv6 echo / neighbour solicitation for our
//           addresses, TWAMP-light reflection on the WAN port.
// Hot path: no locks, no allocation (mbufs from the pool aside), no syscalls,
// no exceptions, no virtual calls; every drop is counted by reason.
// Threads: each WorkerContext belongs to one worker lcore; the control thread
// only reads its counters and drains its event queue.
#pragma once

#include <boost/lockfree/spsc_queue.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "counters.hpp"
#include "crypto/aead.hpp"
#include "packet.hpp"
#include "settings.hpp"
#include "snapshot.hpp"

struct rte_mempool;
struct rte_rcu_qsbr;

namespace meshgw::dataplane {

inline constexpr std::uint16_t kBurst = 32;

// A port as the workers see it, fixed once the ports are started.
struct PortRuntime {
  std::uint16_t port_id = 0;
  PortRole role = PortRole::lan;
  MacAddress mac{};
  InterfaceAddress address;
  std::uint16_t rx_queues = 1;
};

// What workers tell the control thread.
struct WorkerEvent {
  enum class Kind : std::uint8_t { neighbour_learned, probe_reply } kind;
  std::uint16_t port;     // index into the port list
  std::uint32_t ipv4;     // host order: the neighbour, or the reflector that answered
  MacAddress mac;
  // probe_reply: RFC 5357 fields of the reflected packet, and its arrival.
  std::uint16_t probe_port = 0;  // our UDP port it came back to
  std::uint32_t probe_seq = 0;   // the sender sequence number echoed
  std::uint64_t t1 = 0, t2 = 0, t3 = 0, t4 = 0;  // NTP 32.32
  std::uint32_t tunnel_spi = 0;  // inside a tunnel: the inbound SPI it came on (0: a neighbour probe)
};
using EventQueue = boost::lockfree::spsc_queue<WorkerEvent, boost::lockfree::capacity<1024>>;
// Frames the control thread hands worker 0 to send on the WAN port (the
// prober's test packets); the worker owns the TX queues, so nobody else sends.
using InjectQueue = boost::lockfree::spsc_queue<rte_mbuf*, boost::lockfree::capacity<256>>;
// The UDP ports the prober sends from: reflected packets to them go to it.
inline constexpr std::uint16_t kProbePortFirst = 40000;
inline constexpr std::uint16_t kProbePortLast = 41023;

// The publisher's side that workers read: the current snapshot and the RCU
// variable they report quiescence to.
struct SnapshotSource {
  // Written by the control thread with release after the snapshot is fully
  // built; read by workers with acquire once per burst loop.
  std::atomic<const Snapshot*> current{nullptr};
  rte_rcu_qsbr* qsbr = nullptr;
};

// Frames waiting for a next hop's MAC. Bounded: a full queue drops.
struct PendingNeighbours {
  static constexpr unsigned kSize = 64;
  struct Entry {
    rte_mbuf* m;
    std::uint64_t since_tsc;
    std::uint32_t ip;      // IPv4 next hop, host order
    std::uint16_t port;    // index into ports
  };
  Entry entries[kSize];
  unsigned count = 0;
  // Last ARP requests sent, so a burst of misses sends one request.
  struct Asked {
    std::uint32_t ip;
    std::uint64_t tsc;
  };
  Asked asked[16] = {};
};

struct TxBuffer {
  rte_mbuf* pkts[2 * kBurst];
  std::uint16_t count = 0;
};

struct WorkerContext {
  unsigned index = 0;  // 0..workers-1: TX queue and RCU thread id
  std::vector<PortRuntime> ports;
  int lan = -1, wan = -1;  // indexes into ports
  int exception = -1;      // the kernel TAP of the exception path, if any
  std::vector<std::pair<std::uint16_t, std::uint16_t>> rx;  // (port index, queue) this worker polls
  rte_mempool* pool = nullptr;
  SnapshotSource* source = nullptr;
  WorkerCounters* counters = nullptr;
  EventQueue* events = nullptr;
  InjectQueue* inject = nullptr;  // worker 0 only
  const std::atomic<bool>* stop = nullptr;
  IdleMode idle = IdleMode::poll;
  std::uint32_t idle_sleep_max_us = 1000;
  std::uint16_t twamp_port = 862;
  std::uint64_t tsc_hz = 1;
  // ICMP error token bucket.
  std::uint64_t icmp_tokens = 0, icmp_max_tokens = 20, icmp_last_tsc = 0, icmp_tsc_per_token = 1;
  // TWAMP timestamps: NTP time at tsc0.
  std::uint64_t ntp_at_tsc0 = 0, tsc0 = 0;
  std::unique_ptr<crypto::CryptoWorkspace> ws;  // made on the worker's lcore
  TxBuffer tx[kMaxPorts];
  PendingNeighbours pending;
};

// Runs a worker until *ctx.stop (lcore entry point; arg is a WorkerContext*).
int worker_main(void* arg);

// Where a good packet of a stage goes: a port and the next hop whose MAC the
// frame needs (IPv4 host order, or a pointer to 16 bytes of IPv6 in the packet).
struct Egress {
  std::uint16_t port;
  bool v6;
  std::uint32_t ipv4;
  const std::uint8_t* ipv6;
};

// The forwarding stages, each with its contract in the signature: pkts[0..n)
// are IP frames to forward (checked and trimmed by check_frame); returns the
// good count, with pkts[0..good) complete frames (all but the destination
// MAC) and egress[i] where each goes; pkts[good..n) are the refused ones
// with reasons[i], for the caller to count and free.
std::uint16_t lan_to_mesh_burst(const Snapshot& snap, WorkerContext& ctx, rte_mbuf** pkts,
                                std::uint16_t n, Egress* egress, DropReason* reasons) noexcept;
// The same, but the stage may also take packets itself (a tunnel probe's
// reply for the prober): pkts[good..good + *refused) are the refused ones,
// and the rest of the n are gone.
std::uint16_t mesh_to_lan_burst(const Snapshot& snap, WorkerContext& ctx, rte_mbuf** pkts,
                                std::uint16_t n, Egress* egress, DropReason* reasons,
                                std::uint16_t* refused) noexcept;

// One poll of every RX queue of the worker, all stages, TX flush. Returns the
// number of packets received. (worker_main's loop body; tests call it.)
unsigned poll_once(WorkerContext& ctx) noexcept;

}  // namespace meshgw::dataplane
