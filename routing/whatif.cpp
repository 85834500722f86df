// SPDX-License-Identifier: BSD-3-Clause
#include "whatif.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>

#include "routing/candidate_paths.hpp"

namespace meshgw::routing {

const char* to_string(FlowVerdict v) noexcept {
  switch (v) {
    case FlowVerdict::stays: return "stays";
    case FlowVerdict::moves_now: return "moves_now";
    case FlowVerdict::moves_after_hold: return "moves_after_hold";
    case FlowVerdict::lost: return "lost";
    case FlowVerdict::ends: return "ends";
    case FlowVerdict::placed: return "placed";
    case FlowVerdict::unplaced: return "unplaced";
  }
  return "?";
}

namespace {

// Link loads in bits/s by topology link index, mirrored onto a topology's
// utilisation (and prediction, moved by the same amount) as flows move.
class LoadBook {
 public:
  explicit LoadBook(const Topology& t) {
    for (LinkIndex i = 0; i < t.link_count(); ++i) {
      const Link& l = t.links()[i];
      index_.try_emplace({l.src, l.dst}, i);
      const double share = l.predicted_utilisation ? std::max(l.utilisation, *l.predicted_utilisation) : l.utilisation;
      load_.push_back(share * l.capacity_mbps * 1e6);
    }
  }
  std::optional<LinkIndex> link(const Topology& t, const std::string& a, const std::string& b) const {
    const auto u = t.find(a), v = t.find(b);
    if (!u || !v) return std::nullopt;
    const auto it = index_.find({*u, *v});
    return it == index_.end() ? std::nullopt : std::optional<LinkIndex>(it->second);
  }
  // Adds rate (negative: removes) on every link of path that exists.
  void add(Topology& t, const std::vector<std::string>& path, double rate_bps) {
    for (std::size_t i = 0; i + 1 < path.size(); ++i) {
      const auto l = link(t, path[i], path[i + 1]);
      if (!l) continue;
      load_[*l] = std::max(0.0, load_[*l] + rate_bps);
      Link& link = t.link(*l);
      if (link.capacity_mbps <= 0) continue;
      const double before = link.utilisation;
      link.utilisation = load_[*l] / (link.capacity_mbps * 1e6);
      if (link.predicted_utilisation)
        link.predicted_utilisation = std::max(0.0, *link.predicted_utilisation + link.utilisation - before);
    }
  }
  double load(LinkIndex i) const { return load_[i]; }

