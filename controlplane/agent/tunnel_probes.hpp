// SPDX-License-Identifier: BSD-3-Clause
// End-to-end probes of our own tunnels: TWAMP-light test packets sealed on
// each tunnel's outbound SA, reflected by the egress's fast path on the
// tunnel's inbound half (dataplane: Dataplane::send_tunnel_probe). A reply
// shows what a neighbour probe cannot: that the keys at both ends agree and
// every transit on the path relays the SPIs. A tunnel whose probes stop
// while its links are up has lost something along the way (its egress
// restarted and forgot the keys, a relay entry went missing): it is marked
// dead, so traffic prefers another tunnel, and is set up again, at most
// once per backoff (5 s doubling to 60 s) per path.
//
// No I/O and no DPDK: a Prober keyed by tunnel id, and the rekey backoff.
// One thread (the agent's control thread); clocks are passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "prober.hpp"
#include "tunnel_manager.hpp"

namespace meshgw::agent {

struct TunnelProbeConfig {
  std::uint64_t interval_ns = 500'000'000;
  std::uint64_t timeout_ns = 1'000'000'000;
  unsigned down_after_lost = 3;
  std::uint64_t silent_hold_ns = 1'000'000'000;  // ProberConfig::silent_hold_ns: every tunnel silent at once
  std::uint64_t late_ns = 2'000'000'000;         // ProberConfig::late_ns
  std::uint16_t first_port = 40512;  // after the neighbour prober's ports
  std::uint64_t rekey_backoff_min_ns = 5'000'000'000ull, rekey_backoff_max_ns = 60'000'000'000ull;
};

struct TunnelProbeToSend {
  std::uint32_t out_spi = 0;
  ProbeToSend probe;  // probe.peer is the tunnel id
};

class TunnelProbes {
 public:
  explicit TunnelProbes(TunnelProbeConfig config);

  // Our tunnels now (peers' tunnels to us are theirs to probe). address:
  // the egress's underlay IPv4 for the inner destination (0 if unknown;
  // the egress answers whatever it is).
  void set_tunnels(const std::vector<ReadyTunnel>& tunnels,
                   const std::function<std::uint32_t(const std::string& gateway)>& address);
  std::vector<TunnelProbeToSend> due(std::uint64_t now_ns, std::uint64_t ntp_now);
  bool on_reply(const ProbeReply& reply, std::uint64_t now_ns);

  struct Change {
    std::string tunnel;
    bool dead = false;  // false: answering again
  };
  // Lost probes expire; the tunnels that died or came back.
  std::vector<Change> expire(std::uint64_t now_ns);
  bool dead(const std::string& tunnel) const { return dead_.contains(tunnel); }

  // Whether the dead tunnel on this path is set up again now (its links
  // being up is the caller's check): false within the path's backoff.
  bool take_rekey(const std::vector<std::string>& path, std::uint64_t now_ns);

  const std::map<std::string, PeerProbeStats>& stats() const noexcept { return prober_.stats(); }

 private:
  TunnelProbeConfig config_;
  Prober prober_;
  std::map<std::string, std::uint32_t> out_spi_;  // tunnel id -> outbound SPI
  std::set<std::string> dead_;
  struct Backoff {
    std::uint64_t next_ns = 0, step_ns = 0;
  };
  std::map<std::vector<std::string>, Backoff> backoff_;
  std::map<std::string, std::vector<std::string>> path_of_;
};

}  // namespace meshgw::agent
