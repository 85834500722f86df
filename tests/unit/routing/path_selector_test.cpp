// SPDX-License-Identifier: BSD-3-Clause
#include "routing/path_selector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace meshgw::routing {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;

NamedPath path(std::vector<std::string> nodes, double cost) { return {std::move(nodes), cost}; }

SelectorConfig config() {
  SelectorConfig c;
  c.hold_ns = 10 * kSecond;
  c.hold_jitter_fraction = 0;  // exact times in these tests
  c.migration_rate = 0;        // and moves as the hold ends (the draw has its own tests)
  c.gateway_id = "gw-a";
  return c;
}

SelectorConfig damped(const std::string& gateway) {
  SelectorConfig c = config();
  c.migration_rate = 0.5;
  c.gateway_id = gateway;
  return c;
}

const NamedPath kViaB = path({"a", "b", "z"}, 20);
const NamedPath kViaC = path({"a", "c", "z"}, 25);

TEST(PathSelector, FirstAnswerIsTakenAtOnce) {
  PathSelector s(config());
  const auto sel = s.update("z", "default", {kViaB, kViaC}, 0);
  EXPECT_TRUE(sel.changed);
  EXPECT_EQ(sel.reason, SelectionReason::initial);
  EXPECT_EQ(sel.primary.nodes, kViaB.nodes);
  ASSERT_EQ(sel.backups.size(), 1u);
  EXPECT_EQ(sel.backups[0].nodes, kViaC.nodes);
}

TEST(PathSelector, ABetterPathMustStayBetterForTheHoldTime) {
  PathSelector s(config());
  s.update("z", "default", {kViaB, kViaC}, 0);
  // c becomes clearly better (15 < 20 * 0.9) from t = 1 s.
  for (std::uint64_t t = 1; t <= 10; ++t) {
    const auto sel = s.update("z", "default", {path(kViaC.nodes, 15), path(kViaB.nodes, 20)}, t * kSecond);
    EXPECT_FALSE(sel.changed) << t;
    EXPECT_EQ(sel.primary.nodes, kViaB.nodes);
    EXPECT_EQ(sel.reason, SelectionReason::pending);
  }
  const auto sel = s.update("z", "default", {path(kViaC.nodes, 15), path(kViaB.nodes, 20)}, 11 * kSecond);
  EXPECT_TRUE(sel.changed);
  EXPECT_EQ(sel.reason, SelectionReason::better_for_hold);
  EXPECT_EQ(sel.primary.nodes, kViaC.nodes);
  EXPECT_EQ(s.switches(), 2u);
}

TEST(PathSelector, SmallGainsDoNotSwitch) {
  PathSelector s(config());
  s.update("z", "default", {kViaB, kViaC}, 0);
  for (std::uint64_t t = 1; t < 100; ++t) {
    // 19 vs 20: within the 10% margin.
    const auto sel = s.update("z", "default", {path(kViaC.nodes, 19), path(kViaB.nodes, 20)}, t * kSecond);
    ASSERT_FALSE(sel.changed);
    ASSERT_EQ(sel.reason, SelectionReason::unchanged);
  }
}

TEST(PathSelector, OscillatingMetricsNeverFlap) {
  PathSelector s(config());
  s.update("z", "default", {kViaB, kViaC}, 0);
  // The challenger is better on odd seconds, worse on even ones, for an hour.
  for (std::uint64_t t = 1; t < 3600; ++t) {
    const double c_cost = (t % 2) ? 10 : 30;
    std::vector<NamedPath> cands = {path(kViaB.nodes, 20), path(kViaC.nodes, c_cost)};
    std::sort(cands.begin(), cands.end(), [](const auto& x, const auto& y) { return x.cost < y.cost; });
    ASSERT_FALSE(s.update("z", "default", cands, t * kSecond).changed) << t;
  }
  EXPECT_EQ(s.switches(), 1u);
}

