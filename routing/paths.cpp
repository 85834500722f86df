// SPDX-License-Identifier: BSD-3-Clause
#include "paths.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <stdexcept>
#include <set>

namespace meshgw::routing {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kTieTolerance = 1e-12;

bool same_cost(double a, double b) noexcept {
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= kTieTolerance * std::max({1.0, std::fabs(a), std::fabs(b)});
}

// The common case, a candidate clearly worse than the label, in one
// multiply-add and a compare (cur may be +inf).
bool clearly_worse(double candidate, double cur) noexcept {
  return candidate > cur * (1 + kTieTolerance) + kTieTolerance;
}

bool blocked(const Exclusions* ex, NodeIndex v, std::uint32_t e) noexcept {
  if (ex == nullptr) return false;
  return (!ex->nodes.empty() && ex->nodes[v]) || (!ex->edges.empty() && ex->edges[e]);
}

}  // namespace

const char* to_string(Algorithm a) noexcept {
  switch (a) {
    case Algorithm::dijkstra: return "dijkstra";
    case Algorithm::astar: return "astar";
    case Algorithm::bellman_ford: return "bellman-ford";
  }
  return "dijkstra";
}

std::optional<Algorithm> algorithm_from_string(const std::string& name) noexcept {
  if (name == "dijkstra") return Algorithm::dijkstra;
  if (name == "astar" || name == "a*") return Algorithm::astar;
  if (name == "bellman-ford" || name == "bellman_ford") return Algorithm::bellman_ford;
  return std::nullopt;
}

void PathFinder::reset(std::size_t n) {
  dist_.assign(n, kInf);
  back_.assign(n, Back{kNoNode, ~std::uint32_t{0}, 0});
}

// v's label after improves() said yes: the cost only ever goes down (a tie
// may be a hair above within the tolerance), the path back is replaced.
inline void PathFinder::relabel(NodeIndex v, double d, NodeIndex via, std::uint32_t edge) noexcept {
  dist_[v] = std::min(d, dist_[v]);
  back_[v] = Back{via, edge, back_[via].hops + 1};
}

// Better label for v: cheaper, or as cheap with fewer hops, or as cheap and
// as short through a predecessor that comes first by id.
[[gnu::always_inline]] inline bool PathFinder::improves(const CsrGraph& g, NodeIndex v, double d,
                                                        std::uint32_t hops, NodeIndex via) const noexcept {
  const double cur = dist_[v];
  if (d < cur * (1 - kTieTolerance) - kTieTolerance) return true;  // clearly cheaper (also when cur is +inf)
  if (!same_cost(d, cur)) return d < cur;
  if (hops != back_[v].hops) return hops < back_[v].hops;
  return back_[v].pred != kNoNode && g.rank(via) < g.rank(back_[v].pred);
}

namespace {

void require_node(const CsrGraph& g, NodeIndex v, const char* what) {
  if (v >= g.node_count())
    throw std::out_of_range(std::string(what) + " " + std::to_string(v) + " is not a node (the graph has " +
                            std::to_string(g.node_count()) + ")");
}

}  // namespace

void PathFinder::dijkstra(const CsrGraph& g, NodeIndex external_source) {
  require_node(g, external_source, "source");
  const NodeIndex source = g.to_internal(external_source);
  reset(g.node_count());
  source_ = source;
  heap_.reset(g.node_count());
  dist_[source] = 0;
  heap_.push_or_decrease(source, 0);
  while (!heap_.empty()) {
    const NodeIndex u = heap_.pop();
    if (u != source && !g.transit_ok(u)) continue;  // reachable as a destination only
    const double du = dist_[u];
    const std::uint32_t base = g.edge_begin(u);
    const auto edges = g.out(u);
    for (std::uint32_t i = 0; i < edges.size(); ++i) {
      const CsrEdge& e = edges[i];
      const double nd = du + e.weight;
      if (clearly_worse(nd, dist_[e.target]) || !improves(g, e.target, nd, back_[u].hops + 1, u)) continue;
      relabel(e.target, nd, u, base + i);
      // Also on a tie won by fewer hops or a lower id: a closed node reopens
      // so its successors' labels follow (ends: each reopening strictly
      // improves the (cost, hops, id) label).
      heap_.push_or_decrease(e.target, dist_[e.target]);
    }
  }
}

