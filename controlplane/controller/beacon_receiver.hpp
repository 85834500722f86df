// SPDX-License-Identifier: BSD-3-Clause
// The UDP socket beacons arrive on: a thread of its own receiving up to 64
// datagrams per recvmmsg(2) call and handing each to the Controller, which
// authenticates and counts it. Datagrams the socket buffer could not hold
// are counted by the kernel (see `drops()`, from SO_RXQ_OVFL).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "controller.hpp"

namespace meshgw::controller {

class BeaconReceiver {
 public:
  // Binds address:port (throws std::runtime_error naming it) and starts.
  BeaconReceiver(Controller& controller, const std::string& address, std::uint16_t port);
  ~BeaconReceiver();
  BeaconReceiver(const BeaconReceiver&) = delete;
  BeaconReceiver& operator=(const BeaconReceiver&) = delete;
  std::uint16_t port() const noexcept { return port_; }
  std::uint64_t received() const noexcept { return received_.load(std::memory_order_relaxed); }
  std::uint64_t drops() const noexcept { return drops_.load(std::memory_order_relaxed); }

 private:
  void run();
  Controller& controller_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> drops_{0};
  std::thread thread_;
};

}  // namespace meshgw::controller
