// SPDX-License-Identifier: BSD-3-Clause
// MeshAgent's telemetry: what beacons carry (addresses, load, neighbours),
// the tunnels' send rates and path choices reported to the controller, and
// NAT keepalives.
#include <cmath>

#include "crypto/bytes.hpp"
#include "dataplane/runtime.hpp"
#include "mesh_agent.hpp"
#include "plan_builder.hpp"

namespace meshgw::agent {

using nlohmann::json;

// Passive telemetry: each own tunnel's send rate since the last report
// (the controller adds them up into link loads for everyone's forecasts),
// and the path choices made since.
void MeshAgent::report(std::uint64_t now_ns, const dataplane::DataplaneStats& st) {
  if (!tunnels_ || now_ns - last_report_ns_ < std::uint64_t{settings_.beacon_interval_ms} * 1'000'000) return;
  const double seconds = last_report_ns_ == 0 ? 0 : static_cast<double>(now_ns - last_report_ns_) / 1e9;
  last_report_ns_ = now_ns;
  std::map<std::string, std::uint64_t> bytes_by_id;
  for (const auto& t : st.tunnels) bytes_by_id[t.id] = t.tx_bytes;
  json rates = json::array();
  std::map<std::uint32_t, std::uint64_t> now_bytes;
  own_mbps_.clear();
  for (const auto& t : tunnels_->tunnels()) {
    if (!t.own) continue;
    const auto b = bytes_by_id.find(t.id);
    if (b == bytes_by_id.end()) continue;
    now_bytes[t.out_spi] = b->second;
    const auto before = last_report_bytes_.find(t.out_spi);
    if (seconds <= 0 || before == last_report_bytes_.end() || b->second < before->second) continue;
    const double bps = 8.0 * static_cast<double>(b->second - before->second) / seconds;
    rates.push_back({{"spi", t.out_spi}, {"tx_bps", bps}});
    own_mbps_[t.egress] += bps / 1e6;
  }
  last_report_bytes_ = std::move(now_bytes);
  // What we will send to each egress, for pricing a move (PathPlanner::
  // set_own_rates): with forecasts on, a flow that is growing is priced at
  // its trend ahead, as the links are; else at its rate now. Otherwise a
  // surging flow moves to a link that looks roomy for its size today, fills
  // it as it grows, and moves back.
  if (seconds > 0) {
    const bool predict = demand_ && view_ && view_->policy().value("predict", true);
    const double horizon_s = demand_ ? demand_->config().horizon_seconds() : 0.0;
    const auto ahead = static_cast<int>(std::ceil(horizon_s / seconds));
    for (auto& [egress, mbps] : own_mbps_) {
      auto it = own_trend_.find(egress);
      if (it == own_trend_.end())
        it = own_trend_.emplace(egress, routing::predict::LocalTrend(
                                            {.window = std::max<std::size_t>(4, static_cast<std::size_t>(ahead))}))
                 .first;
      it->second.update(mbps);
      if (predict && ahead >= 1)
        if (const auto f = it->second.forecast(ahead); f && *f > mbps) mbps = *f;
    }
    for (auto it = own_trend_.begin(); it != own_trend_.end();)
      it = own_mbps_.contains(it->first) ? std::next(it) : own_trend_.erase(it);
  }
  json body = {{"tunnels", rates}};
  if (!path_changes_.empty()) body["paths"] = std::move(path_changes_);
  path_changes_.clear();
  link_->set_report(std::move(body));
}

// Behind a NAT: a keepalive to every other gateway's (mapped) address
// keeps our mapping open towards it, so it can send to us; two gateways
// behind NATs that both do this open the direct way between them at once.
void MeshAgent::nat_keepalives(std::uint64_t now_ns) {
  if (!settings_.behind_nat || !view_ || now_ns < next_keepalive_ns_) return;
  next_keepalive_ns_ = now_ns + std::uint64_t{settings_.nat_keepalive_ms} * 1'000'000;
  for (const auto& [id, g] : view_->gateways().items()) {
    if (id == self_ || g.value("status", "") == "revoked") continue;
    if (const auto u = underlay_of(*view_, id)) dp_.send_nat_keepalive(u->ip, u->port);
  }
}

void MeshAgent::beacon_inputs(std::uint64_t now_ns) {
  BeaconInputs in;
  if (local_.ip != 0 && !settings_.behind_nat) {  // behind a NAT: the controller sees our address
    api::BeaconAddress a;
    crypto::store_be32(a.ip.data(), local_.ip);
    a.port = crypto::kEspUdpPort;
    in.addresses.push_back(a);
  }
  const dataplane::DataplaneStats st = dp_.stats();
  const std::uint64_t busy = st.bursts - last_bursts_, idle = st.empty_polls - last_empty_;
  last_bursts_ = st.bursts;
  last_empty_ = st.empty_polls;
  in.load_permille = busy + idle == 0 ? 0 : static_cast<std::uint16_t>(1000 * busy / (busy + idle));
  in.neighbours = prober_->neighbours();
  // A peer down but not confirmed yet is reported as its window measured
  // it: the mesh replans only for a confirmed failure (confirm_downs).
  for (api::BeaconNeighbour& n : in.neighbours)
    if (unconfirmed_down_.contains(n.id))
      n.loss_ppm = static_cast<std::uint32_t>(std::lround(prober_->stats().at(n.id).loss * 1e6));
  link_->set_beacon_inputs(std::move(in));
  // Bytes each tunnel sent since this agent first saw it: the data plane's
  // counter slots are reused, and a new tunnel in an old slot starts from
  // that slot's count.
  std::map<std::string, std::uint64_t> base;
  tx_bytes_.clear();
  for (const auto& t : st.tunnels) {
    const auto known = tx_base_.find(t.id);
    const std::uint64_t b = known == tx_base_.end() || known->second > t.tx_bytes ? t.tx_bytes : known->second;
    base[t.id] = b;
    tx_bytes_[t.id] = t.tx_bytes - b;
  }
  tx_base_ = std::move(base);
  report(now_ns, st);
}

}  // namespace meshgw::agent
