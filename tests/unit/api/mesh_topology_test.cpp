// SPDX-License-Identifier: BSD-3-Clause
// The mesh state as a routing topology: revoked gateways and their links
// left out, a link whose every probe is lost is down, and a gateway behind
// a NAT (which nobody can probe) gets the reverse of each link it measured,
// unless the other side measured its own.
#include "controlplane/api/mesh_topology.hpp"

#include <gtest/gtest.h>

using namespace meshgw;
using nlohmann::json;

namespace {

json gw(const char* id, const char* role, const char* status = "up", bool nat = false) {
  return {{"id", id}, {"role", role}, {"status", status}, {"behind_nat", nat}};
}

json link(const char* from, const char* to, double rtt_us, double loss_ppm = 0) {
  return {{"from", from}, {"to", to}, {"rtt_us", rtt_us}, {"loss_ppm", loss_ppm}};
}

const routing::Link* find(const routing::Topology& t, const char* from, const char* to) {
  for (const auto& l : t.links())
    if (t.nodes()[l.src].id == from && t.nodes()[l.dst].id == to) return &l;
  return nullptr;
}

TEST(MeshTopology, RevokedGatewaysAndLostLinks) {
  const json gws = json::array({gw("c1", "core"), gw("c2", "core", "revoked"), gw("e1", "edge")});
  const json links = json::array({link("c1", "e1", 2000), link("e1", "c1", 2000, 1e6), link("c1", "c2", 100)});
  const routing::Topology t = api::topology_from_state(gws, links);
  EXPECT_EQ(t.node_count(), 2u);
  ASSERT_TRUE(find(t, "c1", "e1"));
  EXPECT_TRUE(find(t, "c1", "e1")->up);
  EXPECT_DOUBLE_EQ(find(t, "c1", "e1")->latency_ms, 1.0);  // half the RTT
  ASSERT_TRUE(find(t, "e1", "c1"));
  EXPECT_FALSE(find(t, "e1", "c1")->up);  // every probe lost
  EXPECT_EQ(t.link_count(), 2u);
}

TEST(MeshTopology, AGatewayBehindNatIsReachedBackOnTheLinksItMeasured) {
  const json gws = json::array({gw("c1", "core"), gw("n1", "edge", "up", true), gw("n2", "edge", "up", true)});
  const json links = json::array({link("n1", "c1", 3000), link("n2", "c1", 5000), link("c1", "n2", 4000)});
  const routing::Topology t = api::topology_from_state(gws, links);
  ASSERT_TRUE(find(t, "c1", "n1"));  // inferred from n1 -> c1
  EXPECT_DOUBLE_EQ(find(t, "c1", "n1")->latency_ms, 1.5);
  ASSERT_TRUE(find(t, "c1", "n2"));  // measured: kept as measured
  EXPECT_DOUBLE_EQ(find(t, "c1", "n2")->latency_ms, 2.0);
  EXPECT_EQ(t.link_count(), 4u);
  EXPECT_FALSE(find(t, "n1", "n2"));  // two NATs: no direct link unless one is measured
}

}  // namespace
