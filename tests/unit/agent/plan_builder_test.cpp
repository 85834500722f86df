// SPDX-License-Identifier: BSD-3-Clause
// Relays from the mesh state: one per SPI whose path crosses this gateway,
// next and previous hop by their underlay addresses; SPIs elsewhere, SPIs
// the static plan already relays, and hops without an address left out
// (the last reported).
#include "controlplane/agent/plan_builder.hpp"

#include <gtest/gtest.h>

using namespace meshgw;
using namespace meshgw::agent;
using nlohmann::json;

namespace {

MeshView view_with(json spis) {
  json gws = json::array();
  const char* ids[] = {"gw-1", "gw-2", "gw-3", "gw-4"};
  for (int i = 0; i < 4; ++i)
    gws.push_back({{"id", ids[i]}, {"status", "up"}, {"addresses", {"198.18.0." + std::to_string(i + 1) + ":4500"}}});
  gws.push_back({{"id", "gw-9"}, {"status", "up"}, {"addresses", json::array()}});
  MeshView v;
  v.apply({{"epoch", "e"},
           {"version", 1},
           {"snapshot", {{"gateways", gws}, {"links", json::array()}, {"policy", json::object()}, {"spis", spis}}}});
  return v;
}

json spi(std::uint32_t n, std::vector<std::string> path) {
  json relays = json::array();
  for (std::size_t i = 1; i + 1 < path.size(); ++i)
    relays.push_back({{"gateway", path[i]}, {"prev", path[i - 1]}, {"next", path[i + 1]}});
  return {{"spi", n}, {"path", path}, {"relays", relays}};
}

TEST(PlanBuilder, RelaysForThePathsThatCrossThisGateway) {
  const MeshView v = view_with({spi(0x2001, {"gw-1", "gw-3", "gw-2"}), spi(0x2002, {"gw-2", "gw-3", "gw-1"}),
                                spi(0x2003, {"gw-1", "gw-2"}), spi(0x2004, {"gw-1", "gw-4", "gw-2"})});
  const auto relays = relays_from_view(v, "gw-3", {});
  ASSERT_EQ(relays.size(), 2u);
  EXPECT_EQ(relays[0].spi, 0x2001u);
  EXPECT_EQ(relays[0].next_hop.ip, 0xc6120002u);  // gw-2
  EXPECT_EQ(relays[0].next_hop.port, 4500);
  EXPECT_EQ(relays[0].expected_prev_hop, 0xc6120001u);  // gw-1
  EXPECT_EQ(relays[1].spi, 0x2002u);
  EXPECT_EQ(relays[1].next_hop.ip, 0xc6120001u);
  EXPECT_TRUE(relays_from_view(v, "gw-2", {}).empty());  // an end, not a transit
}

TEST(PlanBuilder, StaticRelaysWinAndMissingAddressesAreReported) {
  const MeshView v = view_with({spi(0x2001, {"gw-1", "gw-3", "gw-2"}), spi(0x3001, {"gw-1", "gw-3", "gw-9"})});
  routing::ForwardingPlan base;
  base.relays.push_back({0x2001, {0x0a000001, 4500}, std::nullopt});
  std::vector<RelayProblem> problems;
  const routing::ForwardingPlan plan = plan_from_view(base, v, "gw-3", &problems);
  ASSERT_EQ(plan.relays.size(), 1u);  // the static one only
  EXPECT_EQ(plan.relays[0].next_hop.ip, 0x0a000001u);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].spi, 0x3001u);
  EXPECT_NE(problems[0].why.find("gw-9"), std::string::npos) << problems[0].why;
  EXPECT_FALSE(underlay_of(v, "gw-9"));
  EXPECT_FALSE(underlay_of(v, "nobody"));
}

}  // namespace
