// SPDX-License-Identifier: BSD-3-Clause
#include "path_selector.hpp"

#include <algorithm>
#include <set>

namespace meshgw::routing {

const char* to_string(SelectionReason r) noexcept {
  switch (r) {
    case SelectionReason::none: return "none";
    case SelectionReason::initial: return "initial";
    case SelectionReason::better_for_hold: return "better_for_hold_time";
    case SelectionReason::primary_failed: return "primary_failed";
    case SelectionReason::no_path: return "no_path";
    case SelectionReason::unchanged: return "unchanged";
    case SelectionReason::pending: return "better_candidate_pending";
  }
  return "none";
}

namespace {

// FNV-1a: a stable hash (std::hash may differ between builds), so every
// restart of a gateway keeps its jitter.
std::uint64_t fnv1a(const std::string& s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// splitmix64's finaliser: FNV-1a alone leaves consecutive draw numbers
// close together.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::size_t shared_links(const NamedPath& a, const NamedPath& b) {
  std::set<std::pair<std::string, std::string>> la;
  for (std::size_t i = 0; i + 1 < a.nodes.size(); ++i) la.insert({a.nodes[i], a.nodes[i + 1]});
  std::size_t n = 0;
  for (std::size_t i = 0; i + 1 < b.nodes.size(); ++i) n += la.count({b.nodes[i], b.nodes[i + 1]});
  return n;
}

}  // namespace

std::uint64_t PathSelector::hold_for(const std::string& destination, const std::string& traffic_class) const {
  const std::uint64_t h = fnv1a(traffic_class, fnv1a(destination, fnv1a(config_.gateway_id)));
  const double unit = static_cast<double>(h % 1'000'000) / 1'000'000.0;
  return config_.hold_ns + static_cast<std::uint64_t>(static_cast<double>(config_.hold_ns) *
                                                      config_.hold_jitter_fraction * unit);
}

double PathSelector::move_probability(double primary_cost, double challenger_cost) const noexcept {
  if (config_.migration_rate <= 0) return 1;
  if (!(primary_cost > 0)) return 1;
  const double gain = std::clamp((primary_cost - challenger_cost) / primary_cost, 0.0, 1.0);
  return std::min(1.0, config_.migration_rate * gain);
}

// Deterministic per gateway, key and draw (a restarted gateway replays its
// draws; two gateways draw independently), uniform in [0, 1).
double PathSelector::draw_unit(const std::string& destination, const std::string& traffic_class,
                               std::uint64_t draw) const {
  const std::uint64_t h = mix(fnv1a(traffic_class, fnv1a(destination, fnv1a(config_.gateway_id, 0x9e3779b97f4a7c15ull))) + draw);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

Selection PathSelector::finish(State& st, const std::vector<NamedPath>& candidates, SelectionReason reason,
                               bool changed) {
  Selection sel;
  sel.has_route = st.has_route;
  sel.primary = st.primary;
  sel.reason = reason;
  sel.changed = changed;
  if (changed) ++switches_;
  std::vector<const NamedPath*> others;
  for (const NamedPath& c : candidates)
    if (c.nodes != st.primary.nodes) others.push_back(&c);
  std::vector<std::size_t> shared;
  for (const NamedPath* c : others) shared.push_back(shared_links(*c, st.primary));
  std::vector<std::size_t> rank(others.size());
  for (std::size_t i = 0; i < rank.size(); ++i) rank[i] = i;
  std::stable_sort(rank.begin(), rank.end(), [&](std::size_t a, std::size_t b) { return shared[a] < shared[b]; });
  // Backups are sticky: each one is a tunnel set up in advance (SPIs,
  // relay entries, a key exchange), so one still usable stays unless the
  // ranking's own choice beats it clearly (fewer links shared with the
  // primary, or cheaper by the hysteresis margin). Re-ranked on every
  // replan, two near-equal backups swapping places cost a tunnel each time.
  const std::size_t n = std::min(others.size(), config_.backups);
  auto was_backup = [&](std::size_t i) {
    return std::find(st.backups.begin(), st.backups.end(), others[i]->nodes) != st.backups.end();
  };
  std::vector<bool> taken(others.size(), false);
  for (std::size_t r = 0; r < n; ++r) taken[rank[r]] = true;  // the ranking's choice
  // A former backup outside that choice displaces the worst-ranked chosen
  // one that was not a backup, unless that one is clearly better.
  std::size_t displace = n;  // walks the choice from its worst end
  for (std::size_t r = n; r < rank.size(); ++r) {
    const std::size_t p = rank[r];
    if (!was_backup(p)) continue;
    while (displace > 0 && was_backup(rank[displace - 1])) --displace;
    if (displace == 0) break;
    const std::size_t x = rank[displace - 1];
    const double margin = std::max(config_.relative_margin * others[x]->cost, config_.absolute_margin);
    if (shared[p] <= shared[x] && others[p]->cost <= others[x]->cost + margin) {
      taken[x] = false;
      taken[p] = true;
      --displace;
    }
  }
  st.backups.clear();
  for (const std::size_t i : rank)
    if (taken[i]) {
      sel.backups.push_back(*others[i]);
      st.backups.push_back(others[i]->nodes);
    }
  return sel;
}

std::size_t PathSelector::forget(const std::string& destination) {
  return std::erase_if(states_, [&](const auto& kv) { return kv.first.first == destination; });
}

std::size_t PathSelector::keep_only(const std::set<std::string>& destinations) {
  return std::erase_if(states_, [&](const auto& kv) { return !destinations.contains(kv.first.first); });
}

Selection PathSelector::update(const std::string& destination, const std::string& traffic_class,
                               const std::vector<NamedPath>& candidates, std::uint64_t now_ns) {
  State& st = states_[{destination, traffic_class}];
  if (candidates.empty()) {
    const bool changed = st.has_route;
    st = State{};
    return finish(st, candidates, SelectionReason::no_path, changed);
  }
  const NamedPath& best = candidates.front();
  if (!st.has_route) {
    st.has_route = true;
    st.primary = best;
    st.pending.clear();
    return finish(st, candidates, SelectionReason::initial, true);
  }
  const auto current = std::find_if(candidates.begin(), candidates.end(),
                                    [&](const NamedPath& c) { return c.nodes == st.primary.nodes; });
  if (current == candidates.end()) {
    st.primary = best;
    st.pending.clear();
    return finish(st, candidates, SelectionReason::primary_failed, true);
  }
  st.primary.cost = current->cost;  // the primary's cost under today's metrics
  const double gain = current->cost - best.cost;
  const bool better = best.nodes != st.primary.nodes && gain > config_.absolute_margin &&
                      gain > config_.relative_margin * current->cost;
  if (!better) {
    st.pending.clear();
    return finish(st, candidates, SelectionReason::unchanged, false);
  }
  if (st.pending != best.nodes) {
    st.pending = best.nodes;
    st.pending_since = now_ns;
    st.next_draw_ns = 0;
  }
  // A clock that went backwards restarts the hold rather than ending it.
  if (now_ns < st.pending_since) {
    st.pending_since = now_ns;
    st.next_draw_ns = 0;
  }
  const double p = move_probability(current->cost, best.cost);
  const std::uint64_t hold = hold_for(destination, traffic_class);
  if (now_ns - st.pending_since >= hold && now_ns >= st.next_draw_ns) {
    if (p >= 1 || draw_unit(destination, traffic_class, st.draws++) < p) {
      st.primary = best;
      st.pending.clear();
      return finish(st, candidates, SelectionReason::better_for_hold, true);
    }
    st.next_draw_ns = now_ns + std::max<std::uint64_t>(hold / 3, 1);
  }
  Selection sel = finish(st, candidates, SelectionReason::pending, false);
  sel.move_probability = p;
  sel.drawn = st.next_draw_ns != 0;
  return sel;
}

}  // namespace meshgw::routing
