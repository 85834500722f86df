// SPDX-License-Identifier: BSD-3-Clause
#include "path_planner.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "routing/candidate_paths.hpp"
#include "routing/cost.hpp"
#include "routing/csr_graph.hpp"
#include "routing/paths.hpp"

namespace meshgw::agent {

using nlohmann::json;
using namespace meshgw::routing;

PathPlanner::PathPlanner(PlannerConfig config) : config_(std::move(config)), selector_([this] {
  routing::SelectorConfig s = config_.selector;
  s.gateway_id = config_.self;  // the hold jitter is this gateway's own
  return s;
}()) {
  for (const auto& c : config_.classes) model_for_class(c);  // refuse unknown classes now
  if (config_.candidates == 0) throw std::invalid_argument("path planner: candidates must be >= 1");
}

std::vector<NamedPath> PathPlanner::candidates(const Topology& topo, const std::string& egress,
                                               const std::string& traffic_class) const {
  CandidateQuery q{.from = config_.self, .to = egress, .traffic_class = traffic_class,
                   .k = config_.candidates, .edge_transit = config_.edge_transit};
  if (const auto it = routes_.find({egress, traffic_class}); it != routes_.end() && it->second.has_route)
    q.primary = &it->second.primary;
  if (const auto it = own_mbps_.find(egress); it != own_mbps_.end()) q.own_mbps = it->second;
  return candidate_paths(topo, q);
}

std::vector<PlannedRoute> PathPlanner::plan(const Topology& topo, std::uint64_t now_ns) {
  std::vector<PlannedRoute> moved;
  std::set<std::string> present;
  for (const Node& n : topo.nodes()) {
    if (n.id == config_.self) continue;
    present.insert(n.id);
    for (const std::string& cls : config_.classes) {
      const auto cands = candidates(topo, n.id, cls);
      Selection sel = selector_.update(n.id, cls, cands, now_ns);
      auto& slot = routes_[{n.id, cls}];
      const bool appeared_or_went = slot.has_route != sel.has_route;
      slot = sel;
      if (sel.changed || appeared_or_went) moved.push_back({n.id, cls, std::move(sel)});
    }
  }
  // Gateways that left: their routes and selector state go too.
  for (auto it = routes_.begin(); it != routes_.end();) {
    if (!present.contains(it->first.first)) {
      moved.push_back({it->first.first, it->first.second, {}});
      it = routes_.erase(it);
    } else {
      ++it;
    }
  }
  selector_.keep_only(present);
  return moved;
}

json PathPlanner::explain(const Topology& topo, const std::string& egress, const std::string& traffic_class,
                          std::uint64_t now_ns) const {
  json out = {{"from", config_.self}, {"to", egress}, {"class", traffic_class}};
  const auto it = routes_.find({egress, traffic_class});
  if (it == routes_.end() || !it->second.has_route) {
    out["primary"] = nullptr;
    out["reason"] = it == routes_.end() ? "no route computed to this gateway" : "no path";
  }
  const CostModel model = model_for_class(traffic_class);
  const CsrGraph g(topo, model, transit_constraints(config_.edge_transit));
  auto link_terms = [&](const std::vector<std::string>& nodes) {
    json links = json::array();
    const auto edges = edges_of(topo, g, nodes);
    if (!edges) return links;
    for (std::uint32_t e : *edges) {
      const Link& l = topo.links()[g.edge(e).link];
      const LinkCostBreakdown b = explain_link(l, model);
      links.push_back({{"from", topo.nodes()[l.src].id},
                       {"to", topo.nodes()[l.dst].id},
                       {"latency_ms", b.latency_ms},
                       {"queue_ms", b.queue_ms},
                       {"jitter_term", b.jitter_term},
                       {"loss_term", b.loss_term},
                       {"money_term", b.money_term},
                       {"headroom_term", b.headroom_term},
                       {"link_cost", b.link_cost},
                       {"utilisation_now", l.utilisation},
                       {"utilisation_forecast", l.predicted_utilisation ? json(*l.predicted_utilisation) : json()}});
    }
    return links;
  };
  if (it != routes_.end() && it->second.has_route) {
    const Selection& sel = it->second;
    out["primary"] = {{"nodes", sel.primary.nodes}, {"cost", sel.primary.cost}, {"links", link_terms(sel.primary.nodes)}};
    out["reason"] = to_string(sel.reason);
    out["hysteresis"] = {{"relative_margin", config_.selector.relative_margin},
                         {"absolute_margin", config_.selector.absolute_margin},
                         {"hold_ns", selector_.hold_for(egress, traffic_class)},
                         {"challenger_pending", sel.reason == SelectionReason::pending},
                         {"migration_rate", config_.selector.migration_rate}};
    if (sel.reason == SelectionReason::pending) {
      out["hysteresis"]["move_probability"] = sel.move_probability;
      out["hysteresis"]["hold_over"] = sel.drawn;
    }
  }
  // Every other candidate and why it is not the primary.
  json alternatives = json::array();
  const double primary_cost = it != routes_.end() && it->second.has_route ? it->second.primary.cost : 0;
  for (const NamedPath& p : candidates(topo, egress, traffic_class)) {
    if (it != routes_.end() && it->second.has_route && p.nodes == it->second.primary.nodes) continue;
    std::string verdict;
    const bool backup = it != routes_.end() &&
                        std::any_of(it->second.backups.begin(), it->second.backups.end(),
                                    [&](const NamedPath& b) { return b.nodes == p.nodes; });
    if (p.cost >= primary_cost) {
      verdict = backup ? "backup: costs more than the primary" : "costs more than the primary";
    } else if (primary_cost - p.cost <= std::max(config_.selector.relative_margin * primary_cost,
                                                 config_.selector.absolute_margin)) {
      verdict = "cheaper, but within the hysteresis margin";
    } else {
      verdict = "cheaper: must stay better for the hold time before traffic moves (hysteresis)";
      if (config_.selector.migration_rate > 0)
        verdict += ", then moves with probability " +
                   std::to_string(static_cast<int>(selector_.move_probability(primary_cost, p.cost) * 100 + 0.5)) +
                   " % per draw (herd damping)";
    }
    alternatives.push_back({{"nodes", p.nodes}, {"cost", p.cost}, {"verdict", verdict}});
  }
  out["alternatives"] = std::move(alternatives);
  // Gateways that cannot be a transit now, and why.
  json excluded = json::array();
  for (const Node& n : topo.nodes()) {
    if (n.id == config_.self || n.id == egress) continue;
    if (!n.up) excluded.push_back({{"gateway", n.id}, {"reason", "down"}});
    else if (n.role == Role::edge && !config_.edge_transit)
      excluded.push_back({{"gateway", n.id}, {"reason", "edge gateway: the policy allows no edge transit"}});
  }
  out["excluded"] = std::move(excluded);
  out["at_ns"] = now_ns;
  return out;
}

}  // namespace meshgw::agent
