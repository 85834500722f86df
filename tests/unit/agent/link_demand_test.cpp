// SPDX-License-Identifier: BSD-3-Clause
// Link demand from the mesh state's link loads: one sample per interval (not
// per call), bounded history, refits one link at a time, and a forecast that
// sees a rising load coming: predicted utilisation above the load now; refits
// on a thread of their own catch up on what came while they ran.
#include "controlplane/common/link_demand.hpp"

#include <gtest/gtest.h>

using namespace meshgw;
using namespace meshgw::common;
using nlohmann::json;

namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;

json links(double ab_mbps, double ba_mbps) {
  return json::array({{{"from", "gw-a"}, {"to", "gw-b"}, {"load_bps", ab_mbps * 1e6}, {"capacity_bps", 1e9}},
                      {{"from", "gw-b"}, {"to", "gw-a"}, {"load_bps", ba_mbps * 1e6}, {"capacity_bps", 1e9}},
                      {{"from", "", "to", "gw-a"}},  // malformed entries are skipped
                      {{"from", "gw-a"}, {"to", "gw-c"}, {"load_bps", -5.0}}});
}

// A sample a second, five ahead, a refit every 32 samples.
LinkDemandConfig every_second(std::size_t history) {
  LinkDemandConfig c;
  c.sample_interval_ns = kSecond;
  c.horizon = 5;
  c.history = history;
  c.refit_every = 32;
  return c;
}

TEST(LinkDemand, ARisingLoadIsPredictedAboveTheLoadNow) {
  LinkDemandConfig c = every_second(100);
  c.background_refits = false;  // counted exactly; the background is the next test's
  LinkDemand d(c);
  double load = 0;
  for (int i = 0; i < 200; ++i) {
    load = 100 + 2.0 * i;  // 2 Mbit/s more every second
    EXPECT_TRUE(d.sample(links(load, 50), static_cast<std::uint64_t>(i) * kSecond));
    EXPECT_FALSE(d.sample(links(9999, 9999), static_cast<std::uint64_t>(i) * kSecond + kSecond / 2));  // not due
  }
  EXPECT_EQ(d.series(), 2u);
  EXPECT_GE(d.refits(), 10u);  // both links about every 32 samples, one per turn
  EXPECT_LE(d.refits(), 12u);
  const auto ab = d.forecast_mbps("gw-a", "gw-b");
  ASSERT_TRUE(ab);
  EXPECT_GT(*ab, load + 5);   // the trend continues five samples ahead
  EXPECT_LT(*ab, load + 20);
  const auto ba = d.forecast_mbps("gw-b", "gw-a");
  ASSERT_TRUE(ba);
  EXPECT_NEAR(*ba, 50, 1);  // flat stays flat
  EXPECT_FALSE(d.forecast_mbps("gw-a", "gw-c"));
  EXPECT_FALSE(d.method("gw-a", "gw-b").empty());

  routing::Topology t;
  t.add_node({"gw-a"});
  t.add_node({"gw-b"});
  routing::Link l;
  l.src = 0;
  l.dst = 1;
  l.capacity_mbps = 1000;
  l.utilisation = load / 1000;
  t.add_link(l);
  EXPECT_EQ(d.apply(t), 1u);
  ASSERT_TRUE(t.links()[0].predicted_utilisation);
  EXPECT_GT(*t.links()[0].predicted_utilisation, l.utilisation);
}

TEST(LinkDemand, BackgroundRefitsCatchUpOnTheSamplesTakenMeanwhile) {
  LinkDemand d(every_second(400));
  double load = 0;
  for (int i = 0; i < 300; ++i) {
    load = 100 + 2.0 * i;
    ASSERT_TRUE(d.sample(links(load, 50), static_cast<std::uint64_t>(i) * kSecond));
    // Collected every 10 samples: each refit misses up to 9 it must catch up on.
    if (i % 10 == 9) d.finish_refit();
  }
  d.finish_refit();
  EXPECT_GE(d.refits(), 8u);
  const auto ab = d.forecast_mbps("gw-a", "gw-b");
  ASSERT_TRUE(ab);
  EXPECT_GT(*ab, load + 5) << d.method("gw-a", "gw-b");  // current: the samples after its history was copied were fed to it
  EXPECT_LT(*ab, load + 20);
  EXPECT_NEAR(*d.forecast_mbps("gw-b", "gw-a"), 50, 1);
}

}  // namespace