TEST(PathSelector, FailedPrimaryIsReplacedAtOnce) {
  PathSelector s(config());
  s.update("z", "default", {kViaB, kViaC}, 0);
  const auto sel = s.update("z", "default", {kViaC}, 1);  // b went down
  EXPECT_TRUE(sel.changed);
  EXPECT_EQ(sel.reason, SelectionReason::primary_failed);
  EXPECT_EQ(sel.primary.nodes, kViaC.nodes);
  const auto none = s.update("z", "default", {}, 2);
  EXPECT_FALSE(none.has_route);
  EXPECT_TRUE(none.changed);
  EXPECT_EQ(none.reason, SelectionReason::no_path);
}

TEST(PathSelector, BackupsPreferDisjointPaths) {
  PathSelector s(config());
  const auto sel = s.update("z", "default",
                            {path({"a", "b", "z"}, 10), path({"a", "b", "y", "z"}, 11), path({"a", "c", "z"}, 12)}, 0);
  ASSERT_EQ(sel.backups.size(), 2u);
  EXPECT_EQ(sel.backups[0].nodes, (std::vector<std::string>{"a", "c", "z"}));
}

std::set<std::vector<std::string>> backup_set(const Selection& sel) {
  std::set<std::vector<std::string>> out;
  for (const auto& b : sel.backups) out.insert(b.nodes);
  return out;
}

TEST(PathSelector, BackupsStayWhileStillGood) {
  PathSelector s(config());
  const std::vector<std::string> via_c = {"a", "c", "z"}, via_d = {"a", "d", "z"}, via_e = {"a", "e", "z"};
  const auto first = s.update("z", "default", {path(kViaB.nodes, 10), path(via_c, 20), path(via_d, 21), path(via_e, 22)}, 0);
  ASSERT_EQ(backup_set(first), (std::set<std::vector<std::string>>{via_c, via_d}));
  // e and d swap places by a little, again and again: the backups stay.
  for (std::uint64_t t = 1; t < 50; ++t) {
    const double d = (t % 2) ? 21.5 : 20.5, e = (t % 2) ? 20.8 : 21.6;
    std::vector<NamedPath> cands = {path(kViaB.nodes, 10), path(via_c, 20), path(via_d, d), path(via_e, e)};
    std::sort(cands.begin(), cands.end(), [](const auto& x, const auto& y) { return x.cost < y.cost; });
    ASSERT_EQ(backup_set(s.update("z", "default", cands, t * kSecond)), (std::set<std::vector<std::string>>{via_c, via_d}))
        << t;
  }
  // d fails: e takes its place.
  auto sel = s.update("z", "default", {path(kViaB.nodes, 10), path(via_c, 20), path(via_e, 22)}, 60 * kSecond);
  EXPECT_EQ(backup_set(sel), (std::set<std::vector<std::string>>{via_c, via_e}));
  // d is back, and clearly cheaper than e (beyond the 10 % margin): it displaces e.
  sel = s.update("z", "default", {path(kViaB.nodes, 10), path(via_d, 15), path(via_c, 20), path(via_e, 22)}, 61 * kSecond);
  EXPECT_EQ(backup_set(sel), (std::set<std::vector<std::string>>{via_c, via_d}));
  // The best backup first, as the ranking orders them.
  EXPECT_EQ(sel.backups[0].nodes, via_d);
}

TEST(PathSelector, AMoreDisjointPathDisplacesAStickyBackup) {
  const std::vector<std::string> shares_b = {"a", "b", "y", "z"}, via_d = {"a", "d", "z"};
  SelectorConfig one = config();
  one.backups = 1;
  PathSelector single(one);
  auto sel = single.update("z", "default", {path(kViaB.nodes, 10), path(shares_b, 11)}, 0);
  ASSERT_EQ(sel.backups.at(0).nodes, shares_b);
  // A path sharing no link with the primary appears, even a dearer one: it is the backup.
  sel = single.update("z", "default", {path(kViaB.nodes, 10), path(shares_b, 11), path(via_d, 30)}, kSecond);
  EXPECT_EQ(sel.backups.at(0).nodes, via_d);
}

