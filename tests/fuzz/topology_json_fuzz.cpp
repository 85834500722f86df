// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for topology files (meshctl path --topology): any input
// either parses into a valid Topology or throws TopologyError; nothing else
// escapes, and whatever parses can be routed on.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "controlplane/common/topology_json.hpp"
#include "routing/paths.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  meshgw::routing::Topology topo;
  try {
    topo = meshgw::common::parse_topology_json(text, "fuzz.json");
  } catch (const meshgw::common::TopologyError&) {
    return 0;
  }
  if (topo.node_count() == 0) return 0;
  using namespace meshgw::routing;
  for (CostKind kind : {CostKind::weighted, CostKind::latency}) {
    CostModel model;
    model.kind = kind;
    const CsrGraph g(topo, model);
    PathFinder pf;
    const auto t = static_cast<NodeIndex>(topo.node_count() - 1);
    for (Algorithm a : {Algorithm::dijkstra, Algorithm::astar, Algorithm::bellman_ford}) {
      const auto p = pf.shortest(g, 0, t, a);
      if (p && (p->nodes.front() != 0 || p->nodes.back() != t)) std::abort();
    }
    pf.k_shortest(g, 0, t, 3, 3);
  }
  return 0;
}
