// SPDX-License-Identifier: BSD-3-Clause
// The TWAMP-light sender with injected clocks: probes paced per peer, the
// reflector's residence time taken out of the RTT, EWMA and jitter, loss
// over the window, down after consecutive losses (and up again on a reply),
// duplicate, too late and forged replies refused, what beacons report, the
// control thread's own stall not taken for loss, a silence of every peer at
// once held (ours, not theirs), and late replies bringing a peer back.
#include "controlplane/agent/prober.hpp"

#include <gtest/gtest.h>

#include <set>

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
  // One peer: nobody else to show our side hears, so no hold (silent_hold_ns 0).
  Prober p({.interval_ns = 10 * kMs, .not_up_interval_ns = 0, .timeout_ns = 50 * kMs, .window = 10, .down_after_lost = 3,
            .silent_hold_ns = 0});
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
  // A fresh reply brings it back.
  for (int i = 0; i < 3; ++i) step(true);
  EXPECT_TRUE(p.stats().at("gw-2").up);
  EXPECT_LT(p.neighbours()[0].loss_ppm, 1'000'000u);
}

TEST(Prober, PeersNotUpAreProbedSlowly) {
  // Most pairs of a mesh have no direct link: a peer that never answered,
  // or went down, gets a probe a second instead of one per interval.
  Prober p({.interval_ns = 20 * kMs, .not_up_interval_ns = 1000 * kMs, .timeout_ns = 100 * kMs, .down_after_lost = 3,
            .silent_hold_ns = 0});
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

TEST(Prober, TheControlThreadsOwnStallIsNotLossNorHidesACut) {
  // Probes sent, then the control thread is away 400 ms (a busy machine).
  // The replies that waited for it are handed in before expire(), as the
  // agent does: nothing is lost. A cut while the thread stays slow (turns
  // 150 ms apart) is still seen within a few turns, since the other
  // neighbour's replies show our side hears.
  Prober p({.interval_ns = 20 * kMs, .not_up_interval_ns = 0, .timeout_ns = 100 * kMs, .window = 20, .down_after_lost = 3});
  p.set_targets({{"gw-2", 2}, {"gw-3", 3}});
  std::uint64_t now = 0;
  std::vector<ProbeToSend> waiting;
  for (; now < 60 * kMs; now += 10 * kMs) {
    for (const auto& s : p.due(now, now)) waiting.push_back(s);
    p.expire(now);
  }
  ASSERT_EQ(waiting.size(), 6u);
  now += 400 * kMs;
  for (const auto& s : waiting) ASSERT_TRUE(p.on_reply(reply_to(s, 1000), now));
  EXPECT_TRUE(p.expire(now).empty());
  EXPECT_EQ(p.stats().at("gw-2").lost, 0u);
  EXPECT_EQ(p.stats().at("gw-3").lost, 0u);
  // gw-2's link is cut; gw-3 answers; the thread turns every 150 ms.
  std::vector<std::string> down;
  const std::uint64_t cut = now;
  std::vector<ProbeToSend> from_gw3;
  for (; now < cut + 2000 * kMs && down.empty(); now += 150 * kMs) {
    for (const auto& s : from_gw3) p.on_reply(reply_to(s, 1000), now);
    from_gw3.clear();
    for (const auto& s : p.due(now, now))
      if (s.peer == "gw-3") from_gw3.push_back(s);
    down = p.expire(now);
  }
  ASSERT_EQ(down, std::vector<std::string>{"gw-2"});
  EXPECT_LE(now - cut, 4 * 150 * kMs + kMs);
}

// Two neighbours up; probes every 20 ms, 100 ms timeout, down after 3.
struct TwoPeers {
  Prober p{{.interval_ns = 20 * kMs, .not_up_interval_ns = 0, .timeout_ns = 100 * kMs, .window = 50,
            .down_after_lost = 3, .silent_hold_ns = 1000 * kMs}};
  std::uint64_t now = 0;
  std::vector<ProbeToSend> unanswered;
  TwoPeers() {
    p.set_targets({{"gw-2", 2}, {"gw-3", 3}});
    run(200 * kMs, {"gw-2", "gw-3"});
  }
  // 1 ms turns for `span`; the peers in `answering` reply at once, the
  // others' probes are kept unanswered. Returns the peers that went down.
  std::vector<std::string> run(std::uint64_t span, const std::set<std::string>& answering) {
    std::vector<std::string> down;
    for (const std::uint64_t end = now + span; now < end; now += kMs) {
      for (const auto& s : p.due(now, now * kNtpUs / 1000))
        if (answering.contains(s.peer)) {
          p.on_reply(reply_to(s, 1000), now);
        } else {
          unanswered.push_back(s);
        }
      for (auto& d : p.expire(now)) down.push_back(d);
    }
    return down;
  }
};

TEST(Prober, EveryPeerSilentAtOnceIsOurStallAndIsHeld) {
  // Our worker stalls for 300 ms: no peer's reply comes, then all of them
  // arrive late. Nobody goes down, and the loss the timeouts counted is
  // taken back.
  TwoPeers t;
  EXPECT_TRUE(t.run(300 * kMs, {}).empty());
  EXPECT_TRUE(t.p.stats().at("gw-2").up);
  EXPECT_TRUE(t.p.stats().at("gw-3").up);
  EXPECT_GE(t.p.stats().at("gw-2").consecutive_lost, 3u);
  EXPECT_EQ(t.p.stats().at("gw-2").held, 1u);
  EXPECT_GT(t.p.stats().at("gw-2").loss, 0.0);
  // The replies held up by the stall: those already timed out (late) show
  // the stall in their timestamps; the few still in flight the link's RTT.
  const std::uint64_t in_flight_t1 = (t.now - kMs - 100 * kMs) * kNtpUs / 1000;  // at the last expire()
  auto delayed = [&](const ProbeToSend& s) { return reply_to(s, s.t1_ntp > in_flight_t1 ? 1000 : 250'000); };
  for (const auto& s : t.unanswered) EXPECT_TRUE(t.p.on_reply(delayed(s), t.now)) << s.seq;
  for (const auto& s : t.unanswered) EXPECT_FALSE(t.p.on_reply(delayed(s), t.now)) << "duplicate";
  for (const char* id : {"gw-2", "gw-3"}) {
    const PeerProbeStats& s = t.p.stats().at(id);
    EXPECT_TRUE(s.up);
    EXPECT_EQ(s.consecutive_lost, 0u);
    EXPECT_GE(s.late, 10u);
    EXPECT_EQ(s.loss, 0.0) << id << ": every late probe answered after all";
    EXPECT_LT(s.rtt_us, 2000) << "the stall is not the link's RTT";
  }
}

TEST(Prober, OnePeerSilentWhileAnotherAnswersGoesDownFast) {
  // A cut of one link: the other neighbour keeps answering, so the silence
  // is the link's: down 3 probes and a timeout after the cut.
  TwoPeers t;
  const std::uint64_t cut = t.now;
  std::vector<std::string> down;
  while (down.empty() && t.now < cut + 1000 * kMs) down = t.run(kMs, {"gw-3"});
  ASSERT_EQ(down, std::vector<std::string>{"gw-2"});
  EXPECT_LE(t.now - cut, 100 * kMs + 3 * 20 * kMs + 2 * kMs);
  EXPECT_TRUE(t.p.stats().at("gw-3").up);
  EXPECT_EQ(t.p.stats().at("gw-2").held, 0u);
  // A late reply (the link was only slow) brings it back at once; one
  // older than late_ns is refused.
  ASSERT_TRUE(t.p.on_reply(reply_to(t.unanswered.front(), 1000), t.now));
  EXPECT_TRUE(t.p.stats().at("gw-2").up);
  EXPECT_EQ(t.p.stats().at("gw-2").late, 1u);
  t.run(2500 * kMs, {"gw-3"});
  EXPECT_FALSE(t.p.stats().at("gw-2").up);
  EXPECT_FALSE(t.p.on_reply(reply_to(t.unanswered.at(1), 1000), t.now)) << "past late_ns";
}

TEST(Prober, EveryLinkDownStillGoesDownAfterTheSilentHold) {
  // Not a stall: every link really failed. Down once the hold has passed.
  TwoPeers t;
  const std::uint64_t cut = t.now;
  std::vector<std::string> down;
  while (down.empty() && t.now < cut + 2000 * kMs) down = t.run(kMs, {});
  EXPECT_EQ(down.size(), 2u);
  EXPECT_GE(t.now - cut, 1000 * kMs);
  EXPECT_LE(t.now - cut, 1000 * kMs + 5 * kMs);
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
