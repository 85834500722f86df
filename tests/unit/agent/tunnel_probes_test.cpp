// SPDX-License-Identifier: BSD-3-Clause
// End-to-end tunnel probes with an injected clock: one probe per own tunnel
// per interval, sent on its outbound SPI; a tunnel whose replies stop is
// dead (and answering again brings it back); a tunnel that never answers is
// dead too; a dead tunnel's path is set up again at most once per backoff;
// peers' tunnels are not ours to probe; a tunnel that goes is forgotten.
#include "controlplane/agent/tunnel_probes.hpp"

#include <gtest/gtest.h>

using namespace meshgw::agent;

namespace {

constexpr std::uint64_t kMs = 1'000'000;

ReadyTunnel tunnel(const std::string& id, std::uint32_t out_spi, std::vector<std::string> path, bool own = true) {
  ReadyTunnel t;
  t.id = id;
  t.out_spi = out_spi;
  t.in_spi = out_spi + 1;
  t.path = std::move(path);
  t.egress = t.path.back();
  t.own = own;
  return t;
}

ProbeReply reply_to(const ProbeToSend& p) {
  return {p.dst_ipv4, p.src_port, p.seq, p.t1_ntp, p.t1_ntp + 100, p.t1_ntp + 200, p.t1_ntp + 5000};
}

TEST(TunnelProbes, DeadWhenRepliesStopAliveWhenTheyComeBack) {
  // t1 is the only tunnel that ever answers, so nothing shows our side
  // hears when it stops: no silent hold here (Prober's tests cover it).
  TunnelProbes tp({.interval_ns = 100 * kMs, .timeout_ns = 200 * kMs, .down_after_lost = 3, .silent_hold_ns = 0,
                   .rekey_backoff_min_ns = 1000 * kMs, .rekey_backoff_max_ns = 4000 * kMs});
  const std::vector<ReadyTunnel> tunnels = {tunnel("t1", 0x1001, {"gw-1", "gw-2"}),
                                            tunnel("t2", 0x1003, {"gw-1", "gw-3", "gw-2"}),
                                            tunnel("p1", 0x2001, {"gw-1", "gw-4"}, false)};
  tp.set_tunnels(tunnels, [](const std::string& g) { return g == "gw-2" ? 0xc6120002u : 0u; });
  bool t1_answers = true;
  std::vector<TunnelProbes::Change> changes;
  std::uint64_t now = 0;
  auto run_until = [&](std::uint64_t end) {
    for (; now < end; now += 10 * kMs) {
      for (const auto& p : tp.due(now, now)) {
        EXPECT_NE(p.probe.peer, "p1") << "a peer's tunnel is its ingress's to probe";
        EXPECT_EQ(p.out_spi, p.probe.peer == "t1" ? 0x1001u : 0x1003u);
        EXPECT_EQ(p.probe.dst_ipv4, 0xc6120002u);  // the egress's address as the inner destination
        if (p.probe.peer == "t1" && t1_answers) {
          EXPECT_TRUE(tp.on_reply(reply_to(p.probe), now + kMs));
        }
      }
      for (const auto& c : tp.expire(now)) changes.push_back(c);
    }
  };
  run_until(1000 * kMs);
  // t2 never answered: dead; t1 answers: alive.
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].tunnel, "t2");
  EXPECT_TRUE(changes[0].dead);
  EXPECT_FALSE(tp.dead("t1"));
  EXPECT_TRUE(tp.stats().at("t1").measured);
  changes.clear();
  // t1's replies stop (its egress restarted): dead within about 3 intervals + timeout.
  t1_answers = false;
  const std::uint64_t cut = now;
  while (changes.empty() && now < cut + 2000 * kMs) run_until(now + 10 * kMs);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].tunnel, "t1");
  EXPECT_TRUE(changes[0].dead);
  EXPECT_LE(now - cut, 600 * kMs);
  // Set up again at once, then not within the backoff, then again after it.
  EXPECT_TRUE(tp.take_rekey(tunnels[0].path, now));
  EXPECT_FALSE(tp.take_rekey(tunnels[0].path, now + 500 * kMs));
  EXPECT_TRUE(tp.take_rekey(tunnels[0].path, now + 1000 * kMs));
  EXPECT_FALSE(tp.take_rekey(tunnels[0].path, now + 2500 * kMs));  // doubled: 2 s
  // Answering again: alive, and the backoff starts over.
  changes.clear();
  t1_answers = true;
  run_until(now + 500 * kMs);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].tunnel, "t1");
  EXPECT_FALSE(changes[0].dead);
  EXPECT_TRUE(tp.take_rekey(tunnels[0].path, now));
  // A tunnel that goes is forgotten, dead or not.
  tp.set_tunnels({tunnels[0]}, nullptr);
  EXPECT_FALSE(tp.dead("t2"));
  EXPECT_FALSE(tp.stats().contains("t2"));
}

}  // namespace
