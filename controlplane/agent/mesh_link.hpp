// SPDX-License-Identifier: BSD-3-Clause
// The gateway's link to meshctld: its identity (registration with a join
// token and a locally made key and CSR on first start, the stored
// certificate afterwards, renewal before expiry), HMAC-tagged beacons every
// few seconds, and the mesh state followed over mTLS (/v1/gw/watch),
// resumed from the last version after a disconnect and kept on disk so a
// restart without a controller starts from it.
//
// Files in state_dir: gateway.key (0600), gateway.pem, ca.pem,
// identity.json (0600: it holds the beacon key), mesh_state.json (0600).
//
// Threads: two of its own (link: registration, renewal, beacons; watch: the
// state stream). The control thread calls set_beacon_inputs() and
// take_view(); both are cheap and never block on the network.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/api/beacon.hpp"
#include "mesh_view.hpp"

#include "controlplane/common/rest_client.hpp"

namespace meshgw::agent {

struct ControllerSettings {
  std::string url;              // https://host:port of meshctld
  std::string ca_file;          // the mesh CA, to verify meshctld
  std::string join_token_file;  // 0600; read only to register
  std::string state_dir;
  std::string role;             // requested role, "" for the token's
  unsigned beacon_interval_ms = 2000;
  unsigned renew_before_s = 3600;
  std::uint64_t declared_bps = 0;
  std::int32_t latitude_e6 = 0, longitude_e6 = 0;
  // The site prefixes this gateway serves, reported to the controller once
  // registered (default: the LAN port's subnets).
  std::vector<std::string> sites;
  // TWAMP-light probes to every other gateway, through the data plane.
  unsigned probe_interval_ms = 100;
  unsigned probe_timeout_ms = 250;
  unsigned probe_down_after = 3;  // consecutive losses: the peer is down, failover
  // A peer down moves traffic to the backup tunnels at once, but paths are
  // recomputed (new tunnels) and the mesh told only if it is still down
  // this long after: a peer that answers again meanwhile (a stall, not a
  // cut) leaves the paths as they were.
  unsigned failover_confirm_ms = 200;
  // End-to-end probes through each of our tunnels (0: none); down_after as above.
  unsigned tunnel_probe_interval_ms = 500;
  // Tunnels to the other gateways: the key exchange's TCP port (the same on
  // every gateway, reached at its underlay address), the inner MTU, backups
  // set up ahead per (egress, class), and rekey after a time or a volume.
  std::uint16_t key_port = 4501;
  std::uint16_t tunnel_mtu = 1400;
  unsigned backups = 1;
  unsigned rekey_after_s = 3600;
  std::uint64_t rekey_after_bytes = 0;  // 0: by time only
  // Link loads from the mesh state, sampled every forecast_interval_ms and
  // forecast forecast_horizon samples ahead (forecast_season samples per
  // season, 0: none); predict = false prices links by their load now only.
  // Behind a NAT: beacons declare no address and are sent from the WAN
  // address's port 4500 (through the exception path), so the controller
  // publishes the NAT's mapping as this gateway's address; NAT keepalives
  // every nat_keepalive_ms keep it open towards every peer.
  bool behind_nat = false;
  std::uint32_t beacon_bind_ipv4 = 0;  // host order; set from the WAN address when behind_nat
  unsigned nat_keepalive_ms = 10000;
  bool predict = true;
  unsigned forecast_interval_ms = 1000;
  unsigned forecast_horizon = 5;
  unsigned forecast_season = 0;
  // A rise the fitted forecaster has not learnt: the least-squares trend of
  // the last forecast_trend_window samples when it is significant (0: off).
  unsigned forecast_trend_window = 20;
  // A better path must stay better this long (plus the jitter below) before
  // traffic moves to it; a failed path moves at once.
  unsigned path_hold_ms = 10000;
  // The hold of each (egress, class) is spread over [hold, hold * (1 +
  // jitter)), differently on every gateway: gateways that see the same hot
  // link do not all leave it in the same instant, and the later ones see
  // the load the first ones took away before their own hold ends.
  double path_hold_jitter = 0.5;
  // Once the hold is over, the move is taken with probability
  // min(1, rate x relative gain), drawn again a third of the hold later if
  // lost: of the gateways leaving a hot link for the same path, a share
  // moves per round (routing/path_selector.hpp). 0: every one moves.
  double path_migration_rate = 0.5;
};

// What the control thread knows that beacons carry.
struct BeaconInputs {
  std::vector<api::BeaconAddress> addresses;
  std::uint16_t load_permille = 0;
  std::vector<api::BeaconNeighbour> neighbours;
};

struct MeshLinkStatus {
  std::string gateway_id;
  std::string role;
  bool registered = false;
  bool following = false;  // the watch stream is up
  std::string epoch;
  std::uint64_t version = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t beacons_sent = 0;
  std::int64_t cert_not_after = 0;
  std::string last_error;
};

class MeshLink {
 public:
  // Loads the stored identity and mesh state if there are any (throws for
  // unreadable or unsafe files); starts nothing.
  explicit MeshLink(ControllerSettings settings);
  ~MeshLink();
  MeshLink(const MeshLink&) = delete;
  MeshLink& operator=(const MeshLink&) = delete;

