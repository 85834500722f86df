// SPDX-License-Identifier: BSD-3-Clause
// The gateway's own tunnels and its peers' tunnels to it, from the paths the
// planner wants to their keys in the SA store:
//
//  - own: for every wanted path (primary and backups per egress and class),
//    SPIs from the controller (POST /v1/gw/tunnels, which also gives every
//    transit its relay entries), then the key exchange with the egress
//    (tunnel_keys: mTLS 1.3, TLS exporter). Backups are set up before they
//    are needed, so a failover is a snapshot swap, not a handshake.
//  - accepted: a peer's tunnel to this gateway, agreed by the key server;
//    its reverse SA carries our traffic back when we have none of our own.
//  - rekey: after rekey_after_ns or rekey_after_bytes a tunnel gets a
//    successor on the same path (new SPIs, epoch + 1); traffic moves to it
//    once it is ready and the old SAs stay drain_ns for packets in flight
//    (make before break). A path no longer wanted lingers linger_ns (a path
//    that flaps back needs no new exchange), then its SPIs are released.
//  - a revoked gateway's tunnels (to it or through it) go at once.
//
// The network work (controller calls, handshakes) runs in job threads of
// the manager's own; every other call is the control thread's, and check()
// is the key server's. Operations are injected (TunnelOps) so the logic is
// tested without a network, a controller or the EAL.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "routing/forwarding_plan.hpp"
#include "tunnel_keys.hpp"

namespace meshgw::agent {

struct TunnelOps {
  // The controller allocates one SPI per direction for path: {forward, reverse}.
  std::function<std::pair<std::uint32_t, std::uint32_t>(const std::vector<std::string>& path)> allocate;
  // The key exchange with request.path.back().
  std::function<TunnelKeys(const TunnelRequest& request)> exchange;
  // The controller forgets an SPI (and the relays along its path).
  std::function<void(std::uint32_t spi)> release;
  // The data plane's SA store (control thread).
  std::function<void(std::uint32_t spi, const crypto::SaKeyMaterial& keys)> install_key;
  std::function<void(std::uint32_t spi)> forget_key;
  // A fresh key for an SPI whose SAs exist (both ends agreed it anew).
  std::function<void(std::uint32_t spi, const crypto::SaKeyMaterial& keys)> replace_key;
  // The underlay endpoint of a gateway now (the tunnel's next hop is fixed
  // when it is installed: an SA's outer endpoints never change).
  std::function<std::optional<routing::UnderlayEndpoint>(const std::string& gateway)> resolve;
  // A line for the log (no secrets are ever passed).
  std::function<void(const std::string& line)> log;
};

struct TunnelManagerConfig {
  std::string self;
  std::uint64_t rekey_after_ns = 3600'000'000'000ull;
  std::uint64_t rekey_after_bytes = 0;  // 0: by time only
  std::uint64_t retry_min_ns = 250'000'000ull, retry_max_ns = 30'000'000'000ull;
  std::uint64_t linger_ns = 10'000'000'000ull;
  std::uint64_t drain_ns = 2'000'000'000ull;
  // A new multi-hop tunnel to an egress that already has one carries
  // traffic only after this long: time for the transits on its path to
  // install the relay entries the controller just gave them (make before
  // break).
  std::uint64_t settle_ns = 300'000'000ull;
  // With end-to-end probes: such a tunnel settles once a probe through it
  // was answered (the relays are there for sure), or after settle_max_ns.
  bool settle_needs_probe = false;
  std::uint64_t settle_max_ns = 3'000'000'000ull;
  // An SPI of ours that no tunnel holds is released after this long (at
  // once on the first view: an earlier run's).
  std::uint64_t stale_release_ns = 30'000'000'000ull;
  // One of our tunnels whose SPIs the mesh state has not listed for this
  // long after it was set up is taken as deleted at the controller.
  std::uint64_t forgotten_after_ns = 5'000'000'000ull;
  unsigned check_wait_ms = 2000;  // how long check() waits for the mesh state to name a new tunnel
  unsigned threads = 2;
};

// A tunnel whose keys are in the SA store. Paths start at this gateway.
struct ReadyTunnel {
  std::string id;  // "t<out SPI in hex>"
  std::string egress;
  std::vector<std::string> path;
  std::uint32_t out_spi = 0, in_spi = 0, epoch = 0;
  std::uint32_t key_generation = 0;  // keys replaced on the same SPIs (PlanTunnel::key_generation)
  bool own = true;                  // false: a peer's tunnel to us (reverse direction)
  std::uint64_t ready_at_ns = 0;
  std::uint64_t retiring_since_ns = 0;  // replaced by a rekey (0: not)
  std::uint64_t unwanted_since_ns = 0;  // no longer a planned path (0: wanted)
  bool settled = false;                 // settle_ns passed (or it was the egress's first)
  bool rekey_now = false;               // its next hop moved: a successor is due at once
  bool dead = false;                    // its end-to-end probes stopped (tunnel_probes): used last
  bool answered = false;                // an end-to-end probe through it was answered
  bool rekey_for_dead = false;          // rekey_now because it was dead (called off if it answers again)
  routing::UnderlayEndpoint next_hop{0, 0};  // path[1]'s endpoint when installed (0: unknown)
};

// The paths to egress in class, best first (primary, then backups).
struct TunnelWant {
  std::string egress;
  std::string traffic_class = "default";
  std::vector<std::vector<std::string>> paths;
  // false: the egress sets up the tunnels (it is behind a NAT); the paths
  // only rank its tunnels to us for our traffic back.
  bool set_up = true;
};

class TunnelManager {
 public:
  TunnelManager(TunnelManagerConfig config, TunnelOps ops);
  ~TunnelManager();  // waits for running jobs (each bounded by its timeouts)
  TunnelManager(const TunnelManager&) = delete;
  TunnelManager& operator=(const TunnelManager&) = delete;

