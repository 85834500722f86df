// SPDX-License-Identifier: BSD-3-Clause
#include "prober.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace meshgw::agent {

Prober::Prober(ProberConfig config) : config_(config) {
  if (config_.interval_ns == 0 || config_.timeout_ns == 0 || config_.window == 0 || config_.down_after_lost == 0 ||
      !(config_.ewma_alpha > 0 && config_.ewma_alpha <= 1))
    throw std::invalid_argument("prober: interval, timeout, window and down_after_lost must be > 0, alpha in (0, 1]");
}

double Prober::ntp_us(std::uint64_t later, std::uint64_t earlier) noexcept {
  const auto d = static_cast<std::int64_t>(later - earlier);  // wraps like the wire does
  return static_cast<double>(d) * 1e6 / 4294967296.0;
}

void Prober::set_targets(const std::vector<ProbeTarget>& targets) {
  // Departed peers first, so a newcomer may take a freed port.
  std::set<std::string> keep;
  for (const ProbeTarget& t : targets) keep.insert(t.peer);
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (keep.contains(it->first)) {
      ++it;
      continue;
    }
    by_port_.erase(it->second.port);
    stats_.erase(it->first);
    it = peers_.erase(it);
  }
  for (const ProbeTarget& t : targets) {
    auto [it, added] = peers_.try_emplace(t.peer);
    it->second.target = t;
    if (added) {
      // The lowest free port of the range: stable while the peer stays.
      std::uint16_t port = config_.first_port;
      while (by_port_.contains(port)) ++port;
      it->second.port = port;
      by_port_[port] = t.peer;
      stats_[t.peer];
    }
  }
}

std::vector<ProbeToSend> Prober::due(std::uint64_t now_ns, std::uint64_t ntp_now) {
  std::vector<ProbeToSend> out;
  for (auto& [id, p] : peers_) {
    if (now_ns < p.next_due_ns) continue;
    p.next_due_ns = now_ns + (stats_[id].up ? config_.interval_ns : std::max(config_.interval_ns, config_.not_up_interval_ns));
    const std::uint32_t seq = p.next_seq++;
    p.in_flight.push_back({seq, ntp_now, now_ns});
    ++stats_[id].sent;
    out.push_back({id, p.target.ipv4, p.port, seq, ntp_now, p.target.nat_port});
  }
  return out;
}

void Prober::record(Peer& p, PeerProbeStats& s, bool answered) {
  p.window.push_back(answered);
  ++p.records;
  while (p.window.size() > config_.window) p.window.pop_front();
  const auto lost = static_cast<double>(std::count(p.window.begin(), p.window.end(), false));
  s.loss = lost / static_cast<double>(p.window.size());
}

bool Prober::on_reply(const ProbeReply& r, std::uint64_t now_ns) {
  const auto port = by_port_.find(r.dst_port);
  if (port == by_port_.end()) return false;
  Peer& p = peers_.at(port->second);
  if (r.src_ipv4 != p.target.ipv4) return false;  // not from the peer this port probes
  const auto it = std::find_if(p.in_flight.begin(), p.in_flight.end(),
                               [&](const InFlight& f) { return f.seq == r.seq && f.t1_ntp == r.t1_ntp; });
  PeerProbeStats& s = stats_.at(port->second);
  if (it == p.in_flight.end()) return on_late_reply(p, s, r, now_ns);
  const std::uint64_t sent_ns = it->sent_ns;
  p.in_flight.erase(it);
  last_any_reply_ns_ = now_ns;
  // Up again (or for the first time): back to the full rate at once.
  if (!s.up) p.next_due_ns = std::min(p.next_due_ns, sent_ns + config_.interval_ns);
  const double rtt = std::max(0.0, ntp_us(r.t4_ntp, r.t1_ntp) - std::max(0.0, ntp_us(r.t3_ntp, r.t2_ntp)));
  const double a = config_.ewma_alpha;
  if (!s.measured) {
    s.rtt_us = rtt;
    s.jitter_us = 0;
  } else {
    s.rtt_us = (1 - a) * s.rtt_us + a * rtt;
    s.jitter_us = (1 - a) * s.jitter_us + a * std::fabs(rtt - p.last_rtt_us);
  }
  p.last_rtt_us = rtt;
  s.measured = true;
  s.up = true;
  s.consecutive_lost = 0;
  p.run_held = false;
  ++s.received;
  record(p, s, true);
  return true;
}

// A reply to a probe already counted lost: the peer is alive (its replies
// were delayed, by a stall on either side), so it is up again at once and
// the window counts that probe as answered. Its RTT measures the stall, not
// the link, and is left out.
bool Prober::on_late_reply(Peer& p, PeerProbeStats& s, const ProbeReply& r, std::uint64_t now_ns) {
  const auto it = std::find_if(p.expired.begin(), p.expired.end(),
                               [&](const Expired& e) { return e.seq == r.seq && e.t1_ntp == r.t1_ntp; });
  if (it == p.expired.end()) return false;  // duplicate, too late or forged
  const std::uint64_t first_kept = p.records - p.window.size();
  if (it->record >= first_kept && !p.window[it->record - first_kept]) {
    p.window[it->record - first_kept] = true;
    const auto lost = static_cast<double>(std::count(p.window.begin(), p.window.end(), false));
    s.loss = lost / static_cast<double>(p.window.size());
  }
  p.expired.erase(it);
  last_any_reply_ns_ = now_ns;
  ++s.late;
  if (!s.up) p.next_due_ns = std::min(p.next_due_ns, now_ns);  // back to the full rate at once
  s.up = s.measured;
  s.consecutive_lost = 0;
  p.run_held = false;
  return true;
}

std::vector<std::string> Prober::expire(std::uint64_t now_ns) {
  std::vector<std::string> went_down;
  for (auto& [id, p] : peers_) {
    PeerProbeStats& s = stats_.at(id);
    while (!p.in_flight.empty() && now_ns - p.in_flight.front().sent_ns >= config_.timeout_ns) {
      const InFlight f = p.in_flight.front();
      p.in_flight.pop_front();
      if (s.consecutive_lost == 0) p.run_start_ns = f.sent_ns;
      ++s.lost;
      ++s.consecutive_lost;
      record(p, s, false);
      p.expired.push_back({f.seq, f.t1_ntp, now_ns, p.records - 1});
    }
    while (!p.expired.empty() && now_ns - p.expired.front().expired_ns > config_.late_ns) p.expired.pop_front();
    if (!s.up || s.consecutive_lost < config_.down_after_lost) continue;
    // Down only if our side was hearing others meanwhile, or after a long
    // silence: when nobody answers, the likelier cause is our own stall.
    const bool others_heard = last_any_reply_ns_ > p.run_start_ns;
    if (!others_heard && now_ns - p.run_start_ns < config_.silent_hold_ns) {
      if (!p.run_held) ++s.held;
      p.run_held = true;
      continue;
    }
    s.up = false;
    p.run_held = false;
    went_down.push_back(id);
  }
  return went_down;
}

std::vector<api::BeaconNeighbour> Prober::neighbours() const {
  std::vector<api::BeaconNeighbour> out;
  for (const auto& [id, s] : stats_) {
    if (!s.measured) continue;
    const auto loss_ppm = static_cast<std::uint32_t>(std::lround((s.up ? s.loss : 1.0) * 1e6));
    out.push_back({id, static_cast<std::uint32_t>(std::lround(s.rtt_us)), static_cast<std::uint32_t>(std::lround(s.jitter_us)),
                   loss_ppm});
  }
  return out;
}

}  // namespace meshgw::agent
