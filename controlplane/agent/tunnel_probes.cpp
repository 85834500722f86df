// SPDX-License-Identifier: BSD-3-Clause
#include "tunnel_probes.hpp"

#include <algorithm>

namespace meshgw::agent {

namespace {
ProberConfig prober_config(const TunnelProbeConfig& c) {
  ProberConfig pc;
  pc.interval_ns = c.interval_ns;
  pc.not_up_interval_ns = 0;  // a new tunnel settles on its first answer: no slow start
  pc.timeout_ns = c.timeout_ns;
  pc.down_after_lost = c.down_after_lost;
  pc.first_port = c.first_port;
  pc.window = 20;
  pc.silent_hold_ns = c.silent_hold_ns;
  pc.late_ns = c.late_ns;
  return pc;
}
}  // namespace

TunnelProbes::TunnelProbes(TunnelProbeConfig config) : config_(config), prober_(prober_config(config)) {}

void TunnelProbes::set_tunnels(const std::vector<ReadyTunnel>& tunnels,
                               const std::function<std::uint32_t(const std::string&)>& address) {
  std::vector<ProbeTarget> targets;
  out_spi_.clear();
  path_of_.clear();
  for (const ReadyTunnel& t : tunnels) {
    if (!t.own) continue;
    targets.push_back({t.id, address ? address(t.egress) : 0});
    out_spi_[t.id] = t.out_spi;
    path_of_[t.id] = t.path;
  }
  prober_.set_targets(targets);
  for (auto it = dead_.begin(); it != dead_.end();) it = out_spi_.contains(*it) ? std::next(it) : dead_.erase(it);
}

std::vector<TunnelProbeToSend> TunnelProbes::due(std::uint64_t now_ns, std::uint64_t ntp_now) {
  std::vector<TunnelProbeToSend> out;
  for (ProbeToSend& p : prober_.due(now_ns, ntp_now)) out.push_back({out_spi_.at(p.peer), std::move(p)});
  return out;
}

bool TunnelProbes::on_reply(const ProbeReply& reply, std::uint64_t now_ns) { return prober_.on_reply(reply, now_ns); }

std::vector<TunnelProbes::Change> TunnelProbes::expire(std::uint64_t now_ns) {
  prober_.expire(now_ns);
  std::vector<Change> changes;
  for (const auto& [id, s] : prober_.stats()) {
    // Dead: a run of losses, whether it ever answered or not (a tunnel that
    // never worked is as dead as one that stopped), unless the prober holds
    // it up (every tunnel silent at once: our own stall).
    const bool is_dead = !s.up && s.consecutive_lost >= config_.down_after_lost;
    if (is_dead && !dead_.contains(id)) {
      dead_.insert(id);
      changes.push_back({id, true});
    } else if (!is_dead && s.up && dead_.contains(id)) {
      dead_.erase(id);
      changes.push_back({id, false});
      backoff_.erase(path_of_[id]);  // it works again: the next failure rekeys at once
    }
  }
  return changes;
}

bool TunnelProbes::take_rekey(const std::vector<std::string>& path, std::uint64_t now_ns) {
  Backoff& b = backoff_[path];
  if (now_ns < b.next_ns) return false;
  b.step_ns = std::clamp(b.step_ns * 2, config_.rekey_backoff_min_ns, config_.rekey_backoff_max_ns);
  b.next_ns = now_ns + b.step_ns;
  return true;
}

}  // namespace meshgw::agent
