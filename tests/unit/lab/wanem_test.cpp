// SPDX-License-Identifier: BSD-3-Clause
// The WAN emulator's link model (delay, jitter without reordering, loss,
// rate limit and its bounded queue, cut) and its parsers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "controlplane/common/toml_reader.hpp"
#include "link_shaper.hpp"
#include "wanem_config.hpp"

namespace meshgw::lab {
namespace {

constexpr std::uint64_t kMs = 1000000;

TEST(LinkShaper, DelaysEveryFrameByThePropagationDelay) {
  LinkShaper s({.delay_ms = 7.5}, 1);
  for (std::uint64_t t = 0; t < 10; ++t) {
    const auto v = s.admit(t * kMs, 1000);
    ASSERT_EQ(v.drop, LinkDrop::none);
    EXPECT_EQ(v.release_ns, t * kMs + 7500000);
    EXPECT_EQ(v.queued_ns, 0u);
  }
}

TEST(LinkShaper, RateLimitSerialisesFramesBackToBack) {
  // 8 Mbit/s: a 1000-byte frame takes 1 ms on the wire.
  LinkShaper s({.delay_ms = 2, .rate_mbit = 8, .queue_ms = 1000}, 1);
  for (std::uint64_t k = 0; k < 5; ++k) {
    const auto v = s.admit(0, 1000);  // a burst arriving at once
    ASSERT_EQ(v.drop, LinkDrop::none);
    EXPECT_EQ(v.queued_ns, k * kMs);
    EXPECT_EQ(v.release_ns, (k + 1) * kMs + 2 * kMs);
  }
  EXPECT_EQ(s.queued_bytes(0), 5000u);
  EXPECT_EQ(s.queued_bytes(5 * kMs), 0u);
  // An idle link starts again at once.
  EXPECT_EQ(s.admit(100 * kMs, 1000).release_ns, 103 * kMs);
}

TEST(LinkShaper, QueueLimitDropsWhatWouldWaitTooLong) {
  LinkShaper s({.rate_mbit = 8, .queue_ms = 10}, 1);
  int admitted = 0, dropped = 0;
  for (int k = 0; k < 100; ++k) {
    const auto v = s.admit(0, 1000);
    (v.drop == LinkDrop::queue_full ? dropped : admitted) += 1;
    if (v.drop != LinkDrop::none) {
      EXPECT_EQ(v.drop, LinkDrop::queue_full);
    }
  }
  // Waits of 0, 1, ... 10 ms are allowed: 11 frames.
  EXPECT_EQ(admitted, 11);
  EXPECT_EQ(dropped, 89);
  // Offered at twice the rate for a second: about half is carried.
  LinkShaper t({.rate_mbit = 8, .queue_ms = 10}, 1);
  int carried = 0;
  for (int k = 0; k < 2000; ++k) carried += t.admit(static_cast<std::uint64_t>(k) * kMs / 2, 1000).drop == LinkDrop::none;
  EXPECT_NEAR(carried, 1000, 15);
}

TEST(LinkShaper, LossIsTheConfiguredFraction) {
  LinkShaper s({.loss = 0.1}, 42);
  int lost = 0;
  for (int k = 0; k < 100000; ++k) lost += s.admit(static_cast<std::uint64_t>(k), 100).drop == LinkDrop::loss;
  EXPECT_NEAR(lost / 100000.0, 0.1, 0.005);
}

TEST(LinkShaper, JitterVariesTheDelayButNeverReorders) {
  LinkShaper s({.delay_ms = 10, .jitter_ms = 2}, 7);
  std::uint64_t last = 0;
  double sum = 0, sum2 = 0;
  const int n = 20000;
  for (int k = 0; k < n; ++k) {
    const std::uint64_t now = static_cast<std::uint64_t>(k) * 10 * kMs;  // far apart: no FIFO effect
    const auto v = s.admit(now, 100);
    ASSERT_GE(v.release_ns, last);
    last = v.release_ns;
    const double d = static_cast<double>(v.release_ns - now) / kMs;
    sum += d;
    sum2 += d * d;
  }
  const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
  EXPECT_NEAR(mean, 10, 0.1);
  EXPECT_NEAR(sd, 2, 0.15);
  // Frames close together keep their order even with jitter.
  LinkShaper close({.delay_ms = 10, .jitter_ms = 2}, 7);
  last = 0;
  for (int k = 0; k < 1000; ++k) {
    const auto v = close.admit(static_cast<std::uint64_t>(k) * 10000, 100);
    ASSERT_GE(v.release_ns, last);
    last = v.release_ns;
  }
}

TEST(LinkShaper, CutDropsEverythingAndRestoreBringsItBack) {
  LinkShaper s({.delay_ms = 1}, 1);
  LinkParams p = s.params();
  p.up = false;
  s.set(p);
  EXPECT_EQ(s.admit(0, 100).drop, LinkDrop::cut);
  p.up = true;
  s.set(p);
  EXPECT_EQ(s.admit(kMs, 100).drop, LinkDrop::none);
}

TEST(LinkShaper, NetworkControlCrossesACongestedLinkAndTakesItsLineTime) {
  // 8 Mbit/s, 10 ms of queue: data offered at twice the rate fills it.
  LinkShaper s({.delay_ms = 5, .rate_mbit = 8, .queue_ms = 10}, 1);
  int data_dropped = 0, control_dropped = 0;
  std::uint64_t worst_control_wait = 0;
  std::uint64_t last_control_release = 0;
  for (int k = 0; k < 2000; ++k) {
    const std::uint64_t t = static_cast<std::uint64_t>(k) * kMs / 2;
    data_dropped += s.admit(t, 1000).drop == LinkDrop::queue_full;
    if (k % 20 == 0) {  // a 100-byte probe every 10 ms
      const auto v = s.admit(t, 100, true);
      control_dropped += v.drop != LinkDrop::none;
      worst_control_wait = std::max(worst_control_wait, v.queued_ns);
      EXPECT_GE(v.release_ns, last_control_release);  // in order among themselves
      EXPECT_LT(v.release_ns, t + 6 * kMs);            // ahead of the 10 ms of data queued
      last_control_release = v.release_ns;
    }
  }
  EXPECT_GT(data_dropped, 900);
  EXPECT_EQ(control_dropped, 0);
  EXPECT_LT(worst_control_wait, kMs / 10);
  // Their line time delays the data behind them: a frame just after a probe
  // waits the probe's 0.1 ms more than one just before it.
  LinkShaper q({.rate_mbit = 8, .queue_ms = 100}, 1);
  q.admit(0, 1000);
  q.admit(0, 100, true);
  EXPECT_EQ(q.admit(0, 1000).queued_ns, kMs + kMs / 10);
  // A cut and random loss still take them.
  LinkShaper cut({.up = false}, 1);
  EXPECT_EQ(cut.admit(0, 100, true).drop, LinkDrop::cut);
}

TEST(LinkShaper, NetworkControlIsDscpCs6OrCs7) {
  std::uint8_t frame[64] = {};
  frame[12] = 0x08;
  frame[14] = 0x45;
  EXPECT_FALSE(is_network_control(frame, sizeof frame));
  frame[15] = 0xc0;  // CS6
  EXPECT_TRUE(is_network_control(frame, sizeof frame));
  frame[15] = 0xe0;  // CS7
  EXPECT_TRUE(is_network_control(frame, sizeof frame));
  frame[15] = 0xb8;  // EF: data, however urgent
  EXPECT_FALSE(is_network_control(frame, sizeof frame));
  frame[15] = 0xc0;
  frame[13] = 0xdd;  // not IPv4
  EXPECT_FALSE(is_network_control(frame, sizeof frame));
  frame[13] = 0x00;
  EXPECT_FALSE(is_network_control(frame, 20));  // too short for an IPv4 header
}

TEST(DelayHistogram, QuantilesAtBinResolution) {
  DelayHistogram h;
  EXPECT_EQ(h.quantile_ms(0.99), 0);
  for (int k = 0; k < 100; ++k) h.record(static_cast<std::uint64_t>(k) * kMs);  // 0..99 ms
  EXPECT_NEAR(h.quantile_ms(0.5), 49, 0.11);
  EXPECT_NEAR(h.quantile_ms(0.99), 98, 0.11);
  EXPECT_NEAR(h.max_ms(), 99, 1e-9);
  h.record(5000 * kMs);  // beyond the last bin: counted there
  EXPECT_NEAR(h.quantile_ms(1.0), 1999.9, 0.11);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
}

TEST(WanemCommand, ParsesEveryCommand) {
  auto c = parse_command("cut c1-c2");
  ASSERT_EQ(c.error, "");
  EXPECT_EQ(c.command.kind, Command::Kind::cut);
  EXPECT_EQ(c.command.from, "c1");
  EXPECT_EQ(c.command.to, "c2");
  EXPECT_TRUE(c.command.both_directions);
  c = parse_command("restore  a>b ");
  ASSERT_EQ(c.error, "");
  EXPECT_EQ(c.command.kind, Command::Kind::restore);
  EXPECT_FALSE(c.command.both_directions);
  c = parse_command("set a-b delay_ms=12.5 rate_mbit=20");
  ASSERT_EQ(c.error, "");
  ASSERT_EQ(c.command.changes.size(), 2u);
  EXPECT_EQ(c.command.changes[0].first, "delay_ms");
  EXPECT_DOUBLE_EQ(c.command.changes[0].second, 12.5);
  EXPECT_EQ(parse_command("stats").command.kind, Command::Kind::stats);
  EXPECT_EQ(parse_command("reset").command.kind, Command::Kind::reset);
}

TEST(WanemCommand, RefusesBadCommandsNamingTheWord) {
  EXPECT_NE(parse_command("").error.find("empty"), std::string::npos);
  EXPECT_NE(parse_command("explode a-b").error.find("'explode'"), std::string::npos);
  EXPECT_NE(parse_command("cut").error.find("needs a link"), std::string::npos);
  EXPECT_NE(parse_command("cut ab").error.find("'ab'"), std::string::npos);
  EXPECT_NE(parse_command("cut a-b-c").error.find("'a-b-c'"), std::string::npos);
  EXPECT_NE(parse_command("cut -b").error.find("'-b'"), std::string::npos);
  EXPECT_NE(parse_command("cut a-b extra").error.find("only the link"), std::string::npos);
  EXPECT_NE(parse_command("set a-b").error.find("key=value"), std::string::npos);
  EXPECT_NE(parse_command("set a-b color=red").error.find("'color=red'"), std::string::npos);
  EXPECT_NE(parse_command("set a-b loss=lots").error.find("not a number"), std::string::npos);
  EXPECT_NE(parse_command("set a-b loss=nan").error.find("not a number"), std::string::npos);
  EXPECT_NE(parse_command("stats now").error.find("no arguments"), std::string::npos);
}

TEST(WanemCommand, ChangesAreCheckedWholeBeforeAnyApplies) {
  LinkParams p{.delay_ms = 3, .rate_mbit = 10};
  EXPECT_EQ(apply_changes(p, {{"delay_ms", 20}, {"rate_mbit", 5}}), "");
  EXPECT_DOUBLE_EQ(p.delay_ms, 20);
  EXPECT_DOUBLE_EQ(p.rate_mbit, 5);
  const std::string why = apply_changes(p, {{"delay_ms", 1}, {"loss", 1.5}});
  EXPECT_NE(why.find("loss = 1.5: must be in 0..1"), std::string::npos);
  EXPECT_DOUBLE_EQ(p.delay_ms, 20);  // unchanged
}

class WanemConfig : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    std::ofstream(path_) << text;
    return path_;
  }
  void TearDown() override { unlink(path_.c_str()); }
  std::string path_ = ::testing::TempDir() + "wanem_test_" + std::to_string(getpid()) + ".toml";
};

