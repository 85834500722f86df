// SPDX-License-Identifier: BSD-3-Clause
// MeshState: beacons bring a gateway up and fill its links; forged, replayed,
// stale, unknown and revoked beacons change nothing; missed beacons mark it
// down; deltas resume from a version, or ask for a snapshot when too old or
// from another epoch; measurements are coalesced into one delta.
#include "controlplane/controller/mesh_state.hpp"
#include "controlplane/controller/whatif_query.hpp"

#include <gtest/gtest.h>

#include <optional>

using namespace meshgw::controller;
using namespace meshgw::api;

namespace {

constexpr std::uint64_t kNowMs = 1'800'000'000'000;

GatewayRecord record(const std::string& id, std::uint8_t key_byte) {
  GatewayRecord g;
  g.id = id;
  g.beacon_key = std::vector<std::uint8_t>(32, key_byte);
  return g;
}

std::vector<std::uint8_t> beacon(const std::string& id, std::uint64_t seq, std::uint8_t key_byte,
                                 std::uint64_t sent_ms = kNowMs, std::uint32_t rtt = 1000, std::uint16_t load = 100) {
  Beacon b;
  b.gateway_id = id;
  b.sequence = seq;
  b.sent_ms = sent_ms;
  b.load_permille = load;
  b.neighbours = {{id == "gw-1" ? "gw-2" : "gw-1", rtt, 10, 0}, {"gw-unknown", 5, 5, 5}};
  return encode_beacon(b, std::vector<std::uint8_t>(32, key_byte));
}

struct Fixture : ::testing::Test {
  MeshState state{"epoch-a", 8};
  void SetUp() override {
    state.upsert_gateway(record("gw-1", 1));
    state.upsert_gateway(record("gw-2", 2));
  }
};

TEST_F(Fixture, AGatewayWithoutAddressIsReachedWhereItsBeaconsComeFrom) {
  BeaconAddress nat;
  nat.ip = {198, 18, 0, 6};
  nat.port = 4500;
  ASSERT_EQ(state.ingest(beacon("gw-1", 1, 1), kNowMs, 30'000, &nat).outcome, BeaconOutcome::accepted);
  auto gw = [&](const std::string& id) {
    const nlohmann::json snap = state.snapshot_json();
    for (const auto& g : snap["gateways"])
      if (g["id"] == id) return g;
    return nlohmann::json();
  };
  EXPECT_EQ(gw("gw-1")["addresses"], nlohmann::json({"198.18.0.6:4500"}));
  EXPECT_TRUE(gw("gw-1")["behind_nat"].get<bool>());
  nat.port = 31000;  // the NAT's mapping moved: so does the address
  const std::uint64_t v = state.version();
  state.ingest(beacon("gw-1", 2, 1), kNowMs, 30'000, &nat);
  EXPECT_EQ(gw("gw-1")["addresses"], nlohmann::json({"198.18.0.6:31000"}));
  EXPECT_GT(state.version(), v);
  // A gateway that declares its address keeps it, wherever beacons come from.
  Beacon b;
  b.gateway_id = "gw-2";
  b.sequence = 1;
  b.sent_ms = kNowMs;
  BeaconAddress declared;
  declared.ip = {198, 18, 0, 2};
  declared.port = 4500;
  b.addresses = {declared};
  state.ingest(encode_beacon(b, std::vector<std::uint8_t>(32, 2)), kNowMs, 30'000, &nat);
  EXPECT_EQ(gw("gw-2")["addresses"], nlohmann::json({"198.18.0.2:4500"}));
  EXPECT_FALSE(gw("gw-2")["behind_nat"].get<bool>());
}

TEST_F(Fixture, BeaconBringsUpAndMeasures) {
  const std::uint64_t v0 = state.version();
  const BeaconResult r = state.ingest(beacon("gw-1", 1, 1), kNowMs, 30'000);
  EXPECT_EQ(r.outcome, BeaconOutcome::accepted);
  EXPECT_EQ(r.new_status, GatewayStatus::up);
  EXPECT_EQ(state.version(), v0 + 1);
  EXPECT_EQ(state.gateway("gw-1")->record.status, GatewayStatus::up);
  const auto links = state.links_json();
  ASSERT_EQ(links.size(), 1u);  // the link to an unknown gateway is ignored
  EXPECT_EQ(links[0]["from"], "gw-1");
  EXPECT_EQ(links[0]["rtt_us"], 1000);
  // A second beacon of an up gateway makes no delta until measurements flush.
  EXPECT_EQ(state.ingest(beacon("gw-1", 2, 1, kNowMs, 2000), kNowMs, 30'000).new_status, std::nullopt);
  EXPECT_EQ(state.version(), v0 + 1);
  EXPECT_TRUE(state.flush_measurements());
  EXPECT_EQ(state.version(), v0 + 2);
  EXPECT_FALSE(state.flush_measurements());
  const auto d = state.deltas_since("epoch-a", v0 + 1);
  ASSERT_TRUE(d && d->size() == 1);
  EXPECT_EQ((*d)[0]["op"], "measurements");
  EXPECT_EQ((*d)[0]["links"][0]["rtt_us"], 2000);
  // Noise below the thresholds (10 % and 0.5 ms of RTT, 5 % of load) makes no delta.
  state.ingest(beacon("gw-1", 3, 1, kNowMs, 2100, 120), kNowMs, 30'000);
  EXPECT_FALSE(state.flush_measurements());
  state.ingest(beacon("gw-1", 4, 1, kNowMs, 2100, 200), kNowMs, 30'000);
  EXPECT_TRUE(state.flush_measurements());  // the load moved by 10 %
}

TEST_F(Fixture, RefusedBeaconsChangeNothing) {
  ASSERT_EQ(state.ingest(beacon("gw-1", 5, 1), kNowMs, 30'000).outcome, BeaconOutcome::accepted);
  const std::uint64_t v = state.version();
  EXPECT_EQ(state.ingest(beacon("gw-1", 6, 9), kNowMs, 30'000).outcome, BeaconOutcome::bad_tag);
  EXPECT_EQ(state.ingest(beacon("gw-1", 5, 1), kNowMs, 30'000).outcome, BeaconOutcome::replayed);
  EXPECT_EQ(state.ingest(beacon("gw-1", 7, 1, kNowMs - 60'000), kNowMs, 30'000).outcome, BeaconOutcome::stale);
  EXPECT_EQ(state.ingest(beacon("gw-9", 1, 1), kNowMs, 30'000).outcome, BeaconOutcome::unknown_gateway);
  std::vector<std::uint8_t> junk = {1, 2, 3};
  EXPECT_EQ(state.ingest(junk, kNowMs, 30'000).outcome, BeaconOutcome::truncated);
  // A forged beacon must not move the replay state: the real next one passes.
  EXPECT_EQ(state.ingest(beacon("gw-1", 6, 1), kNowMs, 30'000).outcome, BeaconOutcome::accepted);
  EXPECT_EQ(state.version(), v);
  GatewayRecord revoked = record("gw-2", 2);
  revoked.status = GatewayStatus::revoked;
  revoked.cert_serial = "abc";
  state.upsert_gateway(revoked);
  EXPECT_TRUE(state.is_revoked_serial("abc"));
  EXPECT_EQ(state.ingest(beacon("gw-2", 1, 2), kNowMs, 30'000).outcome, BeaconOutcome::revoked_gateway);
}

TEST_F(Fixture, MissedBeaconsMarkDown) {
  state.ingest(beacon("gw-1", 1, 1), kNowMs, 30'000);
  EXPECT_TRUE(state.expire(kNowMs + 3'000, 3'000).empty());
  const auto down = state.expire(kNowMs + 3'001, 3'000);
  ASSERT_EQ(down, std::vector<std::string>{"gw-1"});
  EXPECT_EQ(state.gateway("gw-1")->record.status, GatewayStatus::down);
  EXPECT_TRUE(state.expire(kNowMs + 10'000, 3'000).empty());  // announced once
  EXPECT_EQ(state.ingest(beacon("gw-1", 2, 1, kNowMs + 10'000), kNowMs + 10'000, 30'000).new_status, GatewayStatus::up);
}

TEST_F(Fixture, LinksNotReportedAgeOut) {
  state.ingest(beacon("gw-1", 1, 1), kNowMs, 30'000);
  state.flush_measurements();
  ASSERT_EQ(state.links_json().size(), 1u);
  state.expire(kNowMs + 9'000, 3'000);
  EXPECT_EQ(state.links_json().size(), 1u);  // 3 x down time not yet passed
  state.expire(kNowMs + 9'001, 3'000);
  EXPECT_TRUE(state.links_json().empty());
  ASSERT_TRUE(state.flush_measurements());
  const auto d = state.deltas_since("epoch-a", state.version() - 1);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->back()["removed_links"][0]["from"], "gw-1");
}

TEST_F(Fixture, DeltasResumeOrAskForASnapshot) {
  const std::uint64_t v = state.version();
  EXPECT_EQ(state.deltas_since("epoch-a", v)->size(), 0u);
  EXPECT_EQ(state.deltas_since("epoch-a", v - 1)->size(), 1u);
  EXPECT_FALSE(state.deltas_since("epoch-b", v));      // another history
  EXPECT_FALSE(state.deltas_since("epoch-a", v + 1));  // ahead of us: restarted controller
  for (int i = 0; i < 10; ++i) state.upsert_gateway(record("gw-x" + std::to_string(i), 3));
  EXPECT_FALSE(state.deltas_since("epoch-a", v));  // the log (8) no longer reaches back
  EXPECT_EQ(state.deltas_since("epoch-a", state.version() - 8)->size(), 8u);
  const auto snap = state.snapshot_json();
  EXPECT_EQ(snap["version"], state.version());
  EXPECT_EQ(snap["epoch"], "epoch-a");
  EXPECT_EQ(snap["gateways"].size(), 12u);
  state.remove_gateway("gw-x0");
  EXPECT_EQ(state.deltas_since("epoch-a", state.version() - 1)->at(0)["op"], "gateway_removed");
}

// The gateways price link loads: a load that climbs while the link's RTT
// holds still must reach them as a measurements delta; a wobble must not.
TEST_F(Fixture, ALinkLoadThatMovesMakesADeltaOfItsLink) {
  state.ingest(beacon("gw-1", 1, 1), kNowMs, 30'000);  // measures gw-1 -> gw-2 (no capacity declared)
  state.add_spi({.spi = 0x1001, .ingress = "gw-1", .egress = "gw-2", .path = "gw-1>gw-2"});
  state.flush_measurements();
  auto load_in_last_delta = [&]() -> std::optional<double> {
    const auto d = state.deltas_since("epoch-a", state.version() - 1);
    if (!d || d->empty() || d->back()["op"] != "measurements") return std::nullopt;
    for (const auto& l : d->back()["links"])
      if (l["from"] == "gw-1" && l["to"] == "gw-2") return l["load_bps"].get<double>();
    return std::nullopt;
  };
  state.set_tunnel_rates("gw-1", {{0x1001, 4e6}});
  EXPECT_TRUE(state.flush_measurements());
  EXPECT_EQ(load_in_last_delta(), 4e6);
  state.set_tunnel_rates("gw-1", {{0x1001, 4.05e6}});  // 1 %: no delta
  EXPECT_FALSE(state.flush_measurements());
  state.set_tunnel_rates("gw-1", {{0x1001, 6e6}});  // the same RTT in every beacon, the load up by half
  EXPECT_TRUE(state.flush_measurements());
  EXPECT_EQ(load_in_last_delta(), 6e6);
  state.set_tunnel_rates("gw-1", {});  // gone quiet
  EXPECT_TRUE(state.flush_measurements());
  EXPECT_EQ(load_in_last_delta(), 0.0);
}

// What-if queries price the links' forecast loads: a link whose load climbs
// steadily is hot ahead of time with the controller's forecasts, and not
// without them.
TEST_F(Fixture, WhatIfPricesTheForecastLoads) {
  Beacon b;
  b.gateway_id = "gw-1";
  b.sent_ms = kNowMs;
  b.declared_bps = 10'000'000;
  b.neighbours = {{"gw-2", 1000, 10, 0}};
  Beacon c = b;
  c.gateway_id = "gw-2";
  c.neighbours = {{"gw-1", 1000, 10, 0}};
  meshgw::common::LinkDemandConfig dc;
  dc.horizon = 10;
  dc.background_refits = false;
  meshgw::common::LinkDemand forecasts(dc);
  state.add_spi({.spi = 0x1001, .ingress = "gw-1", .egress = "gw-2", .path = "gw-1>gw-2"});
  for (std::uint64_t s = 0; s < 40; ++s) {
    b.sequence = c.sequence = s + 1;
    b.sent_ms = c.sent_ms = kNowMs + s * 1000;
    state.ingest(encode_beacon(b, std::vector<std::uint8_t>(32, 1)), kNowMs + s * 1000, 30'000);
    state.ingest(encode_beacon(c, std::vector<std::uint8_t>(32, 2)), kNowMs + s * 1000, 30'000);
    state.set_tunnel_rates("gw-1", {{0x1001, 2e6 + 1.5e5 * static_cast<double>(s)}});  // 2 .. 7.85 Mbit/s
    forecasts.sample(state.links_json(), s * 1'000'000'000);
  }
  auto link_1_2 = [](const nlohmann::json& out) {
    for (const auto& l : out["links"])
      if (l["from"] == "gw-1" && l["to"] == "gw-2") return l;
    return nlohmann::json();
  };
  const std::string add = R"({"add_demand": [{"from": "gw-2", "to": "gw-1", "rate_bps": 1000}], "hot_utilisation": 0.8})";
  const nlohmann::json now = what_if_json(state, add);
  const nlohmann::json ahead = what_if_json(state, add, &forecasts);
  EXPECT_TRUE(now["forecast"].is_null());
  EXPECT_EQ(ahead["forecast"]["horizon_s"], 10);
  EXPECT_EQ(link_1_2(now), nlohmann::json()) << "78 % now: not hot, unchanged, not listed";
  const nlohmann::json l = link_1_2(ahead);
  ASSERT_FALSE(l.is_null()) << ahead.dump();
  EXPECT_TRUE(l["hot_before"].get<bool>()) << l.dump();
  EXPECT_GT(l["utilisation_before"].get<double>(), 0.85);
}

}  // namespace