void PathFinder::bellman_ford(const CsrGraph& g, NodeIndex external_source) {
  require_node(g, external_source, "source");
  const NodeIndex source = g.to_internal(external_source);
  reset(g.node_count());
  source_ = source;
  dist_[source] = 0;
  const std::size_t n = g.node_count();
  for (std::size_t round = 0; round + 1 < std::max<std::size_t>(n, 2); ++round) {
    bool changed = false;
    for (NodeIndex u = 0; u < n; ++u) {
      if (dist_[u] == kInf || (u != source && !g.transit_ok(u))) continue;
      const std::uint32_t base = g.edge_begin(u);
      const auto edges = g.out(u);
      for (std::uint32_t i = 0; i < edges.size(); ++i) {
        const CsrEdge& e = edges[i];
        if (e.target == source) continue;
        const double nd = dist_[u] + e.weight;
        if (!improves(g, e.target, nd, back_[u].hops + 1, u)) continue;
        relabel(e.target, nd, u, base + i);
        changed = true;
      }
    }
    if (!changed) break;
  }
}

double PathFinder::cost_to(const CsrGraph& g, NodeIndex external_v) const noexcept {
  if (source_ == kNoNode || external_v >= g.node_count() || dist_.size() != g.node_count()) return kInf;
  const NodeIndex v = g.to_internal(external_v);
  if (dist_[v] == kInf) return kInf;
  return v == source_ ? 0.0 : dist_[v] - g.entry_cost(v);
}

namespace {

// head then tail, where tail starts at head's last node; priced anew.
Path join(const CsrGraph& g, const Path& head, std::size_t head_nodes, const Path& tail) {
  Path p;
  p.nodes.assign(head.nodes.begin(), head.nodes.begin() + static_cast<std::ptrdiff_t>(head_nodes));
  p.nodes.insert(p.nodes.end(), tail.nodes.begin() + 1, tail.nodes.end());
  p.edges.assign(head.edges.begin(), head.edges.begin() + static_cast<std::ptrdiff_t>(head_nodes - 1));
  p.edges.insert(p.edges.end(), tail.edges.begin(), tail.edges.end());
  p.cost = path_cost(g, p.edges);
  return p;
}

// A path collected from the destination back: put it in order, name its
// nodes by Topology index and price it.
Path finish_path(const CsrGraph& g, Path p) {
  std::reverse(p.nodes.begin(), p.nodes.end());
  std::reverse(p.edges.begin(), p.edges.end());
  for (NodeIndex& v : p.nodes) v = g.to_external(v);
  p.cost = path_cost(g, p.edges);
  return p;
}

}  // namespace

Path PathFinder::build(const CsrGraph& g, NodeIndex s, NodeIndex t) const {
  Path p;
  for (NodeIndex v = t; v != s; v = back_[v].pred) {
    p.nodes.push_back(v);
    p.edges.push_back(back_[v].edge);
  }
  p.nodes.push_back(s);
  return finish_path(g, std::move(p));
}

std::optional<Path> PathFinder::path_to(const CsrGraph& g, NodeIndex external_v) const {
  if (source_ == kNoNode || external_v >= g.node_count() || dist_.size() != g.node_count()) return std::nullopt;
  const NodeIndex v = g.to_internal(external_v);
  if (dist_[v] == kInf) return std::nullopt;
  return build(g, source_, v);
}

double path_cost(const CsrGraph& g, const std::vector<std::uint32_t>& edges) {
  if (edges.empty()) return 0;
  double c = 0;
  for (std::uint32_t e : edges) c += g.edge(e).weight;
  return c - g.entry_cost(g.edge(edges.back()).target);
}

template <bool kAstar>
std::optional<Path> PathFinder::best_first(const CsrGraph& g, NodeIndex s, NodeIndex t,
                                           const Exclusions* ex) {
  reset(g.node_count());
  source_ = kNoNode;  // a partial search: path_to() is not valid afterwards
  heap_.reset(g.node_count());
  dist_[s] = 0;
  heap_.push_or_decrease(s, kAstar ? g.heuristic(s, t) : 0.0);
  while (!heap_.empty()) {
    double key;
    const NodeIndex u = heap_.pop(&key);
    // Not done when t pops: a node with the same key may still offer an
    // equally cheap path that the tie-break prefers. Done past t's cost.
    if (dist_[t] != kInf && clearly_worse(key, dist_[t])) break;
    if (u == t || (u != s && !g.transit_ok(u))) continue;
    const std::uint32_t base = g.edge_begin(u);
    const auto edges = g.out(u);
    for (std::uint32_t i = 0; i < edges.size(); ++i) {
      const CsrEdge& e = edges[i];
      if (blocked(ex, e.target, base + i)) continue;
      const double nd = dist_[u] + e.weight;
      if (clearly_worse(nd, dist_[e.target]) || !improves(g, e.target, nd, back_[u].hops + 1, u)) continue;
      relabel(e.target, nd, u, base + i);
      // A closed node reopens when its label improves (cheaper, or a tie the
      // tie-break prefers), so an admissible A* bound suffices even where
      // rounding makes it a hair inconsistent, and ties propagate.
      heap_.push_or_decrease(e.target, dist_[e.target] + (kAstar ? g.heuristic(e.target, t) : 0.0));
    }
  }
  if (dist_[t] == kInf) return std::nullopt;
  return build(g, s, t);
}

