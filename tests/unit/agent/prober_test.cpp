// SPDX-License-Identifier: BSD-3-Clause
// The TWAMP-light sender with injected clocks: probes paced per peer, the
// reflector's residence time taken out of the RTT, EWMA and jitter, loss
// over the window, down after consecutive losses (and up again on a reply),
// late, duplicate and forged replies refused, what beacons report, and the
// control thread's own stall not taken for loss.
#include "controlplane/agent/prober.hpp"

#include <gtest/gtest.h>

using namespace meshgw::agent;

namespace {

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kNtpUs = 4295;  // ~1 us in NTP 32.32 units (2^32 / 1e6)

ProbeReply reply_to(const ProbeToSend& p, double rtt_us, double residence_us = 50) {
  ProbeReply r;
  r.src_ipv4 = p.dst_ipv4;
  r.dst_port = p.src_port;
  r.seq = p.seq;
  r.t1_ntp = p.t1_ntp;
  r.t2_ntp = p.t1_ntp + static_cast<std::uint64_t>(rtt_us / 2 * 4294.967296);
  r.t3_ntp = r.t2_ntp + static_cast<std::uint64_t>(residence_us * 4294.967296);
  r.t4_ntp = p.t1_ntp + static_cast<std::uint64_t>((rtt_us + residence_us) * 4294.967296);
  return r;
}

TEST(Prober, PacedProbesAndRttWithoutTheReflectorsTime) {
  Prober p({.interval_ns = 100 * kMs});
  p.set_targets({{"gw-2", 0xc6120002}, {"gw-3", 0xc6120003}});
  auto sent = p.due(0, 1'000'000 * kNtpUs);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_NE(sent[0].src_port, sent[1].src_port);
  EXPECT_TRUE(p.due(50 * kMs, 0).empty());  // not yet
  ASSERT_TRUE(p.on_reply(reply_to(sent[0], 8000, 400), kMs));
  EXPECT_NEAR(p.stats().at("gw-2").rtt_us, 8000, 2);  // 8.4 ms end to end, 0.4 ms inside the reflector
  EXPECT_FALSE(p.on_reply(reply_to(sent[0], 8000), kMs));  // duplicate
  ProbeReply forged = reply_to(sent[1], 1000);
  forged.src_ipv4 = 0x0a000001;
  EXPECT_FALSE(p.on_reply(forged, kMs));
  forged = reply_to(sent[1], 1000);
  forged.t1_ntp ^= 1;  // not what was sent
  EXPECT_FALSE(p.on_reply(forged, kMs));
  // EWMA and jitter: 8 ms, then 10 ms.
  sent = p.due(100 * kMs, 2'000'000 * kNtpUs);
  ASSERT_TRUE(p.on_reply(reply_to(sent[0], 10000), 101 * kMs));
  EXPECT_NEAR(p.stats().at("gw-2").rtt_us, 8000 * 0.8 + 10000 * 0.2, 3);
  EXPECT_NEAR(p.stats().at("gw-2").jitter_us, 2000 * 0.2, 3);
}

TEST(Prober, LossWindowDownAfterConsecutiveLossesAndBackUp) {
  Prober p({.interval_ns = 10 * kMs, .not_up_interval_ns = 0, .timeout_ns = 50 * kMs, .window = 10, .down_after_lost = 3});
  p.set_targets({{"gw-2", 1}});
  std::uint64_t now = 0;
  auto step = [&](bool answer) {
    auto s = p.due(now, now * 10);
    if (answer) p.on_reply(reply_to(s.at(0), 1000), now);
    now += 10 * kMs;
    return p.expire(now);
  };
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(step(true).empty());
  EXPECT_TRUE(p.stats().at("gw-2").up);
  std::vector<std::string> down;
  for (int i = 0; i < 10 && down.empty(); ++i) down = step(false);
  ASSERT_EQ(down, std::vector<std::string>{"gw-2"});
  EXPECT_FALSE(p.stats().at("gw-2").up);
  // Lost probes are counted once their timeout passed: about 50 ms after the cut.
  EXPECT_EQ(p.stats().at("gw-2").consecutive_lost, 3u);
  EXPECT_GT(p.stats().at("gw-2").loss, 0.2);
  // What beacons say of a down peer: everything lost.
  ASSERT_EQ(p.neighbours().size(), 1u);
  EXPECT_EQ(p.neighbours()[0].loss_ppm, 1'000'000u);
  // A late reply to a lost probe is refused; a fresh one brings it back.
  for (int i = 0; i < 3; ++i) step(true);
  EXPECT_TRUE(p.stats().at("gw-2").up);
  EXPECT_LT(p.neighbours()[0].loss_ppm, 1'000'000u);
}

TEST(Prober, PeersNotUpAreProbedSlowly) {
  // Most pairs of a mesh have no direct link: a peer that never answered,
  // or went down, gets a probe a second instead of one per interval.
  Prober p({.interval_ns = 20 * kMs, .not_up_interval_ns = 1000 * kMs, .timeout_ns = 100 * kMs, .down_after_lost = 3});
  p.set_targets({{"gw-2", 2}, {"gw-3", 3}});
  std::map<std::string, int> probes;
  std::uint64_t now = 0;
  for (; now < 2000 * kMs; now += kMs) {
    for (const auto& s : p.due(now, now)) {
      ++probes[s.peer];
      if (s.peer == "gw-2" && now < 1000 * kMs) p.on_reply(reply_to(s, 1000), now);  // gw-2 answers for a second
    }
    p.expire(now);
  }
  // gw-3: at 0, 1 s (2 probes); gw-2: every 20 ms for the first second
  // and until 3 losses made it down, then once a second.
  EXPECT_EQ(probes["gw-3"], 2);
  EXPECT_GE(probes["gw-2"], 50 + 3);
  EXPECT_LE(probes["gw-2"], 50 + 8 + 2);
  EXPECT_FALSE(p.stats().at("gw-2").up);
}

TEST(Prober, TheControlThreadsOwnStallIsNotLoss) {
  // Probes sent, then the thread sleeps 400 ms (a busy machine): the replies
  // that wait unread are still matched, and nothing counts as lost for the
  // time the thread was away. Real silence afterwards still takes it down.
  Prober p({.interval_ns = 20 * kMs, .not_up_interval_ns = 0, .timeout_ns = 100 * kMs, .window = 20, .down_after_lost = 3,
            .stall_ns = 50 * kMs});
  p.set_targets({{"gw-2", 1}});
  std::uint64_t now = 0;
  std::vector<ProbeToSend> sent;
  for (; now < 60 * kMs; now += 10 * kMs) {
    for (const auto& s : p.due(now, now)) sent.push_back(s);
    p.expire(now);
  }
  ASSERT_EQ(sent.size(), 3u);
  ASSERT_TRUE(p.on_reply(reply_to(sent[0], 1000), now));  // the first answered before the stall
  now += 400 * kMs;  // the thread was away; the other two probes' replies never came
  EXPECT_TRUE(p.expire(now).empty());
  EXPECT_EQ(p.stats().at("gw-2").lost, 0u);
  EXPECT_TRUE(p.stats().at("gw-2").up);
  // Running again on 10 ms turns with no answers: down within about 100 ms
  // of the last probe's credited deadline plus three intervals.
  std::vector<std::string> down;
  const std::uint64_t resumed = now;
  for (; now < resumed + 300 * kMs && down.empty(); now += 10 * kMs) {
    p.due(now, now);
    down = p.expire(now);
  }
  ASSERT_EQ(down, std::vector<std::string>{"gw-2"});
  EXPECT_LE(now - resumed, 160 * kMs);
}

TEST(Prober, TargetsComeAndGo) {
  Prober p({});
  p.set_targets({{"a", 1}, {"b", 2}});
  const auto first = p.due(0, 0);
  p.set_targets({{"b", 2}, {"c", 3}});
  EXPECT_FALSE(p.stats().contains("a"));
  EXPECT_TRUE(p.stats().contains("c"));
  const auto again = p.due(1'000'000'000, 0);
  ASSERT_EQ(again.size(), 2u);
  // b keeps its port; c takes a's freed one.
  for (const auto& s : again) {
    if (s.peer == "b") {
      EXPECT_EQ(s.src_port, first[1].src_port);
    }
    if (s.peer == "c") {
      EXPECT_EQ(s.src_port, first[0].src_port);
    }
  }
  EXPECT_THROW(Prober({.interval_ns = 0}), std::invalid_argument);
  EXPECT_NEAR(Prober::ntp_us(4294967296ull, 0), 1e6, 1e-6);
}

}  // namespace
