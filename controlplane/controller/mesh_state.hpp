// SPDX-License-Identifier: BSD-3-Clause
// The controller's live view of the mesh, in memory: every gateway (its
// durable record plus what its beacons say), the links measured between them,
// and a version that increases with every change. Each change is also kept as
// a delta (JSON) in a bounded log, so a gateway that reconnects with its last
// version gets only what it missed, or the full state when it is too far
// behind. Beacons change memory only; the caller persists status changes.
// Not thread-safe: the Controller serialises calls under its lock.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/api/beacon.hpp"
#include "controlplane/api/policy_json.hpp"
#include "records.hpp"

namespace meshgw::controller {

// An SPI record's path ("a>b>c") as its gateway IDs.
std::vector<std::string> split_path(const std::string& path);

struct GatewayLive {
  GatewayRecord record;
  std::vector<api::BeaconAddress> addresses;
  bool behind_nat = false;  // addresses = where its beacons come from
  std::uint64_t declared_bps = 0;
  std::uint16_t load_permille = 0;
  std::int32_t latitude_e6 = 0;
  std::int32_t longitude_e6 = 0;
  std::uint64_t last_beacon_ms = 0;
  api::ReplayGuard guard;
  std::unique_ptr<api::BeaconKey> key;
};

// One direction's view of a link: what `from` measured towards `to`.
struct LinkView {
  std::uint32_t rtt_us = 0;
  std::uint32_t jitter_us = 0;
  std::uint32_t loss_ppm = 0;
  std::uint64_t updated_ms = 0;
};

struct BeaconResult {
  api::BeaconOutcome outcome = api::BeaconOutcome::accepted;
  std::string gateway;                       // when known
  std::optional<GatewayStatus> new_status;   // set when the beacon changed it
};

class MeshState {
 public:
  // epoch names this run's version history (random per meshctld start): a
  // version from another epoch is never resumed from.
  explicit MeshState(std::string epoch, std::size_t delta_log_size = 4096)
      : epoch_(std::move(epoch)), log_size_(delta_log_size) {}

  // Registry changes (joined, renewed, revoked, left, down/up persisted).
  void upsert_gateway(const GatewayRecord& record);
  void remove_gateway(const std::string& id);

  // A received datagram: parsed, authenticated, replay- and time-checked;
  // on acceptance the gateway's live fields and its links are updated.
  // source: where the datagram came from. A gateway that declares no
  // address (it is behind a NAT and cannot know its public one) is reached
  // where its beacons come from: its NAT's mapping (RFC 3948), which its
  // beacons, sent from its ESP port, keep open and up to date.
  BeaconResult ingest(std::span<const std::uint8_t> datagram, std::uint64_t now_ms, std::uint64_t max_skew_ms,
                      const api::BeaconAddress* source = nullptr);

  // Gateways up (or registered) whose last beacon is older than down_after_ms:
  // marked down here, returned for the caller to persist and announce. Links
  // not reported for 3 * down_after_ms are removed (announced with the next
  // measurements delta).
  std::vector<std::string> expire(std::uint64_t now_ms, std::uint64_t down_after_ms);
  // Ephemeral gateways down for longer than remove_after_ms (to evict).
  std::vector<std::string> expired_ephemeral(std::int64_t now_s, std::int64_t remove_after_s) const;

  // The mesh policy (rules and transit permissions).
  void set_policy(api::MeshPolicy policy);
  const api::MeshPolicy& policy() const noexcept { return policy_; }

  // SPI allocations: one per tunnel direction, with the path it takes
  // (sender first). Transits derive their relay entries from the paths that
  // cross them.
  void add_spi(const SpiRecord& spi);
  void remove_spi(std::uint32_t spi);
  const std::map<std::uint32_t, SpiRecord>& spis() const noexcept { return spis_; }

  // A gateway's reported per-tunnel send rates (bits/s by SPI), which load
  // the links of each tunnel's path; replaces its previous report.
  void set_tunnel_rates(const std::string& gateway, std::map<std::uint32_t, double> tx_bps);
  const std::map<std::string, std::map<std::uint32_t, double>>& tunnel_rates() const noexcept { return tunnel_rates_; }
  // A gateway's path choice towards egress in a traffic class, as its
  // reports say (sender first; empty: no route). The what-if query's flows.
  using PathChoiceKey = std::tuple<std::string, std::string, std::string>;  // gateway, egress, class
  void set_path_choice(const std::string& gateway, const std::string& egress, const std::string& traffic_class,
                       std::vector<std::string> path);
  const std::map<PathChoiceKey, std::vector<std::string>>& path_choices() const noexcept { return path_choices_; }
  // Offered load on the directed link from -> to, bits/s.
  double link_load_bps(const std::string& from, const std::string& to) const;
  // What the slower end declares (0: unknown).
  std::uint64_t link_capacity_bps(const std::string& from, const std::string& to) const;

  // Emits one delta with the load and link measurements changed since the
  // last call (coalesced: beacons do not each make a delta). False if none.
  bool flush_measurements();

  std::uint64_t version() const noexcept { return version_; }
  const std::string& epoch() const noexcept { return epoch_; }
  const GatewayLive* gateway(const std::string& id) const;
  const std::map<std::string, GatewayLive>& gateways() const noexcept { return gateways_; }
  bool is_revoked_serial(const std::string& serial) const;

  nlohmann::json gateway_json(const GatewayLive& g) const;
  nlohmann::json links_json() const;
  nlohmann::json link_json(const std::string& from, const std::string& to, const LinkView& v) const;
  // {"epoch", "version", "gateways": [...], "links": [...], "policy": {...},
  // "spis": [...]}; for a gateway (non-empty for_gateway), only the SPIs
  // whose path includes it.
  nlohmann::json snapshot_json(const std::string& for_gateway = {}) const;
  nlohmann::json spi_json(const SpiRecord& s) const;
  // The deltas after `since`, oldest first; nullopt when the log no longer
  // reaches back that far (the caller sends a snapshot instead).
  // Deltas about SPIs are left out for a gateway not on their path.
  std::optional<std::vector<nlohmann::json>> deltas_since(const std::string& epoch, std::uint64_t since,
                                                          const std::string& for_gateway = {}) const;

 private:
  void push_delta(nlohmann::json delta);
  void recompute_link_load();
  std::string epoch_;
  std::size_t log_size_;
  std::uint64_t version_ = 0;
  std::deque<std::pair<std::uint64_t, nlohmann::json>> log_;
  std::map<std::string, GatewayLive> gateways_;
  std::map<std::pair<std::string, std::string>, LinkView> links_;  // (from, to)
  std::vector<std::pair<std::string, std::string>> dirty_links_;
  std::vector<std::string> dirty_loads_;
  std::vector<std::pair<std::string, std::string>> removed_links_;
  std::map<std::string, std::string> revoked_serials_;  // serial -> gateway
  api::MeshPolicy policy_;
  std::map<std::uint32_t, SpiRecord> spis_;
  std::map<std::string, std::map<std::uint32_t, double>> tunnel_rates_;  // gateway -> spi -> bits/s
  std::map<std::pair<std::string, std::string>, double> link_load_;     // derived from the rates
  std::map<std::pair<std::string, std::string>, double> published_load_;  // as the last delta of the link had it
  std::map<PathChoiceKey, std::vector<std::string>> path_choices_;
};

}  // namespace meshgw::controller
