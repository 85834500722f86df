// SPDX-License-Identifier: BSD-3-Clause
#include "path_command.hpp"

#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "args.hpp"
#include "dot.hpp"
#include "controlplane/common/topology_json.hpp"
#include "routing/paths.hpp"

namespace meshgw::cli {

namespace {

using nlohmann::json;
using namespace meshgw::routing;

const char* kPathUsage = R"(usage: meshctl path --topology FILE --from A --to B [options]

Shortest paths over a topology file (the JSON of ../shared/data: nodes with
id/lat/lon, links with src/dst/capacity/latency_ms; see
controlplane/common/topology_json.hpp for the optional mesh fields).

options:
  --k N                 N loopless paths in non-decreasing cost (Yen), default 1
  --algo NAME           dijkstra (default), astar, bellman-ford
  --cost MODEL          default (weighted: latency + queueing + loss + security +
                        money + load), latency (a link costs exactly latency_ms),
                        hops (a link costs exactly 1), weight (the link's weight)
  --class NAME          traffic class weights for --cost default:
                        default, realtime, bulk, secure
  --max-hops N          at most N links (Bellman-Ford by hop layers)
  --avoid-nodes A,B     never transit these gateways
  --avoid-roles R,...   never transit gateways of these roles (core, edge, transit)
  --avoid-regions X,... never transit gateways in these regions
  --min-security N      transit gateways need security_level >= N
  --via W               the path must pass through W
  --format FMT          json (default) or dot (Graphviz, chosen paths highlighted)

Output (json): {"from", "to", "algorithm", "cost_model", "class", "reachable",
"paths": [{"nodes": [ids], "cost", "hops", "links": [per-link cost breakdown]}]}.
No path is an answer, not an error: "reachable": false, "paths": [], exit 0.
)";

struct Query {
  std::string from, to;
  std::size_t k = 1;
  Algorithm algo = Algorithm::dijkstra;
  CostModel model;
  std::string traffic_class = "default";
  Constraints constraints;
  std::string format = "json";
};

Query parse_query(const Args& a, const Topology& topo) {
  Query q;
  q.from = a.str("from");
  q.to = a.str("to");
  if (!topo.find(q.from)) throw UsageError("option --from: '" + q.from + "' is not a node in the topology");
  if (!topo.find(q.to)) throw UsageError("option --to: '" + q.to + "' is not a node in the topology");
  q.k = a.uint("k", 1, 1000, 1);
  if (const auto algo = a.opt_str("algo")) {
    const auto parsed = algorithm_from_string(*algo);
    if (!parsed) throw UsageError("option --algo: '" + *algo + "' is not dijkstra, astar or bellman-ford");
    q.algo = *parsed;
  }
  if (const auto cost = a.opt_str("cost")) {
    const auto kind = cost_kind_from_string(*cost);
    if (!kind) throw UsageError("option --cost: '" + *cost + "' is not default, latency, hops or weight");
    q.model.kind = *kind;
  }
  if (const auto cls = a.opt_str("class")) {
    const auto w = class_weights(*cls);
    if (!w) throw UsageError("option --class: unknown traffic class '" + *cls + "' (default, realtime, bulk, secure)");
    q.model.weights = *w;
    q.traffic_class = *cls;
  }
  if (a.has("max-hops")) q.constraints.max_hops = static_cast<int>(a.uint("max-hops", 1, 1'000'000));
  if (const auto v = a.opt_str("avoid-nodes")) {
    for (const auto& id : split_list(*v)) {
      if (!topo.find(id)) throw UsageError("option --avoid-nodes: '" + id + "' is not a node in the topology");
      q.constraints.avoid_nodes.insert(id);
    }
  }
  if (const auto v = a.opt_str("avoid-roles")) {
    for (const auto& r : split_list(*v)) {
      const auto role = role_from_string(r);
      if (!role) throw UsageError("option --avoid-roles: '" + r + "' is not core, edge or transit");
      q.constraints.avoid_roles.insert(*role);
    }
  }
  if (const auto v = a.opt_str("avoid-regions")) {
    for (const auto& r : split_list(*v)) q.constraints.avoid_regions.insert(r);
  }
  if (a.has("min-security")) q.constraints.min_security_level = static_cast<int>(a.uint("min-security", 0, 1000));
  if (const auto w = a.opt_str("via")) {
    if (!topo.find(*w)) throw UsageError("option --via: '" + *w + "' is not a node in the topology");
    q.constraints.waypoint = *w;
  }
  q.format = a.opt_str("format").value_or("json");
  if (q.format != "json" && q.format != "dot") throw UsageError("option --format: '" + q.format + "' is not json or dot");
  return q;
}

std::vector<Path> solve(const Topology& topo, const CsrGraph& g, const Query& q) {
  PathFinder pf;
  const NodeIndex s = *topo.find(q.from), t = *topo.find(q.to);
  if (q.constraints.waypoint) {
    auto p = pf.via_waypoint(g, s, *topo.find(*q.constraints.waypoint), t, q.algo, q.constraints.max_hops);
    if (!p) return {};
    return {std::move(*p)};
  }
  if (q.k == 1) {
    auto p = pf.shortest(g, s, t, q.algo, q.constraints.max_hops);
    if (!p) return {};
    return {std::move(*p)};
  }
  return pf.k_shortest(g, s, t, q.k, q.constraints.max_hops);
}

json path_json(const Topology& topo, const CsrGraph& g, const CostModel& model, const Path& p) {
  json nodes = json::array(), links = json::array();
  for (NodeIndex v : p.nodes) nodes.push_back(topo.nodes()[v].id);
  for (std::size_t i = 0; i < p.edges.size(); ++i) {
    const CsrEdge& e = g.edge(p.edges[i]);
    const Link& link = topo.links()[e.link];
    const LinkCostBreakdown b = explain_link(link, model);
    const bool transit = i + 1 < p.edges.size();
    json row = {{"src", topo.nodes()[link.src].id},
                {"dst", topo.nodes()[link.dst].id},
                {"latency_ms", link.latency_ms},
                {"link_cost", b.link_cost},
                {"transit_cost", transit ? g.entry_cost(g.to_internal(link.dst)) : 0.0}};
    if (model.kind == CostKind::weighted) {
      row["queue_ms"] = b.queue_ms;
      row["jitter_term"] = b.jitter_term;
      row["loss_term"] = b.loss_term;
      row["money_term"] = b.money_term;
      row["headroom_term"] = b.headroom_term;
      row["utilisation"] = link.predicted_utilisation.value_or(link.utilisation);
    }
    row["cost"] = row["link_cost"].get<double>() + row["transit_cost"].get<double>();
    links.push_back(std::move(row));
  }
  return {{"nodes", nodes}, {"cost", p.cost}, {"hops", p.hops()}, {"links", links}};
}

void print_dot(const Topology& topo, const Query& q, const std::vector<Path>& paths) {
  static const char* kColours[] = {"red", "blue", "darkgreen", "orange", "purple", "brown"};
  std::map<std::pair<NodeIndex, NodeIndex>, std::size_t> on_path;  // unordered pair -> first path index
  std::set<NodeIndex> path_nodes;
  for (std::size_t i = paths.size(); i-- > 0;) {
    for (std::size_t j = 0; j < paths[i].edges.size(); ++j) {
      const NodeIndex a = paths[i].nodes[j], b = paths[i].nodes[j + 1];
      on_path[{std::min(a, b), std::max(a, b)}] = i;
    }
    path_nodes.insert(paths[i].nodes.begin(), paths[i].nodes.end());
  }
  std::cout << "graph meshgw {\n  graph [overlap=false, splines=true, label=" << dot_id(q.from + " -> " + q.to + " (" +
                                                                                      to_string(q.model.kind) + ")")
            << "];\n  node [shape=circle, fontsize=10];\n";
  for (NodeIndex v = 0; v < topo.node_count(); ++v) {
    const Node& n = topo.nodes()[v];
    std::cout << "  " << dot_id(n.id) << " [";
    if (n.lat && n.lon) std::cout << "pos=\"" << *n.lon * 10 << "," << *n.lat * 10 << "!\", ";
    if (n.id == q.from || n.id == q.to) std::cout << "style=filled, fillcolor=gold, ";
    else if (path_nodes.count(v)) std::cout << "style=filled, fillcolor=lightpink, ";
    std::cout << "label=" << dot_id(n.id) << "];\n";
  }
  std::set<std::pair<NodeIndex, NodeIndex>> drawn;
  for (const Link& l : topo.links()) {
    const std::pair<NodeIndex, NodeIndex> key{std::min(l.src, l.dst), std::max(l.src, l.dst)};
    if (!drawn.insert(key).second) continue;
    std::cout << "  " << dot_id(topo.nodes()[key.first].id) << " -- " << dot_id(topo.nodes()[key.second].id) << " [";
    if (const auto it = on_path.find(key); it != on_path.end()) {
      std::cout << "color=" << kColours[it->second % 6] << ", penwidth=" << (it->second == 0 ? 4 : 2.5)
                << ", label=\"" << std::setprecision(4) << l.latency_ms << " ms\"";
    } else {
      std::cout << "color=gray70" << (l.up ? "" : ", style=dashed");
    }
    std::cout << "];\n";
  }
  std::cout << "}\n";
}

}  // namespace

int path_command(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << kPathUsage;
    return 0;
  }
  try {
    const Args a(args,
                 {"topology", "from", "to", "k", "algo", "class", "cost", "max-hops", "format", "avoid-nodes",
                  "avoid-roles", "avoid-regions", "min-security", "via"},
                 {});
    const std::string file = a.str("topology");
    const Topology topo = common::load_topology_json(file);
    const Query q = parse_query(a, topo);
    const CsrGraph g(topo, q.model, q.constraints);
    const std::vector<Path> paths = solve(topo, g, q);
    if (q.format == "dot") {
      print_dot(topo, q, paths);
      return 0;
    }
    json out = {{"from", q.from},
                {"to", q.to},
                {"algorithm", q.constraints.max_hops ? "bellman-ford" : to_string(q.algo)},
                {"cost_model", to_string(q.model.kind)},
                {"class", q.traffic_class},
                {"k", q.k},
                {"reachable", !paths.empty()},
                {"paths", json::array()}};
    for (const Path& p : paths) out["paths"].push_back(path_json(topo, g, q.model, p));
    std::cout << out.dump(2) << "\n";  // doubles round-trip exactly
    return 0;
  } catch (const UsageError& e) {
    std::cerr << "meshctl path: " << e.what() << "\n(see meshctl path --help)\n";
    return 2;
  }
}

}  // namespace meshgw::cli
