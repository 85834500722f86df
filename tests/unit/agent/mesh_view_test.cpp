// SPDX-License-Identifier: BSD-3-Clause
// The gateway's mesh view: a snapshot, then deltas of every kind applied in
// order; updates of another epoch and malformed deltas refused with the
// view unchanged; the file round trip (0600) and a damaged file refused.
#include "controlplane/agent/mesh_view.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "../controller/temp_dir.hpp"

using meshgw::agent::MeshView;
using nlohmann::json;

namespace {

json snapshot() {
  return {{"epoch", "e1"},
          {"version", 5},
          {"snapshot",
           {{"gateways", {{{"id", "gw-1"}, {"status", "up"}, {"load_permille", 10}}, {{"id", "gw-2"}, {"status", "up"}}}},
            {"links", {{{"from", "gw-1"}, {"to", "gw-2"}, {"rtt_us", 1000}}}},
            {"policy", {{"edge_transit", false}, {"rules", json::array()}}},
            {"spis", {{{"spi", 4096}, {"path", {"gw-1", "gw-2"}}}}}}}};
}

TEST(MeshView, SnapshotThenDeltas) {
  MeshView v;
  EXPECT_TRUE(v.empty());
  ASSERT_TRUE(v.apply(snapshot()));
  EXPECT_EQ(v.epoch(), "e1");
  EXPECT_EQ(v.version(), 5u);
  EXPECT_EQ(v.gateways().size(), 2u);
  EXPECT_EQ(v.spis().size(), 1u);
  const json deltas = {
      {"epoch", "e1"},
      {"version", 9},
      {"deltas",
       {{{"op", "gateway"}, {"gateway", {{"id", "gw-3"}, {"status", "registered"}}}},
        {{"op", "measurements"},
         {"links", {{{"from", "gw-1"}, {"to", "gw-2"}, {"rtt_us", 2000}}, {{"from", "gw-2"}, {"to", "gw-1"}, {"rtt_us", 2100}}}},
         {"loads", {{{"id", "gw-1"}, {"load_permille", 500}}}}},
        {{"op", "policy"}, {"policy", {{"edge_transit", true}, {"rules", json::array()}}}},
        {{"op", "spi"}, {"spi", {{"spi", 4097}, {"path", {"gw-2", "gw-1"}}}}},
        {{"op", "spi_removed"}, {"spi", 4096}, {"path", {"gw-1", "gw-2"}}},
        {{"op", "gateway_removed"}, {"id", "gw-2"}}}}};
  ASSERT_TRUE(v.apply(deltas));
  EXPECT_EQ(v.version(), 9u);
  EXPECT_EQ(v.gateways().size(), 2u);  // gw-3 in, gw-2 out
  EXPECT_TRUE(v.gateways().contains("gw-3"));
  EXPECT_EQ(v.gateways()["gw-1"]["load_permille"], 500);
  EXPECT_TRUE(v.links().empty());  // both links touched gw-2
  EXPECT_EQ(v.policy()["edge_transit"], true);
  EXPECT_EQ(v.spis().size(), 1u);
  EXPECT_TRUE(v.spis().contains("4097"));
  EXPECT_FALSE(v.apply({{"heartbeat", 9}, {"epoch", "e1"}}));
  EXPECT_FALSE(v.apply({{"epoch", "e1"}, {"version", 9}, {"deltas", json::array()}}));
  // A measurement delta may remove links too.
  ASSERT_TRUE(v.apply({{"epoch", "e1"},
                       {"version", 10},
                       {"deltas",
                        {{{"op", "measurements"},
                          {"links", {{{"from", "gw-1"}, {"to", "gw-3"}, {"rtt_us", 5}}}},
                          {"loads", json::array()},
                          {"removed_links", json::array()}}}}}));
  EXPECT_EQ(v.links().size(), 1u);
  ASSERT_TRUE(v.apply({{"epoch", "e1"},
                       {"version", 11},
                       {"deltas",
                        {{{"op", "measurements"},
                          {"links", json::array()},
                          {"loads", json::array()},
                          {"removed_links", {{{"from", "gw-1"}, {"to", "gw-3"}}}}}}}}));
  EXPECT_TRUE(v.links().empty());
}

TEST(MeshView, RefusedUpdatesLeaveTheViewAsItWas) {
  MeshView v;
  v.apply(snapshot());
  const json before = v.to_json();
  EXPECT_THROW(v.apply({{"epoch", "e2"}, {"version", 6}, {"deltas", json::array({{{"op", "policy"}, {"policy", {}}}})}}),
               std::runtime_error);
  // The second delta is unknown: the first is not applied either.
  EXPECT_ANY_THROW(v.apply({{"epoch", "e1"},
                            {"version", 7},
                            {"deltas", {{{"op", "gateway_removed"}, {"id", "gw-1"}}, {{"op", "teleport"}}}}}));
  EXPECT_ANY_THROW(v.apply({{"epoch", "e1"}, {"version", 7}, {"deltas", {{{"op", "gateway"}}}}}));
  // SPI deltas go in place, but only when every one of the update can:
  // a malformed second one leaves the first unapplied.
  EXPECT_ANY_THROW(v.apply({{"epoch", "e1"},
                            {"version", 7},
                            {"deltas", {{{"op", "spi"}, {"spi", {{"spi", 4242}, {"path", {"gw-1", "gw-2"}}}}},
                                        {{"op", "spi"}, {"spi", {{"spi", "not a number"}}}}}}}));
  EXPECT_ANY_THROW(v.apply({{"epoch", "e1"}, {"version", 7}, {"deltas", {{{"op", "spi_removed"}, {"spi", "x"}}}}}));
  EXPECT_EQ(v.to_json(), before);
  // A snapshot of another epoch replaces everything.
  json other = snapshot();
  other["epoch"] = "e2";
  other["version"] = 1;
  other["snapshot"]["gateways"] = json::array();
  ASSERT_TRUE(v.apply(other));
  EXPECT_EQ(v.epoch(), "e2");
  EXPECT_TRUE(v.gateways().empty());
}

TEST(MeshView, FileRoundTripIsPrivateAndDamageIsRefused) {
  meshgw::test::TempDir dir;
  const std::string path = dir.file("mesh_state.json");
  EXPECT_FALSE(MeshView::load(path));
  MeshView v;
  v.apply(snapshot());
  v.save(path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const auto back = MeshView::load(path);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to_json(), v.to_json());
  v.apply({{"epoch", "e1"}, {"version", 6}, {"deltas", {{{"op", "gateway_removed"}, {"id", "gw-2"}}}}});
  v.save(path);  // replaced in place
  EXPECT_EQ(MeshView::load(path)->version(), 6u);
  std::ofstream(path, std::ios::trunc) << "{\"epoch\": 1}";
  EXPECT_THROW(MeshView::load(path), std::runtime_error);
}

TEST(MeshView, AddressesSurviveAStateThatLacksThem) {
  // A controller that restarted lists gateways before their beacons give
  // their addresses again: the old ones stay; a new address replaces them.
  MeshView before;
  before.apply({{"epoch", "e1"}, {"version", 1},
                {"snapshot", {{"gateways", {{{"id", "gw-1"}, {"addresses", {"198.18.0.1:4500"}}},
                                            {{"id", "gw-2"}, {"addresses", {"198.18.0.2:4500"}}}}},
                              {"links", json::array()}, {"policy", json::object()}, {"spis", json::array()}}}});
  MeshView after;
  after.apply({{"epoch", "e2"}, {"version", 1},
               {"snapshot", {{"gateways", {{{"id", "gw-1"}, {"addresses", json::array()}},
                                           {{"id", "gw-2"}, {"addresses", {"198.18.0.9:4500"}}},
                                           {{"id", "gw-3"}}}},
                             {"links", json::array()}, {"policy", json::object()}, {"spis", json::array()}}}});
  after.keep_addresses_from(before);
  EXPECT_EQ(after.gateways()["gw-1"]["addresses"], json({"198.18.0.1:4500"}));
  EXPECT_EQ(after.gateways()["gw-2"]["addresses"], json({"198.18.0.9:4500"}));
  EXPECT_FALSE(after.gateways()["gw-3"].contains("addresses"));
}

}  // namespace

