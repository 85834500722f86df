// SPDX-License-Identifier: BSD-3-Clause
// meshctld's core without any transport: the registry, the live mesh state
// and the storage behind one lock, the REST and gateway API as a function
// from request to response (so tests and fuzzers call it directly), beacon
// ingestion and the periodic tick (missed beacons, coalesced measurements,
// ephemeral gateways removed). The HTTP server and the beacon receiver are
// thin layers over it. Threads: any; every public call takes the lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller_config.hpp"
#include "controlplane/common/link_demand.hpp"
#include "mesh_ca.hpp"
#include "mesh_state.hpp"
#include "registry.hpp"
#include "storage.hpp"

namespace meshgw::controller {

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query
  std::string body;
  std::string authorization;  // the Authorization header, as sent
  // From the verified TLS client certificate (empty without one): the
  // gateway is who its certificate says, never what the request says.
  std::string client_gateway;
  std::string client_serial;
  std::int64_t now_s = 0;
  std::uint64_t now_ms = 0;
};

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

class Controller {
 public:
  Controller(const ControllerConfig& config, std::unique_ptr<Storage> storage, const MeshCa& ca, std::string epoch);

  ApiResponse handle(const ApiRequest& req);
  // Every route served: method, path template ("{id}" for a parameter) and
  // who may call it (anyone, read, admin, gateway).
  struct RouteInfo {
    std::string method, path, access;
  };
  static std::vector<RouteInfo> routes();

  // One beacon datagram.
  api::BeaconOutcome ingest_beacon(std::span<const std::uint8_t> datagram, std::uint64_t now_ms,
                                   const api::BeaconAddress* source = nullptr);

  // Every 100 ms or so: gateways down after missed beacons (persisted and
  // announced), measurements flushed as one delta, ephemeral gateways down
  // too long evicted.
  void tick(std::uint64_t now_ms);

  // Whether a TLS client certificate may connect: known gateway, not revoked.
  bool client_allowed(const std::string& gateway_id, const std::string& serial);

  // The gateway API's stream: the message for a subscriber at (epoch,
  // since): {"deltas": [...]} or {"snapshot": {...}}; nullopt when it is up
  // to date. The listener runs (under no lock) after every state change.
  std::optional<nlohmann::json> updates_for(const std::string& epoch, std::uint64_t since,
                                           const std::string& gateway = {});
  // Events after seq (oldest first, at most limit), for the event stream.
  std::vector<EventRecord> events_after(std::uint64_t seq, std::size_t limit);
  std::uint64_t version();
  const std::string& epoch() const noexcept { return epoch_; }
  void set_change_listener(std::function<void()> listener);

  std::string metrics_text();
  std::uint64_t beacon_count(api::BeaconOutcome o) const noexcept {
    return beacon_outcomes_[static_cast<std::size_t>(o)].load(std::memory_order_relaxed);
  }
  void count_http(int status);
  // The UDP port beacons are received on (the bound one when the
  // configuration asks for port 0); registration answers name it.
  void set_beacon_port(std::uint16_t port) noexcept { beacon_port_.store(port, std::memory_order_relaxed); }
  void set_key_relay_port(std::uint16_t port) noexcept { key_relay_port_.store(port, std::memory_order_relaxed); }
  std::uint16_t key_relay_port() const noexcept { return key_relay_port_.load(std::memory_order_relaxed); }
  std::uint16_t beacon_port() const noexcept { return beacon_port_.load(std::memory_order_relaxed); }
  // Datagrams the beacon socket's buffer could not hold (SO_RXQ_OVFL).
  void set_beacon_socket_drops(std::uint64_t n) noexcept { socket_drops_.store(n, std::memory_order_relaxed); }

 private:
  friend struct RestRoutes;
  void changed();  // call with the lock released
  // Status changes found by beacons and the tick, written together once a
  // tick (one transaction: 10,000 gateways coming back after a controller
  // restart cost one commit, not 10,000).
  void queue_status(const std::string& id, std::uint64_t now_ms, const char* event_kind);
  void persist_statuses();
  // Releases every SPI whose path crosses the gateway (revoked or gone).
  void drop_paths_through(const std::string& id);

  ControllerConfig config_;
  std::unique_ptr<Storage> storage_;
  const MeshCa& ca_;
  std::string epoch_;
  std::mutex mutex_;
  Registry registry_;
  MeshState state_;
  // The links' loads, sampled every second and forecast 10 s ahead (as the
  // gateways do, by routing/predict): what-if queries price them (under
  // mutex_). Four minutes of history per link (256 samples, the gateways
  // keep 2048): the controller holds every link of the mesh.
  common::LinkDemand demand_{[] {
    common::LinkDemandConfig c;
    c.sample_interval_ns = 1'000'000'000;
    c.horizon = 10;
    c.history = 256;
    return c;
  }()};
  std::function<void()> listener_;
  std::vector<std::pair<std::string, EventRecord>> pending_statuses_;
  std::array<std::atomic<std::uint64_t>, api::kBeaconOutcomeCount> beacon_outcomes_{};
  std::array<std::atomic<std::uint64_t>, 6> http_by_class_{};  // 1xx..5xx, index = status / 100
  std::atomic<std::uint64_t> socket_drops_{0};
  std::atomic<std::uint16_t> beacon_port_{0};
  std::atomic<std::uint16_t> key_relay_port_{0};
};

}  // namespace meshgw::controller
