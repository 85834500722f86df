// SPDX-License-Identifier: BSD-3-Clause
// meshgw's HTTP endpoint (Boost.Beast): GET /v1/stats (JSON), GET
// /metrics (Prometheus text, rendered with prometheus-cpp), and in a mesh
// GET /v1/peers (probes and tunnels), GET /v1/paths (per egress and class: primary, backups, costs) and
// GET /v1/explain?to=EGRESS&class=C (why that path). It never reads
// the data plane itself: on each request it asks the control thread for a
// fresh report (StatsExchange) and waits briefly for it, so the counters a
// client sees are at most one control-loop turn old.
// Threads: its own I/O thread; the control thread answers through the exchange.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace meshgw::agent {

struct StatsReport {
  std::string json;     // /v1/stats body
  std::string metrics;  // /metrics body
  std::string peers;    // /v1/peers body: probes per peer, tunnels (empty: not in a mesh)
  std::string paths;    // /v1/paths body (empty: not in a mesh)
  std::map<std::string, std::string> explain;  // /v1/explain bodies by "egress|class"
};

// Hands reports from the control thread to the HTTP thread.
class StatsExchange {
 public:
  // HTTP thread: asks for a fresh report and waits up to timeout_ms for it.
  std::shared_ptr<const StatsReport> fresh(unsigned timeout_ms);
  // Control thread: whether a client is waiting for a report.
  bool wanted() const noexcept { return wanted_.load(std::memory_order_acquire); }
  void publish(std::shared_ptr<const StatsReport> report);

 private:
  std::atomic<bool> wanted_{false};
  std::mutex mutex_;
  std::condition_variable ready_;
  std::shared_ptr<const StatsReport> latest_;
  std::uint64_t generation_ = 0;
};

class StatsServer {
 public:
  // Binds address:port (port 0: any free port) or throws std::runtime_error.
  StatsServer(const std::string& address, std::uint16_t port, StatsExchange& exchange);
  ~StatsServer();
  std::uint16_t port() const noexcept { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace meshgw::agent