TEST(MeshView, MeasurementsAreTakenWithoutTheSpisAndSaidToBeNotStructural) {
  MeshView v;
  ASSERT_TRUE(v.apply(snapshot()));
  EXPECT_TRUE(v.last_change_structural());
  const json measured = {{"epoch", "e1"},
                         {"version", 6},
                         {"deltas",
                          {{{"op", "measurements"},
                            {"links", {{{"from", "gw-1"}, {"to", "gw-2"}, {"rtt_us", 3000}}}},
                            {"loads", {{{"id", "gw-2"}, {"load_permille", 70}}}}}}}};
  ASSERT_TRUE(v.apply(measured));
  EXPECT_FALSE(v.last_change_structural());
  EXPECT_EQ(v.links()[0]["rtt_us"], 3000);
  EXPECT_EQ(v.spis().size(), 1u);  // untouched
  // The part a control thread takes: gateways and links, no SPIs or policy.
  const MeshView part = v.measurements_only();
  EXPECT_EQ(part.version(), 6u);
  EXPECT_TRUE(part.spis().empty());
  EXPECT_EQ(part.links(), v.links());
  // Taken into an older whole view: links, loads and version move, the
  // SPIs and policy stay, and an address the part lacks is kept.
  MeshView whole;
  json with_address = snapshot();
  with_address["snapshot"]["gateways"][1]["addresses"] = {"198.18.0.2:4500"};
  ASSERT_TRUE(whole.apply(with_address));
  whole.take_measurements(MeshView(part));
  EXPECT_EQ(whole.version(), 6u);
  EXPECT_EQ(whole.links()[0]["rtt_us"], 3000);
  EXPECT_EQ(whole.gateways()["gw-2"]["load_permille"], 70);
  EXPECT_EQ(whole.gateways()["gw-2"]["addresses"][0], "198.18.0.2:4500");
  EXPECT_EQ(whole.spis().size(), 1u);
  EXPECT_EQ(whole.policy()["edge_transit"], false);
  // Any other delta is structural.
  ASSERT_TRUE(v.apply({{"epoch", "e1"}, {"version", 7}, {"deltas", {{{"op", "spi_removed"}, {"spi", 4096}}}}}));
  EXPECT_TRUE(v.last_change_structural());
}