  void start();
  void stop();

  void set_beacon_inputs(BeaconInputs inputs);
  // Passive telemetry for POST /v1/gw/report ({"tunnels": [{"spi", "tx_bps"}],
  // "paths": [...]}), sent by the link thread after its next beacon; a newer
  // report replaces one not sent yet.
  void set_report(nlohmann::json body);
  // A beacon now rather than at the next interval (a neighbour went up or
  // down: the rest of the mesh should hear it at once).
  void beacon_soon();
  // A gateway API call with this gateway's certificate, from any thread
  // (the tunnel manager's jobs). Throws std::runtime_error when not
  // registered yet or the controller cannot be reached.
  common::RestAnswer call(const std::string& method, const std::string& target, const std::string& body = {}) const;
  // The controller's key relay (for peers behind NAT): its host and port
  // (0 until registered, or when the controller has none).
  std::string controller_host() const;
  std::uint16_t key_relay_port() const;
  // Where the certificate and key live (the tunnel key exchange uses them).
  std::string cert_file() const { return settings_.state_dir + "/gateway.pem"; }
  std::string key_file() const { return settings_.state_dir + "/gateway.key"; }
  const std::string& ca_file() const noexcept { return settings_.ca_file; }
  // The mesh view if it changed since the last call (a copy).
  // The view if it changed since the last call; *structural: whether more
  // than measurements changed meanwhile (gateways, policy, SPIs). When only
  // measurements did, what comes back is MeshView::measurements_only().
  std::optional<MeshView> take_view(bool* structural = nullptr);
  MeshLinkStatus status() const;

 private:
  struct Identity;
  common::RestEndpoint endpoint(bool with_certificate) const;
  void save_identity(const Identity& id) const;
  void link_loop();
  void watch_loop();
  bool register_gateway();
  void renew_if_due(std::int64_t now_s);
  void send_beacon();
  void report_sites();
  void set_error(const std::string& e);
  bool wait(unsigned ms, bool beacon_wakes = false);  // false when stopping

  ControllerSettings settings_;
  std::unique_ptr<Identity> identity_;  // guarded by mutex_ once threads run
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  MeshView view_;
  bool view_changed_ = false;
  bool view_structural_ = false;  // since the last take_view
  // The file is for restarts (the controller resends what changed since):
  // measurements are saved at most every kMeasurementSaveMs (a mesh's links
  // change every few seconds), structural changes at most every
  // kStructuralSaveMs (a busy mesh allocates SPIs many times a second, and
  // an fsync per delta would hold up the stream the tunnel checks wait on).
  static constexpr std::uint64_t kMeasurementSaveMs = 5000;
  static constexpr std::uint64_t kStructuralSaveMs = 1000;
  bool view_unsaved_ = false;
  bool structural_unsaved_ = false;  // held back by kStructuralSaveMs: the link loop saves it
  std::uint64_t view_saved_ms_ = 0;
  // With mutex_ held: the view to write now, if any, when the last save is
  // at least min_interval_ms old; written without the lock.
  std::optional<MeshView> view_to_save(std::uint64_t min_interval_ms);
  void write_view(const std::optional<MeshView>& v) const;
  BeaconInputs inputs_;
  MeshLinkStatus status_;
  std::uint64_t last_sequence_ = 0;
  bool sites_reported_ = false;
  bool beacon_now_ = false;  // guarded by mutex_
  std::optional<nlohmann::json> report_;  // guarded by mutex_
  void send_report();
  int beacon_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::shared_ptr<common::RestClient> stream_client_;
  std::thread link_thread_, watch_thread_;
};

}  // namespace meshgw::agent