// Bellman-Ford by layers: layer h holds the best cost with at most h links.
// Only the labels that change in a layer are recorded (sorted by node), so
// memory follows the work done, not layers x nodes.
std::optional<Path> PathFinder::hop_bounded(const CsrGraph& g, NodeIndex s, NodeIndex t,
                                            int max_hops, const Exclusions* ex) {
  struct Change {
    NodeIndex node, via;
    std::uint32_t edge;
  };
  const std::size_t n = g.node_count();
  const std::size_t layers = std::min<std::size_t>(static_cast<std::size_t>(max_hops), n > 1 ? n - 1 : 1);
  std::vector<double> prev(n, kInf), cur(n, kInf);
  std::vector<std::uint32_t> changed_in(n, 0);  // layer that last set cur[v]; 0 = carried
  std::vector<std::uint32_t> record_of(n, 0);   // its index in changes, while in that layer
  std::vector<Change> changes;
  std::vector<std::size_t> layer_begin{0, 0};  // changes of layer h: [layer_begin[h], layer_begin[h+1])
  prev[s] = 0;
  for (std::size_t h = 1; h <= layers; ++h) {
    cur = prev;  // a path with fewer links stays allowed
    const std::size_t first = changes.size();
    for (NodeIndex u = 0; u < n; ++u) {
      if (prev[u] == kInf || u == t || (u != s && !g.transit_ok(u))) continue;
      const std::uint32_t base = g.edge_begin(u);
      const auto edges = g.out(u);
      for (std::uint32_t i = 0; i < edges.size(); ++i) {
        const CsrEdge& e = edges[i];
        if (e.target == s || blocked(ex, e.target, base + i)) continue;
        const double nd = prev[u] + e.weight;
        if (clearly_worse(nd, cur[e.target])) continue;
        Change* record = changed_in[e.target] == h ? &changes[record_of[e.target]] : nullptr;
        if (same_cost(nd, cur[e.target])) {
          // A tie: the label carried from fewer links stays; within this
          // layer the predecessor first by id wins.
          if (record != nullptr && g.rank(u) < g.rank(record->via)) *record = {e.target, u, base + i};
          continue;
        }
        cur[e.target] = nd;
        if (record != nullptr) {
          *record = {e.target, u, base + i};
        } else {
          changed_in[e.target] = static_cast<std::uint32_t>(h);
          record_of[e.target] = static_cast<std::uint32_t>(changes.size());
          changes.push_back({e.target, u, base + i});
        }
      }
    }
    std::sort(changes.begin() + static_cast<std::ptrdiff_t>(first), changes.end(),
              [](const Change& a, const Change& b) { return a.node < b.node; });
    layer_begin.push_back(changes.size());
    prev.swap(cur);
    if (changes.size() == first) break;  // nothing moved: later layers would not either
  }
  if (prev[t] == kInf || t == s) return std::nullopt;
  Path p;
  NodeIndex v = t;
  for (std::size_t h = layer_begin.size() - 2; h >= 1 && v != s; --h) {
    const auto lo = changes.begin() + static_cast<std::ptrdiff_t>(layer_begin[h]);
    const auto hi = changes.begin() + static_cast<std::ptrdiff_t>(layer_begin[h + 1]);
    const auto it = std::lower_bound(lo, hi, v, [](const Change& c, NodeIndex x) { return c.node < x; });
    if (it == hi || it->node != v) continue;  // carried over from layer h-1
    p.nodes.push_back(v);
    p.edges.push_back(it->edge);
    v = it->via;
  }
  p.nodes.push_back(s);
  return finish_path(g, std::move(p));
}

std::optional<Path> PathFinder::shortest(const CsrGraph& g, NodeIndex external_s, NodeIndex external_t,
                                         Algorithm algo, std::optional<int> max_hops, const Exclusions* ex) {
  if (external_s >= g.node_count() || external_t >= g.node_count()) return std::nullopt;
  if (external_s == external_t) return Path{{external_s}, {}, 0.0};
  const NodeIndex s = g.to_internal(external_s), t = g.to_internal(external_t);
  if (max_hops) {
    if (*max_hops < 1) return std::nullopt;
    return hop_bounded(g, s, t, *max_hops, ex);
  }
  switch (algo) {
    case Algorithm::astar: return best_first<true>(g, s, t, ex);
    case Algorithm::bellman_ford:
      if (ex == nullptr) {  // single-source rounds: O(V) memory
        bellman_ford(g, external_s);
        return path_to(g, external_t);
      }
      return hop_bounded(g, s, t, static_cast<int>(std::max<std::size_t>(g.node_count(), 2) - 1), ex);
    case Algorithm::dijkstra: break;
  }
  return best_first<false>(g, s, t, ex);
}

