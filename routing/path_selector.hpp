// SPDX-License-Identifier: BSD-3-Clause
// Path selection with hysteresis, per (destination, traffic class).
//
// Each recomputation hands the selector the ranked candidate paths under the
// current (predicted) metrics; the caller includes the current primary, at its
// current cost, whenever it is still usable (a primary missing from the list
// counts as failed). Rules, in order:
//  1. No candidate: no route.
//  2. The current primary is no longer among the candidates (a link or node
//     on it failed, or a constraint now excludes it): switch at once to the
//     best candidate, which the caller has precomputed as the first backup.
//  3. The best candidate beats the primary by more than `relative_margin`
//     of the primary's cost AND more than `absolute_margin`: it must stay the
//     best, continuously, for the hold time before the primary moves.
//     Any recomputation where it is not better resets the clock, so metrics
//     that oscillate around a threshold never cause a switch.
//     Once the hold is over the move is drawn, not taken: it happens with
//     probability min(1, migration_rate x relative gain), the gain being
//     (primary cost - challenger cost) / primary cost, and a lost draw is
//     drawn again a third of the hold later while the challenger stays best.
//  4. Otherwise keep the primary.
// Herd damping. Every gateway sends over a link prices it from the same
// stale loads (a second or more old), so when the link runs hot they all
// see the same cheaper path and, moving together, make it hot in turn and
// come back: the oscillation of adaptive routing with stale information.
// Two things spread them: the hold time differs per gateway (a
// deterministic jitter from the gateway's id), and the draw above lets only
// a share of them move per round, the larger the more there is to gain
// (the proportional migration of Fischer and Voecking, "Adaptive routing
// with stale information", PODC 2005, which converges where moving at once
// oscillates). A failed primary (rule 2) is never drawn: it moves at once.
// Backups: the best other candidates, preferring those sharing the fewest
// links with the primary; sticky: a backup still usable stays unless the
// ranking's choice shares fewer links with the primary or is cheaper by the
// hysteresis margin (each backup is a tunnel set up in advance).
//
// Paths are named by node ids, not indices, so a state survives topology
// rebuilds. Time is passed in (nanoseconds, any monotonic origin). Pure.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace meshgw::routing {

struct NamedPath {
  std::vector<std::string> nodes;
  double cost = 0;
};

struct SelectorConfig {
  double relative_margin = 0.10;
  double absolute_margin = 0.5;             // cost units (ms with default weights)
  std::uint64_t hold_ns = 10'000'000'000;   // 10 s
  double hold_jitter_fraction = 0.5;        // hold is in [hold, hold * (1 + fraction))
  // Herd damping (rule 3): the probability of a move per draw is
  // min(1, migration_rate x relative gain); 0 turns the draw off (a move
  // happens as the hold ends).
  double migration_rate = 0.5;
  std::size_t backups = 2;
  std::string gateway_id;                   // seeds the jitter
};

enum class SelectionReason : std::uint8_t { none, initial, better_for_hold, primary_failed, no_path, unchanged, pending };
const char* to_string(SelectionReason r) noexcept;

struct Selection {
  bool has_route = false;
  NamedPath primary;
  std::vector<NamedPath> backups;
  SelectionReason reason = SelectionReason::none;
  bool changed = false;  // the primary moved in this update
  // With a challenger pending: the probability its next draw moves the
  // primary (1 without damping); 0 otherwise.
  double move_probability = 0;
  bool drawn = false;    // pending: the hold is over and a draw was lost
};

class PathSelector {
 public:
  explicit PathSelector(SelectorConfig config) : config_(std::move(config)) {}

  // candidates: sorted by cost, best first (e.g. Yen's k shortest).
  Selection update(const std::string& destination, const std::string& traffic_class,
                   const std::vector<NamedPath>& candidates, std::uint64_t now_ns);
  // The hold time this gateway applies to a key (with its jitter).
  std::uint64_t hold_for(const std::string& destination, const std::string& traffic_class) const;
  // The probability that a draw moves a primary costing primary_cost to a
  // challenger costing challenger_cost (rule 3).
  double move_probability(double primary_cost, double challenger_cost) const noexcept;
  std::size_t switches() const noexcept { return switches_; }
  // Drops the state of destinations no longer in the mesh (a long-running
  // agent must not keep every gateway that ever left); returns how many keys went.
  std::size_t forget(const std::string& destination);
  std::size_t keep_only(const std::set<std::string>& destinations);
  std::size_t tracked() const noexcept { return states_.size(); }

 private:
  struct State {
    bool has_route = false;
    NamedPath primary;
    std::vector<std::vector<std::string>> backups;  // last handed out, kept while still good
    std::vector<std::string> pending;  // challenger nodes, empty if none
    std::uint64_t pending_since = 0;
    std::uint64_t next_draw_ns = 0;    // after a lost draw
    std::uint64_t draws = 0;           // every draw of this key, for fresh randomness
  };
  double draw_unit(const std::string& destination, const std::string& traffic_class, std::uint64_t draw) const;
  Selection finish(State& st, const std::vector<NamedPath>& candidates, SelectionReason reason, bool changed);

  SelectorConfig config_;
  std::map<std::pair<std::string, std::string>, State> states_;
  std::size_t switches_ = 0;
};

}  // namespace meshgw::routing
