// SPDX-License-Identifier: BSD-3-Clause
// MeshAgent's probe turn: TWAMP-light to the neighbours and through our own
// tunnels, and what their losses move.
#include <algorithm>

#include "dataplane/runtime.hpp"
#include "log.hpp"
#include "mesh_agent.hpp"

namespace meshgw::agent {

// Probes due go out, replies come in, lost probes expire. A peer that went
// down moves the active tunnels off it at once (before any recomputation),
// and the mesh hears of it from a beacon sent now.
void MeshAgent::probe_turn(std::uint64_t now_ns) {
  for (const ProbeToSend& p : prober_->due(now_ns, dp_.ntp_now())) {  // not sent: it will count as lost
    if (p.nat_port != 0) {
      dp_.send_nat_probe(p.dst_ipv4, p.nat_port, p.src_port, p.seq, p.t1_ntp);
    } else {
      dp_.send_probe(p.dst_ipv4, p.src_port, p.seq, p.t1_ntp);
    }
  }
  std::vector<ProbeReply> in_tunnels;
  for (const dataplane::WorkerEvent& ev : dp_.take_probe_replies()) {
    const ProbeReply r{ev.ipv4, ev.probe_port, ev.probe_seq, ev.t1, ev.t2, ev.t3, ev.t4};
    if (ev.tunnel_spi != 0) {
      in_tunnels.push_back(r);
    } else {
      prober_->on_reply(r, now_ns);
    }
  }
  tunnel_probe_turn(now_ns, in_tunnels);
  const auto down = prober_->expire(now_ns);
  std::set<std::string> up;
  for (const auto& [peer, s] : prober_->stats())
    if (s.up) up.insert(peer);
  if (up == peers_up_) {
    confirm_downs(now_ns, false);
    return;
  }
  for (const auto& peer : down) {
    log_warning("peer " + peer + ": probes lost, down; traffic moves to the backup tunnels");
    up_links_.erase({self_, peer});
    unconfirmed_down_.emplace(peer, now_ns);
  }
  bool came_up = false, tell_mesh = false;
  for (const auto& peer : up) {
    if (peers_up_.contains(peer)) continue;
    if (unconfirmed_down_.erase(peer) != 0) {
      log_info("peer " + peer + ": probes answered again before the failover was confirmed: paths unchanged");
    } else {
      log_info("peer " + peer + ": probes answered, up");
      tell_mesh = true;
    }
    // Usable again at once (a late reply after a stall); the paths are
    // recomputed when the debounce says so, not in this turn.
    const auto from = topology_.find(self_), to = topology_.find(peer);
    if (from && to && std::any_of(topology_.links().begin(), topology_.links().end(),
                                  [&](const routing::Link& l) { return l.src == *from && l.dst == *to; }))
      up_links_.insert({self_, peer});
    came_up = true;
  }
  peers_up_ = std::move(up);
  // Failover onto the tunnels already set up (or back onto the primaries).
  if (!down.empty() || came_up) apply_plan();
  if (came_up) debounce_.trigger(now_ns);
  // An egress left without a usable tunnel gains nothing from waiting for
  // the confirmation: its traffic is lost until new tunnels are planned.
  if (!down.empty() && !every_active_usable()) {
    log_info("no backup tunnel avoids the failed link for some egress: paths recomputed now");
    for (auto& [peer, since] : unconfirmed_down_) since = 0;
  }
  confirm_downs(now_ns, tell_mesh);
}

bool MeshAgent::every_active_usable() const {
  if (!tunnels_ || !applied_) return true;
  for (const auto& a : applied_->active)
    for (const auto& t : tunnels_->tunnels())
      if (t.id == a.tunnel && !usable(t.path)) return false;
  return true;
}

// A peer still down failover_confirm_ms after its probes stopped: the mesh
// hears of it (a beacon now) and the paths are recomputed around it. Until
// then only the active tunnels moved, so a stall costs no new tunnels here
// or elsewhere.
void MeshAgent::confirm_downs(std::uint64_t now_ns, bool tell_mesh) {
  const std::uint64_t confirm_ns = std::uint64_t{settings_.failover_confirm_ms} * 1'000'000;
  bool confirmed = false;
  for (auto it = unconfirmed_down_.begin(); it != unconfirmed_down_.end();) {
    if (now_ns - it->second < confirm_ns) {
      ++it;
      continue;
    }
    log_info("peer " + it->first + ": still down after " + std::to_string(settings_.failover_confirm_ms) +
             " ms: paths recomputed around it");
    it = unconfirmed_down_.erase(it);
    confirmed = true;
  }
  if (!confirmed && !tell_mesh) return;
  beacon_inputs(now_ns);
  link_->beacon_soon();
  if (confirmed) {
    replan(now_ns, true);
    apply_plan();
  }
}

// End to end through each of our tunnels. A dead one is used only when
// nothing else is left; if its links are up, its keys or relays are what
// failed (the egress restarted, say), so it is set up again.
void MeshAgent::tunnel_probe_turn(std::uint64_t now_ns, const std::vector<ProbeReply>& replies) {
  if (!tunnel_probes_ || !tunnels_) return;
  // This runs every millisecond: the list is mirrored only when it moved
  // (or an address did, with a new mesh state).
  if (tunnels_->list_changes() != probed_list_changes_ || view_generation_ != probed_view_generation_) {
    probed_list_changes_ = tunnels_->list_changes();
    probed_view_generation_ = view_generation_;
    tunnel_probes_->set_tunnels(tunnels_->tunnels(), [this](const std::string& g) {
      std::lock_guard lock(address_mutex_);
      const auto it = addresses_.find(g);
      return it == addresses_.end() ? 0u : it->second;
    });
  }
  for (const TunnelProbeToSend& p : tunnel_probes_->due(now_ns, dp_.ntp_now()))
    dp_.send_tunnel_probe(p.out_spi, p.probe.dst_ipv4, p.probe.src_port, p.probe.seq, p.probe.t1_ntp);
  for (const ProbeReply& r : replies) tunnel_probes_->on_reply(r, now_ns);
  if (!replies.empty())
    for (const auto& [id, s] : tunnel_probes_->stats())
      if (s.received != 0) tunnels_->answered(id);  // a new multi-hop tunnel may take over (settle)
  bool moved = false;
  for (const auto& c : tunnel_probes_->expire(now_ns)) {
    if (!tunnels_->set_dead(c.tunnel, c.dead)) continue;
    moved = true;
    if (c.dead) {
      log_warning("tunnel " + c.tunnel + ": end-to-end probes lost, traffic moves off it");
    } else {
      log_info("tunnel " + c.tunnel + ": end-to-end probes answered again");
    }
  }
  for (const auto& t : tunnels_->tunnels())
    if (t.own && t.dead && t.retiring_since_ns == 0 && !t.rekey_now && usable(t.path) &&
        tunnel_probes_->take_rekey(t.path, now_ns))
      tunnels_->rekey_dead(t.id, "end-to-end probes lost while its links are up");
  if (moved) apply_plan();
}

}  // namespace meshgw::agent
