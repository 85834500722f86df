// SPDX-License-Identifier: BSD-3-Clause
// What the data plane is started with: ports, workers, mempool, idle policy,
// static neighbours. Plain values (no DPDK types), filled and validated by
// the gateway's configuration (controlplane/agent/gateway_config).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crypto/aead.hpp"
#include "crypto/replay_window.hpp"

namespace meshgw::dataplane {

// exception: the kernel TAP interface meshgw adds for the WAN port's
// exception path (never configured as a [[port]] of its own).
enum class PortRole : std::uint8_t { lan, wan, exception };
enum class IdleMode : std::uint8_t { poll, sleep };

struct InterfaceAddress {
  std::uint32_t ipv4 = 0;  // host order; 0 = none
  std::uint8_t ipv4_prefix = 32;
  // The next hop for IPv4 destinations off the port's subnet (a cloud
  // instance's or a NATed device's router); 0 = every destination is on link.
  std::uint32_t ipv4_router = 0;
  bool has_ipv6 = false;
  std::array<std::uint8_t, 16> ipv6{};
  std::uint8_t ipv6_prefix = 64;
};

struct PortSettings {
  std::string name;
  std::string device;  // a DPDK vdev string (net_pcap0,rx_pcap=...) or a PCI address
  PortRole role = PortRole::lan;
  std::optional<std::array<std::uint8_t, 6>> mac;  // default: the device's own
  InterfaceAddress address;
  std::uint16_t rx_descriptors = 1024, tx_descriptors = 1024;
  // WAN only: a kernel TAP interface of this name carries the port's IPv4
  // address; frames for the gateway that the fast path does not answer go
  // there and what the kernel sends goes out of the port, so kernel sockets
  // work over the DPDK-owned port. Empty: none (such frames are dropped).
  std::string exception_iface;
};

struct StaticNeighbour {
  std::string port;
  bool v6 = false;
  std::array<std::uint8_t, 16> ip{};  // IPv4 in the first 4 bytes, network order
  std::array<std::uint8_t, 6> mac{};
};

struct DataplaneSettings {
  std::vector<PortSettings> ports;
  unsigned workers = 1;
  IdleMode idle = IdleMode::poll;
  std::uint32_t idle_sleep_max_us = 1000;  // longest sleep after empty polls
  std::uint32_t mbufs = 16383;             // per mempool (one pool)
  std::uint32_t mbuf_cache = 256;
  std::uint32_t icmp_errors_per_second = 100;  // per worker, token bucket
  std::uint16_t twamp_port = 862;              // TWAMP-light reflector (0: off)
  std::uint32_t stuck_worker_ms = 1000;        // grace period deadline before a worker is reported
  crypto::Backend backend = crypto::Backend::ipsec_mb;
  std::uint32_t replay_window = crypto::ReplayWindow::kDefaultSize;
  std::vector<StaticNeighbour> neighbours;
};

}  // namespace meshgw::dataplane
