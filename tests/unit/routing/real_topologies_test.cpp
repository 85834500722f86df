// SPDX-License-Identifier: BSD-3-Clause
// The real topologies of ../shared/data (Topology Zoo, SNDlib): all-pairs path
// costs by latency against the oracle files (networkx Dijkstra, computed
// outside this project), for Dijkstra, A* and Bellman-Ford. Skips when the
// data is absent (a user's clone does not have ../shared).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "controlplane/common/topology_json.hpp"
#include "routing/paths.hpp"

namespace meshgw::routing {
namespace {

namespace fs = std::filesystem;

fs::path data_dir() {
  const char* env = std::getenv("MESHGW_SHARED_DATA");
  return env ? fs::path(env) : fs::path();
}

// Oracle files by network name; the largest is xz-compressed.
std::map<std::string, fs::path> oracle_files() {
  std::map<std::string, fs::path> files;
  const fs::path dir = data_dir() / "topologies" / "oracles";
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    for (const std::string suffix : {".dijkstra.json", ".dijkstra.json.xz"}) {
      if (file.size() > suffix.size() && file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0)
        files[file.substr(0, file.size() - suffix.size())] = entry.path();
    }
  }
  return files;
}

nlohmann::json read_oracle(const fs::path& path) {
  if (path.extension() != ".xz") {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
  }
  const std::string cmd = "xz -dc '" + path.string() + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  std::string text;
  char buf[65536];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, pipe.get())) > 0;) text.append(buf, n);
  return nlohmann::json::parse(text);
}

TEST(RealTopologies, LatencyPathsMatchTheOracles) {
  const auto oracles = oracle_files();
  if (oracles.empty()) GTEST_SKIP() << "../shared/data is absent (set MESHGW_SHARED_DATA); nothing to compare";
  std::size_t pairs = 0, astar_checked = 0, networks = 0;
  PathFinder pf;
  for (const auto& [name, oracle_path] : oracles) {
    SCOPED_TRACE(name);
    const Topology topo =
        common::load_topology_json((data_dir() / "topologies" / "json" / (name + ".json")).string());
    const auto oracle = read_oracle(oracle_path);
    ++networks;
    CostModel model;
    model.kind = CostKind::latency;
    const CsrGraph g(topo, model);
    const auto& ids = oracle["nodes"];
    const auto& dist = oracle["dist"];
    ASSERT_EQ(ids.size(), topo.node_count());
    std::vector<NodeIndex> index(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) index[i] = topo.find(ids[i].get<std::string>()).value();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      pf.dijkstra(g, index[i]);
      for (std::size_t j = 0; j < ids.size(); ++j, ++pairs) {
        const double got = pf.cost_to(g, index[j]);
        if (dist[i][j].is_null()) {
          ASSERT_TRUE(std::isinf(got)) << ids[i] << " -> " << ids[j];
        } else {
          // Both sides round link latencies to 1e-6 ms.
          ASSERT_NEAR(got, dist[i][j].get<double>(), 1e-4) << ids[i] << " -> " << ids[j];
        }
      }
      // A* and Bellman-Ford on a sample of pairs from this source.
      for (std::size_t j = i % 7; j < ids.size(); j += 7) {
        for (Algorithm algo : {Algorithm::astar, Algorithm::bellman_ford}) {
          const auto p = pf.shortest(g, index[i], index[j], algo);
          if (dist[i][j].is_null()) {
            ASSERT_FALSE(p.has_value());
          } else {
            ASSERT_TRUE(p.has_value());
            ASSERT_NEAR(p->cost, dist[i][j].get<double>(), 1e-4) << to_string(algo);
          }
        }
        ++astar_checked;
      }
    }
  }
  EXPECT_EQ(networks, oracles.size());
  EXPECT_GE(networks, 33u) << "every oracle, the compressed one (zoo-Kdl) included";
  EXPECT_GT(pairs, 500000u);
  EXPECT_GT(astar_checked, 1000u);
}

TEST(RealTopologies, EveryTopologyFileLoads) {
  const fs::path dir = data_dir() / "topologies" / "json";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "../shared/data is absent";
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const Topology t = common::load_topology_json(entry.path().string());
    EXPECT_GT(t.node_count(), 0u) << entry.path();
    ++files;
  }
  EXPECT_GE(files, 30u);
}

}  // namespace
}  // namespace meshgw::routing
