// SPDX-License-Identifier: BSD-3-Clause
#include "controlplane/common/topology_json.hpp"

#include <gtest/gtest.h>

namespace meshgw::common {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_topology_json(text, "t.json");
  } catch (const TopologyError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TopologyJson, ReadsTheSharedFormatAndMeshFields) {
  const auto t = parse_topology_json(R"({
    "directed": false,
    "nodes": [{"id": "a", "lat": 50, "lon": 8, "label": "ignored"},
              {"id": 7, "role": "edge", "security_level": 3, "load": 0.5, "region": "eu"},
              {"id": "c", "lat": 51, "lon": 9}],
    "links": [{"src": "a", "dst": "7", "capacity": 1000, "latency_ms": 2.5, "distance_km": 500, "loss": 0.01},
              {"src": "a", "dst": "c", "capacity": null}]})",
                                     "t.json");
  ASSERT_EQ(t.node_count(), 3u);
  ASSERT_EQ(t.link_count(), 4u);  // undirected -> both directions
  EXPECT_EQ(t.nodes()[1].id, "7");
  EXPECT_EQ(t.nodes()[1].role, routing::Role::edge);
  EXPECT_EQ(t.nodes()[1].security_level, 3);
  EXPECT_DOUBLE_EQ(t.links()[0].latency_ms, 2.5);
  EXPECT_DOUBLE_EQ(t.links()[1].latency_ms, 2.5);
  EXPECT_EQ(t.links()[1].src, 1u);
  EXPECT_DOUBLE_EQ(t.links()[0].loss, 0.01);
  // Derived from coordinates: great-circle km / 200.
  EXPECT_NEAR(t.links()[2].latency_ms,
              routing::great_circle_km(50, 8, 51, 9) / routing::kFibreKmPerMs, 1e-12);
}

TEST(TopologyJson, DirectedFilesKeepOneDirection) {
  const auto t = parse_topology_json(
      R"({"directed": true, "nodes": [{"id": "a"}, {"id": "b"}], "links": [{"src": "a", "dst": "b", "latency_ms": 1}]})",
      "t.json");
  EXPECT_EQ(t.link_count(), 1u);
}

TEST(TopologyJson, EveryMistakeNamesItsPlace) {
  EXPECT_EQ(error_of("{\n  \"nodes\": [\n    {\"id\": \"a\"},,\n  ]\n}"),
            "t.json:3:17: invalid JSON: syntax error while parsing value - unexpected ','; expected '[', '{', or a literal");
  EXPECT_NE(error_of(R"({"links": []})").find("t.json: (top level).nodes: missing or not an array"), std::string::npos);
  EXPECT_EQ(error_of(R"({"nodes": [{"id": "a", "lat": "north", "lon": 1}], "links": []})"),
            "t.json: nodes[0].lat: expected a number, got a string");
  EXPECT_EQ(error_of(R"({"nodes": [{"id": "a", "lat": 91, "lon": 1}], "links": []})"),
            "t.json: nodes[0].lat: 91 is outside [-90, 90]");
  EXPECT_EQ(error_of(R"({"nodes": [{"id": "a", "lat": 1}], "links": []})"),
            "t.json: nodes[0]: lat and lon must be given together");
  EXPECT_EQ(error_of(R"({"nodes": [{"id": "a"}, {"id": "a"}], "links": []})"),
            "t.json: nodes[1].id: duplicate node id 'a'");
  EXPECT_EQ(error_of(R"({"nodes": [{"name": "a"}], "links": []})"), "t.json: nodes[0].id: missing");
  EXPECT_EQ(error_of(R"({"nodes": [{"id": "a", "role": "boss"}], "links": []})"),
            "t.json: nodes[0].role: 'boss' is not core, edge or transit");
  EXPECT_EQ(error_of(R"({"nodes": [{"id": "a"}], "links": [{"src": "a", "dst": "b", "latency_ms": 1}]})"),
            "t.json: links[0].dst: 'b' is not a node id");
  EXPECT_EQ(error_of(R"({"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"src": "a", "dst": "b"}]})"),
            "t.json: links[0].latency_ms: missing, and an end has no coordinates to derive it");
  EXPECT_EQ(error_of(R"({"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"src": "a", "dst": "b", "latency_ms": -1}]})"),
            "t.json: links[0].latency_ms: -1 is outside [0, 1e+15]");
  EXPECT_EQ(error_of(R"({"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"src": "a", "dst": "b", "latency_ms": 1, "loss": 2}]})"),
            "t.json: links[0].loss: 2 is outside [0, 1]");
  EXPECT_EQ(error_of(R"({"nodes": [], "links": [3]})"), "t.json: links[0]: expected an object, got a number");
  EXPECT_EQ(error_of("[]"), "t.json: (top level): expected an object, got an array");
  EXPECT_NE(error_of("").find("t.json:1:1: invalid JSON"), std::string::npos);
  // Found by the fuzzer: a number beyond double range is not a syntax error.
  EXPECT_NE(error_of(R"({"nodes": [{"id": "a", "lat": 1e999, "lon": 1}], "links": []})").find("t.json: invalid JSON: "),
            std::string::npos);
}

TEST(TopologyJson, MissingFileIsAClearError) {
  EXPECT_THROW(load_topology_json("/nonexistent/topo.json"), TopologyError);
}

}  // namespace
}  // namespace meshgw::common
