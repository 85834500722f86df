// SPDX-License-Identifier: BSD-3-Clause
// The WAN emulator at work: the gateways' underlay interfaces joined like a
// switch (AF_PACKET, recvmmsg/sendmmsg in batches of 32), the IPv4 between
// two gateways (but TCP) sent through their link's model (link_shaper.hpp),
// IPv4 between gateways without a link dropped, TCP and ARP directly; the
// control socket's commands (wanem_config.hpp). One thread, sleeping in
// ppoll until the next frame is due.
#pragma once

#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>

#include "wanem_config.hpp"

namespace meshgw::lab {

class Emulator {
 public:
  // Opens every port and the control socket; throws std::runtime_error
  // naming what is missing (an interface, root, the socket path).
  explicit Emulator(const EmulatorConfig& cfg);
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;
  // Switches and shapes until stop becomes non-zero (a signal handler's flag).
  void run(const volatile std::sig_atomic_t& stop);
  // Ports, links (state, parameters, counters, drops by reason, queue,
  // queueing-delay percentiles) and the switch's own drops.
  nlohmann::json stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshgw::lab