namespace {

// (cost, hops, node ids along the path): Yen's candidate order.
bool path_less(const CsrGraph& g, const Path& a, const Path& b) {
  if (!same_cost(a.cost, b.cost)) return a.cost < b.cost;
  if (a.hops() != b.hops()) return a.hops() < b.hops();
  return std::lexicographical_compare(a.nodes.begin(), a.nodes.end(), b.nodes.begin(), b.nodes.end(),
                                      [&](NodeIndex x, NodeIndex y) { return g.rank(g.to_internal(x)) < g.rank(g.to_internal(y)); });
}

}  // namespace

std::vector<Path> PathFinder::k_shortest(const CsrGraph& g, NodeIndex s, NodeIndex t, std::size_t k,
                                         std::optional<int> max_hops) {
  std::vector<Path> found;
  if (k == 0) return found;
  const Algorithm algo = max_hops ? Algorithm::bellman_ford : Algorithm::dijkstra;
  auto first = shortest(g, s, t, algo, max_hops);
  if (!first) return found;
  found.push_back(std::move(*first));
  std::vector<Path> candidates;
  std::set<std::vector<NodeIndex>> seen{found.front().nodes};
  Exclusions ex;
  ex.nodes.assign(g.node_count(), 0);
  ex.edges.assign(g.edge_count(), 0);
  while (found.size() < k) {
    const Path& last = found.back();
    for (std::size_t i = 0; i + 1 < last.nodes.size(); ++i) {
      const NodeIndex spur = last.nodes[i];
      // Links out of the spur node that earlier paths with this root already took.
      for (const Path& p : found) {
        if (p.nodes.size() > i + 1 && std::equal(p.nodes.begin(), p.nodes.begin() + i + 1, last.nodes.begin()))
          ex.edges[p.edges[i]] = 1;
      }
      for (std::size_t j = 0; j < i; ++j) ex.nodes[g.to_internal(last.nodes[j])] = 1;
      std::optional<int> spur_hops;
      if (max_hops) spur_hops = *max_hops - static_cast<int>(i);
      std::optional<Path> spur_path;
      if (!spur_hops || *spur_hops >= 1) spur_path = shortest(g, spur, t, algo, spur_hops, &ex);
      std::fill(ex.edges.begin(), ex.edges.end(), 0);
      for (std::size_t j = 0; j < i; ++j) ex.nodes[g.to_internal(last.nodes[j])] = 0;
      if (!spur_path) continue;
      Path total = join(g, last, i + 1, *spur_path);  // root up to and including the spur node
      if (seen.insert(total.nodes).second) candidates.push_back(std::move(total));
    }
    if (candidates.empty()) break;
    const auto best = std::min_element(candidates.begin(), candidates.end(),
                                       [&](const Path& a, const Path& b) { return path_less(g, a, b); });
    found.push_back(std::move(*best));
    candidates.erase(best);
  }
  return found;
}

std::optional<Path> PathFinder::via_waypoint(const CsrGraph& g, NodeIndex s, NodeIndex w, NodeIndex t,
                                             Algorithm algo, std::optional<int> max_hops) {
  if (s >= g.node_count() || w >= g.node_count() || t >= g.node_count()) return std::nullopt;
  if (w == s || w == t) return shortest(g, s, t, algo, max_hops);
  if (s == t) return std::nullopt;  // s -> w -> s would repeat s
  if (!g.transit_ok(g.to_internal(w))) return std::nullopt;
  std::optional<Path> best;
  // Route one leg, then the other around it (never through its nodes), in
  // both orders; keep the cheaper result.
  auto second_leg = [&](const Path& fixed, NodeIndex from, NodeIndex to) -> std::optional<Path> {
    Exclusions ex;
    ex.nodes.assign(g.node_count(), 0);
    for (NodeIndex v : fixed.nodes) ex.nodes[g.to_internal(v)] = v != w;
    std::optional<int> rest;
    if (max_hops) rest = *max_hops - static_cast<int>(fixed.hops());
    if (rest && *rest < 1) return std::nullopt;
    return shortest(g, from, to, algo, rest, &ex);
  };
  for (int order = 0; order < 2; ++order) {
    std::optional<Path> a, b;
    if (order == 0) {
      a = shortest(g, s, w, algo, max_hops);
      if (a) b = second_leg(*a, w, t);
    } else {
      b = shortest(g, w, t, algo, max_hops);
      if (b) a = second_leg(*b, s, w);
    }
    if (!a || !b) continue;
    Path p = join(g, *a, a->nodes.size(), *b);
    if (!best || path_less(g, p, *best)) best = std::move(p);
  }
  return best;
}

}  // namespace meshgw::routing