TEST(PathSelector, KeysAreIndependentAndHoldIsSpreadPerGateway) {
  SelectorConfig c = config();
  c.hold_jitter_fraction = 0.5;
  std::set<std::uint64_t> holds;
  for (const char* gw : {"gw-1", "gw-2", "gw-3", "gw-4", "gw-5"}) {
    c.gateway_id = gw;
    PathSelector s(c);
    const std::uint64_t h = s.hold_for("z", "default");
    EXPECT_GE(h, c.hold_ns);
    EXPECT_LT(h, c.hold_ns + c.hold_ns / 2);
    EXPECT_EQ(h, PathSelector(c).hold_for("z", "default")) << "deterministic";
    holds.insert(h);
  }
  EXPECT_EQ(holds.size(), 5u);
  PathSelector s(config());
  s.update("z", "default", {kViaB}, 0);
  EXPECT_EQ(s.update("z", "realtime", {kViaC}, 0).reason, SelectionReason::initial);
}

// Destinations that leave the mesh leave the selector too.
TEST(PathSelector, StateOfDepartedDestinationsIsDropped) {
  PathSelector s(config());
  s.update("z", "default", {kViaB}, 0);
  s.update("z", "realtime", {kViaB}, 0);
  s.update("y", "default", {kViaC}, 0);
  EXPECT_EQ(s.tracked(), 3u);
  EXPECT_EQ(s.forget("z"), 2u);
  EXPECT_EQ(s.tracked(), 1u);
  EXPECT_EQ(s.keep_only({"x"}), 1u);
  EXPECT_EQ(s.tracked(), 0u);
  // A returning destination starts afresh.
  EXPECT_EQ(s.update("z", "default", {kViaC}, 0).reason, SelectionReason::initial);
}

}  // namespace
}  // namespace meshgw::routing

