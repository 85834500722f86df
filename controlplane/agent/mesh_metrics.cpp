// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_metrics.hpp"

#include <prometheus/text_serializer.h>

#include "controlplane/common/metric_family.hpp"

namespace meshgw::agent {

using common::add_sample;
using common::metric_family;
using prometheus::MetricType;

namespace {

std::string joined(const std::vector<std::string>& path) {
  std::string s;
  for (const auto& g : path) s += (s.empty() ? "" : ">") + g;
  return s;
}

}  // namespace

std::string mesh_metrics_text(const Prober& prober, const TunnelManager* tunnels, const PathPlanner* planner,
                              const std::map<std::pair<std::string, std::string>, std::string>& active,
                              const TunnelProbes* tunnel_probes) {
  std::vector<prometheus::MetricFamily> out;
  auto rtt = metric_family("meshgw_peer_rtt_seconds", "round-trip time to the peer (TWAMP-light, EWMA)", MetricType::Gauge);
  auto jitter = metric_family("meshgw_peer_jitter_seconds", "RTT jitter to the peer (EWMA of |delta RTT|)", MetricType::Gauge);
  auto loss = metric_family("meshgw_peer_loss_ratio", "probes lost over the window", MetricType::Gauge);
  auto up = metric_family("meshgw_peer_up", "1 while the peer answers its probes", MetricType::Gauge);
  auto sent = metric_family("meshgw_peer_probes_sent_total", "TWAMP-light probes sent to the peer", MetricType::Counter);
  auto lost = metric_family("meshgw_peer_probes_lost_total", "probes to the peer not answered within the timeout", MetricType::Counter);
  auto late = metric_family("meshgw_peer_probes_late_total",
                            "replies that came after their probe's timeout (the peer was alive: up again at once)",
                            MetricType::Counter);
  auto held = metric_family("meshgw_peer_loss_runs_held_total",
                            "runs of lost probes not taken as the peer down, since no other peer answered meanwhile "
                            "(this gateway's own stall)",
                            MetricType::Counter);
  for (const auto& [peer, s] : prober.stats()) {
    const std::vector<prometheus::ClientMetric::Label> l = {{"peer", peer}};
    add_sample(rtt, s.rtt_us / 1e6, l);
    add_sample(jitter, s.jitter_us / 1e6, l);
    add_sample(loss, s.loss, l);
    add_sample(up, s.up ? 1 : 0, l);
    add_sample(sent, static_cast<double>(s.sent), l);
    add_sample(lost, static_cast<double>(s.lost), l);
    add_sample(late, static_cast<double>(s.late), l);
    add_sample(held, static_cast<double>(s.held), l);
  }
  for (auto* f : {&rtt, &jitter, &loss, &up, &sent, &lost, &late, &held}) out.push_back(std::move(*f));
  if (planner != nullptr) {
    auto cost = metric_family("meshgw_path_cost", "cost of the planned paths per egress and class (primary and backups)",
                              MetricType::Gauge);
    for (const auto& [key, sel] : planner->routes()) {
      if (!sel.has_route) continue;
      add_sample(cost, sel.primary.cost,
                 {{"egress", key.first}, {"class", key.second}, {"role", "primary"}, {"path", joined(sel.primary.nodes)}});
      for (const auto& b : sel.backups)
        add_sample(cost, b.cost, {{"egress", key.first}, {"class", key.second}, {"role", "backup"}, {"path", joined(b.nodes)}});
    }
    out.push_back(std::move(cost));
  }
  if (tunnels != nullptr) {
    auto is_active = metric_family("meshgw_tunnel_active", "1 for the tunnel carrying an egress's traffic", MetricType::Gauge);
    for (const auto& t : tunnels->tunnels()) {
      bool a = false;
      for (const auto& [k, id] : active) a = a || id == t.id;
      add_sample(is_active, a ? 1 : 0,
                 {{"tunnel", t.id}, {"egress", t.egress}, {"path", joined(t.path)}, {"own", t.own ? "true" : "false"}});
    }
    out.push_back(std::move(is_active));
    if (tunnel_probes != nullptr) {
      auto trtt = metric_family("meshgw_tunnel_rtt_seconds", "round-trip time through the tunnel, end to end (EWMA)",
                                MetricType::Gauge);
      auto tloss = metric_family("meshgw_tunnel_loss_ratio", "end-to-end probes through the tunnel lost over the window",
                                 MetricType::Gauge);
      auto alive = metric_family("meshgw_tunnel_alive", "0 while the tunnel's end-to-end probes are lost", MetricType::Gauge);
      for (const auto& [id, s] : tunnel_probes->stats()) {
        const std::vector<prometheus::ClientMetric::Label> l = {{"tunnel", id}};
        if (s.measured) add_sample(trtt, s.rtt_us / 1e6, l);
        add_sample(tloss, s.loss, l);
        add_sample(alive, tunnel_probes->dead(id) ? 0 : 1, l);
      }
      for (auto* f : {&trtt, &tloss, &alive}) out.push_back(std::move(*f));
    }
    auto setups = metric_family("meshgw_tunnel_setups_total", "tunnels set up (SPIs and end-to-end keys)", MetricType::Counter);
    add_sample(setups, static_cast<double>(tunnels->setups()));
    out.push_back(std::move(setups));
    auto failures = metric_family("meshgw_tunnel_setup_failures_total", "tunnel setups that failed (retried with backoff)",
                                  MetricType::Counter);
    add_sample(failures, static_cast<double>(tunnels->setup_failures()));
    out.push_back(std::move(failures));
    auto rekeys = metric_family("meshgw_tunnel_rekeys_total", "tunnels replaced by a rekey", MetricType::Counter);
    add_sample(rekeys, static_cast<double>(tunnels->rekeys()));
    out.push_back(std::move(rekeys));
  }
  return prometheus::TextSerializer().Serialize(out);
}

}  // namespace meshgw::agent
