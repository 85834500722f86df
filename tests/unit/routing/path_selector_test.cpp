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
  c.gateway_id = "gw-a";
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