constexpr const char* kGood = R"([emulator]
control_socket = "/tmp/x.sock"
[[port]]
name = "a"
iface = "to-a"
[[port]]
name = "b"
iface = "to-b"
[[link]]
a = "a"
b = "b"
delay_ms = 5
jitter_ms = 0.5
loss = 0.01
rate_mbit = 20
)";

TEST_F(WanemConfig, ReadsPortsAndLinks) {
  const EmulatorConfig cfg = load_emulator_config(write(kGood));
  ASSERT_EQ(cfg.ports.size(), 2u);
  EXPECT_EQ(cfg.ports[1].iface, "to-b");
  ASSERT_EQ(cfg.links.size(), 1u);
  EXPECT_DOUBLE_EQ(cfg.links[0].params.delay_ms, 5);
  EXPECT_DOUBLE_EQ(cfg.links[0].params.rate_mbit, 20);
  EXPECT_DOUBLE_EQ(cfg.links[0].params.queue_ms, 50);  // the default
}

TEST_F(WanemConfig, EachRuleGivesItsMessage) {
  auto message = [&](const std::string& from, const std::string& to) {
    std::string text = kGood;
    const std::size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    try {
      load_emulator_config(write(text));
    } catch (const common::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("loss = 0.01", "loss = 1.5").find(":14: [[link]] 'a-b' loss = 1.5: must be in 0..1"),
            std::string::npos);
  EXPECT_NE(message("delay_ms = 5", "delay_ms = -1").find("delay_ms = -1: must be in 0..10000"), std::string::npos);
  EXPECT_NE(message("rate_mbit = 20", "rate_mbit = \"fast\"").find("rate_mbit = \"fast\": must be a number"),
            std::string::npos);
  EXPECT_NE(message("b = \"b\"\ndelay", "b = \"z\"\ndelay").find("b = \"z\": is not the name of a [[port]]"),
            std::string::npos);
  EXPECT_NE(message("b = \"b\"\ndelay", "b = \"a\"\ndelay").find("must differ from a"), std::string::npos);
  EXPECT_NE(message("iface = \"to-b\"", "iface = \"to-a\"").find("is used by another [[port]]"),
            std::string::npos);
  EXPECT_NE(message("rate_mbit = 20", "rate_mbit = 20\ncolour = 1").find("colour = 1: unknown key"),
            std::string::npos);
  EXPECT_NE(message("control_socket", "control_sockets").find("unknown key"), std::string::npos);
  EXPECT_NE(message("name = \"b\"", "name = \"b c\"").find("must be 1-32 letters"), std::string::npos);
  EXPECT_NE(message("delay_ms = 5", "delay_ms = 5\n[[link]]\na = \"b\"\nb = \"a\"").find("already has a [[link]]"),
            std::string::npos);
  EXPECT_NE(message("[emulator]", "[emulator\n").find("wanem_test_"), std::string::npos);  // a TOML syntax error
}

}  // namespace
}  // namespace meshgw::lab