 private:
  std::map<std::pair<NodeIndex, NodeIndex>, LinkIndex> index_;
  std::vector<double> load_;
};

void check_change(const Topology& t, const WhatIfChange& c) {
  auto known = [&](const std::string& id, const char* what) {
    if (!t.find(id)) throw std::invalid_argument(std::string(what) + ": " + id + " is not a gateway of the mesh");
  };
  if (c.fail_links.empty() && c.fail_gateways.empty() && c.add_demand.empty())
    throw std::invalid_argument("change: name a link or gateway to fail, or demand to add");
  for (const auto& [a, b] : c.fail_links) {
    known(a, "fail_link");
    known(b, "fail_link");
    const NodeIndex u = *t.find(a), v = *t.find(b);
    const bool exists = std::any_of(t.links().begin(), t.links().end(), [&](const Link& l) {
      return (l.src == u && l.dst == v) || (l.src == v && l.dst == u);
    });
    if (!exists) throw std::invalid_argument("fail_link: there is no link between " + a + " and " + b);
  }
  for (const std::string& g : c.fail_gateways) known(g, "fail_gateway");
  for (const DemandFlow& d : c.add_demand) {
    known(d.from, "add_demand");
    known(d.to, "add_demand");
    if (d.from == d.to) throw std::invalid_argument("add_demand: " + d.from + " to itself");
    if (!std::isfinite(d.rate_bps) || d.rate_bps <= 0)
      throw std::invalid_argument("add_demand: the rate must be a positive number of bits/s");
    model_for_class(d.traffic_class);
  }
}

// Whether the ingress's selector, holding `primary`, would move to another
// of `topo`'s candidates: the new primary if so (at once or after the hold),
// nullopt if it stays.
std::optional<NamedPath> selector_move(const Topology& topo, const DemandFlow& f, const NamedPath& primary,
                                       const WhatIfConfig& cfg) {
  SelectorConfig sc = cfg.selector;
  sc.gateway_id = f.from;
  sc.migration_rate = 0;  // where the flow goes once it moves, not in which round
  PathSelector selector(sc);
  selector.update(f.to, f.traffic_class, {primary}, 0);
  const CandidateQuery q{.from = f.from, .to = f.to, .traffic_class = f.traffic_class, .k = cfg.candidates,
                         .edge_transit = cfg.edge_transit, .primary = &primary};
  const std::vector<NamedPath> cands = candidate_paths(topo, q);
  Selection sel = selector.update(f.to, f.traffic_class, cands, 1);
  if (sel.reason == SelectionReason::pending)
    sel = selector.update(f.to, f.traffic_class, cands, 2 + selector.hold_for(f.to, f.traffic_class));
  if (!sel.has_route) return std::nullopt;
  if (sel.primary.nodes == primary.nodes) return std::nullopt;
  return sel.primary;
}

std::optional<NamedPath> best_path(const Topology& topo, const DemandFlow& f, const WhatIfConfig& cfg) {
  const CandidateQuery q{.from = f.from, .to = f.to, .traffic_class = f.traffic_class, .k = 1,
                         .edge_transit = cfg.edge_transit};
  const auto cands = candidate_paths(topo, q);
  if (cands.empty()) return std::nullopt;
  return cands.front();
}

}  // namespace

WhatIfResult what_if(const Topology& now, const std::vector<DemandFlow>& flows, const WhatIfChange& change,
                     const WhatIfConfig& cfg) {
  check_change(now, change);
  for (const DemandFlow& f : flows) model_for_class(f.traffic_class);
  Topology then = now;
  std::set<std::pair<NodeIndex, NodeIndex>> failed_links;
  std::set<std::string> failed_gateways(change.fail_gateways.begin(), change.fail_gateways.end());
  for (const auto& [a, b] : change.fail_links) {
    failed_links.insert({*now.find(a), *now.find(b)});
    failed_links.insert({*now.find(b), *now.find(a)});
  }
  for (const std::string& g : failed_gateways) then.node(*now.find(g)).up = false;
  for (LinkIndex i = 0; i < then.link_count(); ++i) {
    const Link& l = now.links()[i];
    const bool gone = failed_links.contains({l.src, l.dst}) || !then.nodes()[l.src].up || !then.nodes()[l.dst].up;
    if (gone) {
      then.link(i).up = false;
      failed_links.insert({l.src, l.dst});
    }
  }
  LoadBook book(then);

  WhatIfResult out;
  out.flows.resize(flows.size());
  std::vector<std::size_t> order(flows.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return flows[a].rate_bps > flows[b].rate_bps; });
  auto path_hit = [&](const std::vector<std::string>& path) {
    if (path.size() < 2) return true;
    for (const std::string& g : path)
      if (failed_gateways.contains(g) || !now.find(g)) return true;
    for (std::size_t i = 0; i + 1 < path.size(); ++i) {
      const auto l = book.link(now, path[i], path[i + 1]);
      if (!l || failed_links.contains({now.links()[*l].src, now.links()[*l].dst})) return true;
    }
    return false;
  };
  // 1. Flows that lose part of their path.
  std::vector<bool> hit(flows.size());
  for (const std::size_t i : order) {
    const DemandFlow& f = flows[i];
    FlowOutcome& o = out.flows[i];
    o.flow = f;
    if (const auto c = named_path_cost(now, f.path, f.traffic_class, cfg.edge_transit)) o.before = NamedPath{f.path, *c};
    hit[i] = path_hit(f.path);
    if (!hit[i]) continue;
    book.add(then, f.path, -f.rate_bps);
    if (failed_gateways.contains(f.from) || failed_gateways.contains(f.to)) {
      o.verdict = FlowVerdict::ends;
      continue;
    }
    o.after = best_path(then, f, cfg);
    o.verdict = o.after ? FlowVerdict::moves_now : FlowVerdict::lost;
    if (o.after) book.add(then, o.after->nodes, f.rate_bps);
  }
  // 2. Added demand.
  std::vector<DemandFlow> added = change.add_demand;
  std::stable_sort(added.begin(), added.end(), [](const DemandFlow& a, const DemandFlow& b) { return a.rate_bps > b.rate_bps; });
  for (const DemandFlow& d : added) {
    FlowOutcome o;
    o.flow = d;
    o.after = best_path(then, d, cfg);
    o.verdict = o.after ? FlowVerdict::placed : FlowVerdict::unplaced;
    if (o.after) {
      book.add(then, o.after->nodes, d.rate_bps);
      o.flow.path = o.after->nodes;
    }
    out.flows.push_back(std::move(o));
  }
  // 3. Every other flow, with the new loads: hysteresis decides.
  for (const std::size_t i : order) {
    if (hit[i]) continue;
    const DemandFlow& f = flows[i];
    FlowOutcome& o = out.flows[i];
    const auto cost_then = named_path_cost(then, f.path, f.traffic_class, cfg.edge_transit);
    if (!o.before || !cost_then) continue;  // not a usable path (a policy change): the gateways' own business
    const NamedPath primary_then{f.path, *cost_then};
    const auto moved_then = selector_move(then, f, primary_then, cfg);
    if (!moved_then) {
      o.after = primary_then;
      continue;
    }
    if (selector_move(now, f, *o.before, cfg)) {  // it would move anyway: not this change's doing
      o.after = primary_then;
      continue;
    }
    o.verdict = FlowVerdict::moves_after_hold;
    o.after = moved_then;
    book.add(then, f.path, -f.rate_bps);
    book.add(then, moved_then->nodes, f.rate_bps);
  }
  // Links, before and after.
  const LoadBook before(now);
  for (LinkIndex i = 0; i < now.link_count(); ++i) {
    const Link& l = now.links()[i];
    LinkOutcome lo;
    lo.from = now.nodes()[l.src].id;
    lo.to = now.nodes()[l.dst].id;
    lo.capacity_bps = l.capacity_mbps * 1e6;
    lo.load_before_bps = before.load(i);
    lo.load_after_bps = failed_links.contains({l.src, l.dst}) ? 0 : book.load(i);
    lo.failed = failed_links.contains({l.src, l.dst});
    if (lo.capacity_bps > 0) {
      lo.utilisation_before = lo.load_before_bps / lo.capacity_bps;
      lo.utilisation_after = lo.load_after_bps / lo.capacity_bps;
      lo.hot_before = lo.utilisation_before >= cfg.hot_utilisation;
      lo.hot_after = !lo.failed && lo.utilisation_after >= cfg.hot_utilisation;
    }
    out.links.push_back(lo);
  }
  return out;
}

}  // namespace meshgw::routing