  // The planner's current wishes (replaces the previous ones).
  void want(std::vector<TunnelWant> wants, std::uint64_t now_ns);
  // The mesh state's gateways and SPIs: peers' tunnels the ingress released
  // go, revoked gateways' tunnels go, and check() sees new SPIs. The first
  // call releases the SPIs a previous run of this gateway left at the
  // controller (their keys died with it); so does every later call, for
  // any SPI of ours no tunnel holds. Returns whether tunnels() changed.
  bool set_view(const nlohmann::json& gateways, const nlohmann::json& spis, std::uint64_t now_ns);
  // A peer's tunnel agreed by the key server (keys installed here).
  void accepted(const TunnelKeys& keys, std::uint64_t now_ns);
  // Our tunnels whose next hop is no longer where it was, or all of them
  // (our own NAT mapping moved: peers must send our return traffic to the
  // new one): rekeyed at once, the old ones drain.
  void rekey_moved(bool all);
  // What the end-to-end probes say of our tunnel id: dead ones are picked
  // only when nothing else is left. Returns whether that changed anything.
  bool set_dead(const std::string& id, bool dead);
  // An end-to-end probe through our tunnel id was answered.
  void answered(const std::string& id);
  // A successor for our tunnel id is due at once (why: for the log), as
  // long as it stays dead.
  void rekey_dead(const std::string& id, const std::string& why);
  // Finished jobs, new jobs, rekeys, retirement. tx_bytes: bytes sent per
  // tunnel id so far (for rekey by volume). Returns whether tunnels() changed.
  bool poll(std::uint64_t now_ns, const std::map<std::string, std::uint64_t>& tx_bytes = {});

  const std::vector<ReadyTunnel>& tunnels() const noexcept { return tunnels_; }
  // Counts tunnels added and removed: callers that mirror the list (the
  // end-to-end probes) rebuild only when it moved.
  std::uint64_t list_changes() const noexcept { return list_changes_; }
  // Per want: the tunnel to use, as an active path. usable(path) says
  // whether every link of a path is up now. Order: the wanted paths in
  // order, then our other tunnels to the egress, then peers' tunnels to us
  // (newest first); the first settled and usable one, else a rekeyed
  // predecessor still draining, else the first usable, else the first
  // ready one (the knowledge may be stale); no entry when there is none.
  // A dead tunnel counts as unusable.
  std::vector<routing::PlanActivePath> active(
      const std::function<bool(const std::vector<std::string>&)>& usable) const;

  // The key server's approval of a peer's request (any thread): "" if the
  // mesh state names both SPIs with this path, else why not.
  std::string check(const TunnelRequest& request, const std::string& peer) const;

  // Jobs queued or running (controller calls and handshakes).
  std::size_t pending_jobs() const;
  std::uint64_t setups() const noexcept { return setups_; }
  std::uint64_t setup_failures() const noexcept { return failures_; }
  std::uint64_t rekeys() const noexcept { return rekeys_; }

 private:
  struct Job {
    enum class Kind { setup, release } kind = Kind::setup;
    std::vector<std::string> path;
    std::uint32_t epoch = 0;
    std::vector<std::uint32_t> spis;  // release
    // setup: SPIs to agree new keys on when the controller cannot give new
    // ones ({forward, reverse}; 0: none), or at once (reuse_only: an earlier
    // run's tunnel, taken up again while the controller may be away).
    std::pair<std::uint32_t, std::uint32_t> reuse{0, 0};
    bool reuse_only = false;
  };
  struct Result {
    std::vector<std::string> path;
    std::uint32_t epoch = 0;
    std::unique_ptr<TunnelKeys> keys;  // null on failure
    std::string error;
  };
  struct PathState {
    bool pending = false;
    std::uint32_t next_epoch = 0;
    std::uint64_t retry_at_ns = 0, backoff_ns = 0;
  };
  void run_jobs();
  void submit(Job job);
  std::vector<Job> resumable(const nlohmann::json& spis) const;
  bool install(const TunnelKeys& keys, bool own, std::uint64_t now_ns);  // false: keys refused
  void remove(std::size_t index, bool release);
  void log(const std::string& line) const {
    if (ops_.log) ops_.log(line);
  }
  static std::string key(const std::vector<std::string>& path);
  const ReadyTunnel* pick(const std::vector<const ReadyTunnel*>& order,
                          const std::function<bool(const std::vector<std::string>&)>& usable) const;

  TunnelManagerConfig config_;
  TunnelOps ops_;
  std::vector<TunnelWant> wants_;
  std::vector<ReadyTunnel> tunnels_;
  std::uint64_t list_changes_ = 0;
  std::map<std::string, PathState> paths_;  // by key(path)
  std::set<std::string> revoked_;
  bool have_view_ = false;
  std::map<std::uint32_t, std::uint64_t> stale_since_;  // SPI -> first seen unheld
  std::uint64_t setups_ = 0, failures_ = 0, rekeys_ = 0;

  // Shared with the job threads and the key server.
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<Result> results_;
  std::size_t running_ = 0;
  std::set<std::string> in_flight_paths_;   // setups whose result is not taken yet
  std::set<std::uint32_t> releasing_;       // SPIs submitted for release, until the view forgets them
  std::vector<std::uint32_t> retry_release_;  // releases that failed
  std::uint64_t next_release_retry_ns_ = 0;
  bool stop_ = false;
  nlohmann::json view_spis_ = nlohmann::json::object();
  nlohmann::json view_gateways_ = nlohmann::json::object();
  std::vector<std::thread> threads_;
};

}  // namespace meshgw::agent
