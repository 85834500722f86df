// SPDX-License-Identifier: BSD-3-Clause
// Beacons: round trip, one test per refusal reason, HMAC with the right and
// a wrong key, every single-bit flip caught by the tag, replay and staleness.
#include "controlplane/api/beacon.hpp"

#include <gtest/gtest.h>

using namespace meshgw::api;

namespace {

const std::vector<std::uint8_t> kKey(32, 0x42);

Beacon sample() {
  Beacon b;
  b.role = 0;
  b.sent_ms = 1'800'000'000'000;
  b.sequence = 7;
  b.declared_bps = 10'000'000'000;
  b.load_permille = 420;
  b.latitude_e6 = 41'878'100;
  b.longitude_e6 = -87'629'800;
  b.gateway_id = "gw-12";
  BeaconAddress v4;
  v4.ip = {198, 18, 0, 1};
  v4.port = 4500;
  BeaconAddress v6;
  v6.v6 = true;
  v6.ip[0] = 0xfd;
  v6.ip[15] = 1;
  v6.port = 4501;
  b.addresses = {v4, v6};
  b.neighbours = {{"gw-2", 12'000, 300, 0}, {"gw-3", 25'000, 1'200, 5'000}};
  return b;
}

BeaconOutcome parse(const std::vector<std::uint8_t>& d) {
  Beacon b;
  return parse_beacon(d, b);
}

TEST(Beacon, RoundTrip) {
  const Beacon b = sample();
  const auto wire = encode_beacon(b, kKey);
  Beacon back;
  ASSERT_EQ(parse_beacon(wire, back), BeaconOutcome::accepted);
  EXPECT_EQ(back, b);
  EXPECT_TRUE(BeaconKey(kKey).verify(wire));
  EXPECT_FALSE(BeaconKey(std::vector<std::uint8_t>(32, 0x43)).verify(wire));
}

TEST(Beacon, EveryBitFlipIsCaughtByTheTag) {
  const auto wire = encode_beacon(sample(), kKey);
  const BeaconKey key(kKey);
  for (std::size_t i = 0; i < wire.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto forged = wire;
      forged[i] ^= static_cast<std::uint8_t>(1 << bit);
      ASSERT_FALSE(key.verify(forged)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(Beacon, StructuralRefusals) {
  const auto wire = encode_beacon(sample(), kKey);
  auto with = [&](std::size_t at, std::uint8_t v) {
    auto d = wire;
    d[at] = v;
    return parse(d);
  };
  EXPECT_EQ(parse({}), BeaconOutcome::truncated);
  EXPECT_EQ(parse({wire.begin(), wire.begin() + 50}), BeaconOutcome::truncated);
  EXPECT_EQ(with(0, 'X'), BeaconOutcome::bad_magic);
  EXPECT_EQ(with(4, 2), BeaconOutcome::bad_version);
  EXPECT_EQ(with(5, 3), BeaconOutcome::bad_field);   // role
  EXPECT_EQ(with(6, 9), BeaconOutcome::bad_field);   // address count
  EXPECT_EQ(with(7, 65), BeaconOutcome::bad_field);  // neighbour count
  EXPECT_EQ(with(32, 0xff), BeaconOutcome::bad_field);  // load > 1000
  EXPECT_EQ(with(34, 0x7f), BeaconOutcome::bad_field);  // latitude > 90
  EXPECT_EQ(with(42, 0), BeaconOutcome::bad_field);     // empty id
  EXPECT_EQ(with(43, '/'), BeaconOutcome::bad_field);   // id character
  EXPECT_EQ(with(42 + 1 + 5, 5), BeaconOutcome::bad_field);  // address family
  EXPECT_EQ(with(6, 1), BeaconOutcome::bad_field);  // fewer addresses: the v6 one read as a neighbour id length 6 ...
  EXPECT_EQ(with(7, 1), BeaconOutcome::trailing_bytes);  // one neighbour fewer than the bytes carry
  EXPECT_EQ(with(7, 3), BeaconOutcome::truncated);
  auto big = wire;
  big.resize(kBeaconMaxBytes + 1);
  EXPECT_EQ(parse(big), BeaconOutcome::bad_field);
}

TEST(Beacon, EncoderRefusesOutOfRangeFields) {
  Beacon b = sample();
  b.gateway_id = "";
  EXPECT_THROW(encode_beacon(b, kKey), std::invalid_argument);
  b = sample();
  b.neighbours.resize(65, {"gw-x", 0, 0, 0});
  EXPECT_THROW(encode_beacon(b, kKey), std::invalid_argument);
  b = sample();
  b.load_permille = 1001;
  EXPECT_THROW(encode_beacon(b, kKey), std::invalid_argument);
}

TEST(Beacon, ReplayAndStaleness) {
  Beacon b = sample();
  ReplayGuard g;
  const std::uint64_t now = b.sent_ms + 1'000;
  EXPECT_EQ(g.check(b, now, 30'000), BeaconOutcome::accepted);
  g.accept(b);
  EXPECT_EQ(g.check(b, now, 30'000), BeaconOutcome::replayed);
  b.sequence = 6;
  EXPECT_EQ(g.check(b, now, 30'000), BeaconOutcome::replayed);
  b.sequence = 8;
  EXPECT_EQ(g.check(b, b.sent_ms + 30'001, 30'000), BeaconOutcome::stale);
  EXPECT_EQ(g.check(b, b.sent_ms - 30'001, 30'000), BeaconOutcome::stale);  // from the future
  EXPECT_EQ(g.check(b, b.sent_ms + 30'000, 30'000), BeaconOutcome::accepted);
  EXPECT_EQ(metric_name(BeaconOutcome::bad_tag), "bad_tag");
  EXPECT_EQ(kBeaconOutcomeCount, 11u);
}

}  // namespace