namespace meshgw::routing {
namespace {

// Many gateways holding the same primary see the same cheaper challenger:
// how many of them have moved after the hold and after each redraw.
std::vector<std::size_t> moved_by_round(double primary_cost, double challenger_cost, std::size_t gateways,
                                        std::size_t rounds) {
  std::vector<PathSelector> selectors;
  for (std::size_t g = 0; g < gateways; ++g) selectors.emplace_back(damped("gw-" + std::to_string(g)));
  std::vector<bool> moved(gateways, false);
  for (auto& s : selectors) s.update("z", "default", {kViaB, kViaC}, 0);
  const std::vector<NamedPath> cands = {path(kViaC.nodes, challenger_cost), path(kViaB.nodes, primary_cost)};
  for (auto& s : selectors) s.update("z", "default", cands, 1);  // the challenger appears
  std::vector<std::size_t> out;
  // Draws at the hold's end (10 s), then every third of the hold.
  for (std::size_t r = 0; r < rounds; ++r) {
    const std::uint64_t t = 1 + 10 * kSecond + r * (10 * kSecond / 3);
    for (std::size_t g = 0; g < gateways; ++g) {
      if (moved[g]) continue;
      const Selection sel = selectors[g].update("z", "default", cands, t);
      if (sel.changed) {
        EXPECT_EQ(sel.reason, SelectionReason::better_for_hold);
        moved[g] = true;
      } else {
        EXPECT_EQ(sel.reason, SelectionReason::pending);
        EXPECT_TRUE(sel.drawn);
      }
    }
    out.push_back(static_cast<std::size_t>(std::count(moved.begin(), moved.end(), true)));
  }
  return out;
}

TEST(PathSelectorHerdDamping, AShareOfTheGatewaysMovesPerRoundInProportionToTheGain) {
  // Gain 0.8 at rate 0.5: 40 % of those still waiting move per draw.
  const auto hot = moved_by_round(100, 20, 1000, 3);
  EXPECT_GT(hot[0], 330u);
  EXPECT_LT(hot[0], 470u);
  const double second = static_cast<double>(hot[1] - hot[0]) / static_cast<double>(1000 - hot[0]);
  EXPECT_GT(second, 0.33);
  EXPECT_LT(second, 0.47);
  EXPECT_GT(hot[2], hot[1]);
  // Gain 0.2: 10 % per draw.
  const auto mild = moved_by_round(100, 80, 1000, 1);
  EXPECT_GT(mild[0], 60u);
  EXPECT_LT(mild[0], 140u);
}

TEST(PathSelectorHerdDamping, ALostDrawWaitsAThirdOfTheHold) {
  // Find a gateway whose first draw is lost, then check it is not drawn again early.
  for (int g = 0; g < 100; ++g) {
    PathSelector s(damped("gw-" + std::to_string(g)));
    s.update("z", "default", {kViaB, kViaC}, 0);
    const std::vector<NamedPath> cands = {path(kViaC.nodes, 88), path(kViaB.nodes, 100)};  // p = 0.06
    s.update("z", "default", cands, kSecond);
    const Selection first = s.update("z", "default", cands, 11 * kSecond);
    if (first.changed) continue;
    EXPECT_NEAR(first.move_probability, 0.06, 1e-12);
    EXPECT_TRUE(first.drawn);
    for (std::uint64_t ms = 11'001; ms < 11'000 + 3'333; ms += 50)
      ASSERT_FALSE(s.update("z", "default", cands, ms * 1'000'000).changed) << ms;
    return;
  }
  FAIL() << "every one of 100 gateways won a draw of probability 0.06";
}

TEST(PathSelectorHerdDamping, AFailedPrimaryIsNeverDrawn) {
  PathSelector s(damped("gw-x"));
  s.update("z", "default", {kViaB, kViaC}, 0);
  const auto sel = s.update("z", "default", {path(kViaC.nodes, 25)}, kSecond);
  EXPECT_TRUE(sel.changed);
  EXPECT_EQ(sel.reason, SelectionReason::primary_failed);
}

TEST(PathSelectorHerdDamping, DrawsAreTheGatewaysOwnAndRepeatable) {
  auto run = [](const std::string& gw) {
    PathSelector s(damped(gw));
    s.update("z", "default", {kViaB, kViaC}, 0);
    const std::vector<NamedPath> cands = {path(kViaC.nodes, 50), path(kViaB.nodes, 100)};
    s.update("z", "default", cands, 1);
    for (std::uint64_t r = 0; r < 200; ++r)
      if (s.update("z", "default", cands, 1 + 10 * kSecond + r * (10 * kSecond / 3)).changed) return r;
    return std::uint64_t{1000};
  };
  EXPECT_EQ(run("gw-1"), run("gw-1"));
  std::set<std::uint64_t> rounds;
  for (int g = 0; g < 40; ++g) rounds.insert(run("gw-" + std::to_string(g)));
  EXPECT_GE(rounds.size(), 4u);  // p = 0.25: the gateways move over several rounds
  EXPECT_FALSE(rounds.contains(1000));
}

TEST(PathSelectorHerdDamping, AChallengerThatStopsBeingBetterStartsOver) {
  PathSelector s(damped("gw-3"));
  s.update("z", "default", {kViaB, kViaC}, 0);
  const std::vector<NamedPath> cheaper = {path(kViaC.nodes, 98), path(kViaB.nodes, 100)};  // within the margin
  const std::vector<NamedPath> better = {path(kViaC.nodes, 60), path(kViaB.nodes, 100)};
  s.update("z", "default", better, kSecond);
  s.update("z", "default", cheaper, 2 * kSecond);  // resets
  const auto sel = s.update("z", "default", better, 3 * kSecond);
  EXPECT_EQ(sel.reason, SelectionReason::pending);
  EXPECT_FALSE(sel.drawn);  // a new hold, no draw yet
  EXPECT_FALSE(s.update("z", "default", better, 12 * kSecond).changed);  // 9 s into the new hold
}

TEST(PathSelectorHerdDamping, RateZeroMovesEveryGatewayAtTheHoldsEnd) {
  for (int g = 0; g < 50; ++g) {
    SelectorConfig c = damped("gw-" + std::to_string(g));
    c.migration_rate = 0;
    PathSelector s(c);
    s.update("z", "default", {kViaB, kViaC}, 0);
    const std::vector<NamedPath> cands = {path(kViaC.nodes, 85), path(kViaB.nodes, 100)};
    s.update("z", "default", cands, 1);
    ASSERT_TRUE(s.update("z", "default", cands, 1 + 10 * kSecond).changed) << g;
  }
}

}  // namespace
}  // namespace meshgw::routing
