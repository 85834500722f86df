// SPDX-License-Identifier: BSD-3-Clause
#include "path_planner.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "routing/cost.hpp"
#include "routing/csr_graph.hpp"
#include "routing/paths.hpp"

namespace meshgw::agent {

using nlohmann::json;
using namespace meshgw::routing;

namespace {

CostModel model_for(const std::string& traffic_class) {
  CostModel m;
  const auto w = class_weights(traffic_class);
  if (!w) throw std::invalid_argument("traffic class '" + traffic_class + "' (default, realtime, bulk, secure)");
  m.weights = *w;
  return m;
}

Constraints constraints_for(bool edge_transit) {
  Constraints c;
  if (!edge_transit) c.avoid_roles.insert(Role::edge);
  return c;
}

NamedPath named(const Topology& t, const Path& p) {
  NamedPath n;
  for (NodeIndex v : p.nodes) n.nodes.push_back(t.nodes()[v].id);
  n.cost = p.cost;
  return n;
}

// The edges of a path named by node ids, if every hop still exists in g and
// every transit may still be one; nullopt otherwise (the path failed).
std::optional<std::vector<std::uint32_t>> edges_of(const Topology& t, const CsrGraph& g,
                                                   const std::vector<std::string>& nodes) {
  std::vector<std::uint32_t> edges;
  for (std::size_t i = 0; i + 1 < nodes.size(); ++i) {
    const auto a = t.find(nodes[i]), b = t.find(nodes[i + 1]);
    if (!a || !b) return std::nullopt;
    const NodeIndex u = g.to_internal(*a), v = g.to_internal(*b);
    if (i > 0 && !g.transit_ok(u)) return std::nullopt;
    std::optional<std::uint32_t> best;
    const auto out = g.out(u);
    for (std::uint32_t k = 0; k < out.size(); ++k)
      if (out[k].target == v && (!best || out[k].weight < g.edge(*best).weight)) best = g.edge_begin(u) + k;
    if (!best) return std::nullopt;
    edges.push_back(*best);
  }
  return edges;
}

}  // namespace

PathPlanner::PathPlanner(PlannerConfig config) : config_(std::move(config)), selector_([this] {
  routing::SelectorConfig s = config_.selector;
  s.gateway_id = config_.self;  // the hold jitter is this gateway's own
  return s;
}()) {
  for (const auto& c : config_.classes) model_for(c);  // refuse unknown classes now
  if (config_.candidates == 0) throw std::invalid_argument("path planner: candidates must be >= 1");
}

std::vector<NamedPath> PathPlanner::candidates(const Topology& topo, const std::string& egress,
                                               const std::string& traffic_class) const {
  const auto s = topo.find(config_.self), t = topo.find(egress);
  if (!s || !t) return {};
  const CsrGraph g(topo, model_for(traffic_class), constraints_for(config_.edge_transit));
  PathFinder pf;
  std::vector<NamedPath> out;
  const std::vector<Path> shortest = pf.k_shortest(g, *s, *t, config_.candidates);
  for (const Path& p : shortest) out.push_back(named(topo, p));
  auto add = [&](const std::vector<std::string>& nodes, double cost) {
    if (std::any_of(out.begin(), out.end(), [&](const NamedPath& p) { return p.nodes == nodes; })) return;
    out.push_back({nodes, cost});
    std::stable_sort(out.begin(), out.end(), [](const NamedPath& a, const NamedPath& b) { return a.cost < b.cost; });
  };
  // The current primary, re-priced, while it is still usable.
  std::optional<std::vector<std::uint32_t>> primary_edges;
  if (const auto it = routes_.find({egress, traffic_class}); it != routes_.end() && it->second.has_route) {
    primary_edges = edges_of(topo, g, it->second.primary.nodes);
    if (primary_edges) add(it->second.primary.nodes, path_cost(g, *primary_edges));
  }
  if (!primary_edges && !shortest.empty()) primary_edges = shortest.front().edges;
  // The best path sharing no link with the primary: Yen's next few often
  // all leave by the same first link (a gateway with two neighbours), and a
  // backup that fails with the primary is no backup.
  if (primary_edges) {
    routing::Exclusions ex;
    ex.edges.assign(g.edge_count(), 0);
    for (const std::uint32_t e : *primary_edges) ex.edges[e] = 1;
    if (const auto p = pf.shortest(g, *s, *t, routing::Algorithm::dijkstra, std::nullopt, &ex)) {
      const NamedPath n = named(topo, *p);
      add(n.nodes, n.cost);
    }
  }
  return out;
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
  const CostModel model = model_for(traffic_class);
  const CsrGraph g(topo, model, constraints_for(config_.edge_transit));
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
                         {"challenger_pending", sel.reason == SelectionReason::pending}};
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
