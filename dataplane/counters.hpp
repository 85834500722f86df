// SPDX-License-Identifier: BSD-3-Clause
// Per-worker counters, one cache-aligned block per worker lcore, written only
// by that worker and read by the control thread (stats, /metrics).
//
// Counter is an atomic with relaxed loads and stores and no read-modify-write:
// on x86 an add is a plain load, add and store (no lock prefix), yet the
// control thread's concurrent read is defined behaviour and never torn.
#pragma once

#include <atomic>
#include <cstdint>

#include "drop_reason.hpp"
#include "snapshot.hpp"

namespace meshgw::dataplane {

inline constexpr std::size_t kMaxPorts = 4;

class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

struct PortCounters {
  Counter rx_packets, rx_bytes, tx_packets, tx_bytes;
};

struct TunnelCounters {
  Counter tx_packets, tx_bytes, rx_packets, rx_bytes;
};

// X(name, help)
#define MESHGW_WORKER_EVENTS(X)                                                  \
  X(bursts, "receive bursts that returned packets")                            \
  X(empty_polls, "receive polls that returned nothing")                        \
  X(idle_sleeps, "short sleeps after empty polls (idle = sleep)")              \
  X(encrypted, "packets encrypted into a tunnel")                              \
  X(decrypted, "packets decrypted and delivered to the site")                     \
  X(relayed, "ESP packets relayed by SPI without crypto")                      \
  X(arp_replies_sent, "ARP replies sent for our addresses")                    \
  X(arp_requests_sent, "ARP requests sent to resolve a next hop")              \
  X(neighbour_queued, "packets queued while their next hop was resolved")      \
  X(icmp_echo_replies, "ICMP/ICMPv6 echo replies sent")                        \
  X(icmp_errors_sent, "ICMP frag-needed / ICMPv6 packet-too-big sent")         \
  X(ndp_adverts_sent, "ICMPv6 neighbour advertisements sent for our addresses") \
  X(mss_clamped, "TCP SYNs whose MSS option was lowered to fit the tunnel")     \
  X(twamp_reflected, "TWAMP-light test packets reflected")                     \
  X(probes_sent, "TWAMP-light test packets of this gateway's prober sent")      \
  X(probe_replies, "reflected TWAMP-light packets handed to the prober")       \
  X(probe_replies_dropped, "reflected TWAMP-light packets dropped: the prober's queue was full") \
  X(punted_to_kernel, "frames for the gateway handed to the kernel (exception path)") \
  X(from_kernel, "frames the kernel sent out through the exception path")     \
  X(snapshot_changes, "times this worker picked up a new snapshot")

struct alignas(64) WorkerCounters {
  PortCounters ports[kMaxPorts];
  Counter drops[kDropReasonCount];
#define MESHGW_X(name, help) Counter name;
  MESHGW_WORKER_EVENTS(MESHGW_X)
#undef MESHGW_X
  TunnelCounters tunnels[kMaxTunnelSlots];
};

}  // namespace meshgw::dataplane
