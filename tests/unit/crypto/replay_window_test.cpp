// SPDX-License-Identifier: BSD-3-Clause
#include "crypto/replay_window.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace meshgw::crypto {
namespace {

TEST(ReplayWindow, AcceptsInOrderAndRejectsDuplicates) {
  ReplayWindow w(1024, true);
  for (std::uint64_t s = 1; s <= 5000; ++s) {
    ASSERT_EQ(w.check(s), EspStatus::ok) << s;
    w.accept(s);
    ASSERT_EQ(w.check(s), EspStatus::replayed) << s;
  }
  EXPECT_EQ(w.top(), 5000u);
}

TEST(ReplayWindow, ZeroIsNeverValid) {
  ReplayWindow w;
  EXPECT_EQ(w.check(0), EspStatus::too_old);
}

TEST(ReplayWindow, WindowEdgeIsExact) {
  ReplayWindow w(1024, true);
  w.accept(10000);
  // Covered: (top - size, top]. 10000 - 1024 = 8976 is just outside.
  EXPECT_EQ(w.check(8977), EspStatus::ok);
  EXPECT_EQ(w.check(8976), EspStatus::too_old);
  w.accept(8977);
  EXPECT_EQ(w.check(8977), EspStatus::replayed);
  EXPECT_EQ(w.check(10001), EspStatus::ok);
}

TEST(ReplayWindow, CheckDoesNotChangeState) {
  ReplayWindow w;
  w.accept(50);
  EXPECT_EQ(w.check(60), EspStatus::ok);
  EXPECT_EQ(w.check(60), EspStatus::ok);
  EXPECT_EQ(w.top(), 50u);
}

TEST(ReplayWindow, LargeJumpClearsOldBits) {
  ReplayWindow w(1024, true);
  for (std::uint64_t s = 1; s <= 2000; ++s) w.accept(s);
  w.accept(1'000'000);
  // Everything in the new window except the top has never been seen.
  for (std::uint64_t s = 1'000'000 - 1023; s < 1'000'000; ++s) ASSERT_EQ(w.check(s), EspStatus::ok) << s;
  EXPECT_EQ(w.check(1'000'000 - 1024), EspStatus::too_old);
}

// Against a reference model (a set of seen numbers) on random reordering.
TEST(ReplayWindow, MatchesReferenceModelUnderReordering) {
  for (std::uint32_t size : {64u, 1024u, 1984u}) {
    ReplayWindow w(size, true);
    std::set<std::uint64_t> seen;
    std::uint64_t top = 0;
    std::mt19937_64 rng(size);
    std::uint64_t base = 1;
    for (int i = 0; i < 200000; ++i) {
      // Mostly near the front, sometimes duplicates, sometimes far back or jumps.
      std::uint64_t s;
      switch (rng() % 8) {
        case 0: s = top > 3000 ? top - rng() % 3000 : 1 + rng() % 3000; break;
        case 1: base += rng() % 5000; s = base; break;
        default: s = base + rng() % 64; base += rng() % 3; break;
      }
      if (s == 0) continue;
      EspStatus expected;
      if (s > top) expected = EspStatus::ok;
      else if (s + size <= top) expected = EspStatus::too_old;
      else expected = seen.count(s) ? EspStatus::replayed : EspStatus::ok;
      ASSERT_EQ(w.check(s), expected) << "size " << size << " seq " << s << " top " << top;
      if (expected == EspStatus::ok) {
        w.accept(s);
        seen.insert(s);
        top = std::max(top, s);
      }
    }
  }
}

TEST(ReplayWindow, SizeIsClamped) {
  EXPECT_EQ(ReplayWindow(1).size(), 64u);
  EXPECT_EQ(ReplayWindow(1u << 20).size(), ReplayWindow::kMaxSize);
  EXPECT_GE(ReplayWindow().size(), 1024u);
}

// RFC 4303 appendix A2.2: the high half of an ESN from the low half on the wire.
TEST(ReplayWindow, InfersEsnHighBitsCaseA) {
  ReplayWindow w(1024, true);
  const std::uint64_t top = (std::uint64_t{7} << 32) | 5000;
  w.accept(top);
  EXPECT_EQ(w.infer(5001), top + 1);
  EXPECT_EQ(w.infer(4000), (std::uint64_t{7} << 32) | 4000);
  // Below the window bottom (5000-1023): must be the next subspace.
  EXPECT_EQ(w.infer(100), (std::uint64_t{8} << 32) | 100);
}

TEST(ReplayWindow, InfersEsnHighBitsCaseBAcrossWrap) {
  ReplayWindow w(1024, true);
  const std::uint64_t top = (std::uint64_t{3} << 32) | 10;  // window spans into subspace 2
  w.accept(top);
  EXPECT_EQ(w.infer(0xffffff00u), (std::uint64_t{2} << 32) | 0xffffff00u);
  EXPECT_EQ(w.infer(11), top + 1);
  EXPECT_EQ(w.infer(5), (std::uint64_t{3} << 32) | 5);
  EXPECT_EQ(w.check(w.infer(0xffffff00u)), EspStatus::ok);
}

TEST(ReplayWindow, SequenceCrossesTheLow32BitBoundary) {
  ReplayWindow w(1024, true);
  std::uint64_t s = 0xffffff00u;
  for (int i = 0; i < 1000; ++i, ++s) {
    const std::uint64_t inferred = w.infer(static_cast<std::uint32_t>(s));
    ASSERT_EQ(inferred, s);
    ASSERT_EQ(w.check(inferred), EspStatus::ok);
    w.accept(inferred);
  }
  EXPECT_EQ(w.top() >> 32, 1u);
}

TEST(ReplayWindow, WithoutEsnTheWireValueIsTheSequence) {
  ReplayWindow w(1024, false);
  w.accept(0xfffffff0u);
  EXPECT_EQ(w.infer(5), 5u);
  EXPECT_EQ(w.check(5), EspStatus::too_old);
}

}  // namespace
}  // namespace meshgw::crypto
