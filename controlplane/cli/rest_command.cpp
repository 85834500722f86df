// SPDX-License-Identifier: BSD-3-Clause
#include "rest_command.hpp"

#include <iostream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "args.hpp"
#include "dot.hpp"
#include "gateway_command.hpp"
#include "rest_support.hpp"
#include "whatif_command.hpp"

namespace meshgw::cli {

using namespace rest;

const char* const kRestUsage = R"(usage: meshctl RESOURCE [VERB] [options]     (against a running meshctld)

resources and verbs:
  health                          GET /healthz
  gateways [list]                 registered gateways
  gateways show|evict|revoke --id ID
  tokens [list]                   tokens (never their secrets)
  tokens create [--kind join|admin|read-only] [--role core|edge|transit]
                [--lifetime SECONDS (0: never)] [--uses N (-1: unlimited)]
                [--ephemeral true|false] [--site S] [--region R] [--description D]
  tokens delete --id ID
  links                           measured links, load and utilisation
  topology [--format table|json|dot] [--path A,B,C]   the live mesh (dot:
                                  Graphviz, gateways placed by their
                                  coordinates, links coloured by utilisation;
                                  --path draws one flow's path in blue)
  events [--after SEQ] [--limit N] [--follow]
  policies [get]                  the mesh policy
  policies set --file FILE        replace it (JSON, see controlplane/api/policy_json.hpp)
  paths --from A --to B [--class C] [--k N]   best paths, by the gateways' routing code
  spis                            SPI allocations and their paths
  whatif [--fail-link A-B[,C-D...]] [--fail-gateway G[,H...]]
         [--add-demand FROM:TO:RATE[:CLASS][,...]] [--hot SHARE]
                                  what would happen, before anything is done:
                                  the flows that would move (at once, or after
                                  the hold time), where to, which would be
                                  lost, and the links whose load would change
                                  or that would run hot (>= SHARE of capacity,
                                  default 0.8); gateways by ID or site; RATE in
                                  bits/s with k, M or G (5M); the gateways'
                                  own candidate paths and hysteresis decide
  metrics | openapi               /metrics text, the OpenAPI document
  register --join-token T --key FILE --cert-out FILE [--role R]
                                  register a gateway (key: a PEM P-256 key;
                                  created 0600 if missing); prints its ID
  gateway paths|peers|stats --stats http://HOST:PORT   a gateway's own admin endpoint
                                  (meshgw [stats] listen): its paths per egress and
                                  class (primary, backups, costs), its counters
  explain --stats http://HOST:PORT --to EGRESS [--class C]
                                  why that gateway's traffic to EGRESS takes its
                                  path: each link's cost terms and the forecast
                                  used, the hysteresis state, every rejected
                                  alternative with its cost and the reason
  gw state|renew|report|tunnel-create|tunnel-delete  the gateway API, with
                                  --cert FILE --key FILE (renew: --cert-out;
                                  report: --file; tunnel-create: --path A,B,C;
                                  tunnel-delete: --spi N)

connection options (else MESHCTL_SERVER, MESHCTL_CA, MESHCTL_TOKEN, else the
config file MESHCTL_CONFIG or ~/.config/meshctl/config.toml with server, ca,
token keys, mode 0600):
  --server https://HOST:PORT      default https://127.0.0.1:8443
  --ca FILE                       the mesh CA (ca.pem of meshctld init)
  --token TOKEN                   bearer token (admin or read-only)
  -o, --output table|json         default table

exit status: 0 done; 1 refused by the server (its error printed) or not
reachable; 2 bad command line.
)";

namespace {

const std::set<std::string> kResources = {"health", "gateways", "tokens", "links", "topology", "events", "policies",
                                          "paths", "spis", "whatif", "metrics", "openapi", "register", "gw", "gateway",
                                          "explain"};

void print_gateways(const json& gws) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : gws)
    rows.push_back({text_of(g["id"]), text_of(g["role"]), text_of(g["status"]), text_of(g["site"]),
                    text_of(g["region"]), joined(g["addresses"], ","), fixed(g["load_permille"].get<double>() / 10, 1) + "%",
                    when(g["status_since"].get<std::int64_t>())});
  print_table({"ID", "ROLE", "STATUS", "SITE", "REGION", "ADDRESSES", "LOAD", "SINCE"}, rows);
}

void print_links(const json& links) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : links)
    rows.push_back({text_of(l["from"]), text_of(l["to"]), fixed(l["rtt_us"].get<double>() / 1000, 2),
                    fixed(l["jitter_us"].get<double>() / 1000, 2), fixed(l["loss_ppm"].get<double>() / 1e4, 3),
                    fixed(l["load_bps"].get<double>() / 1e6, 1), fixed(l["utilisation"].get<double>() * 100, 1)});
  print_table({"FROM", "TO", "RTT_MS", "JITTER_MS", "LOSS_%", "LOAD_MBPS", "UTIL_%"}, rows);
}

// The live mesh for Graphviz (neato -n2 keeps the positions): gateways at
// their coordinates, coloured by status; each measured gateway pair once,
// coloured and widened by the higher utilisation of its two directions;
// one flow's path (highlight, ingress first) drawn over it in blue, arrowed.
// Throws UsageError when a hop of it is not a measured link.
void print_topology_dot(const json& state, const std::vector<std::string>& highlight) {
  std::map<std::pair<std::string, std::string>, std::pair<double, double>> pairs;  // -> (util, rtt ms)
  for (const auto& l : state["links"]) {
    std::string a = text_of(l["from"]), b = text_of(l["to"]);
    if (b < a) std::swap(a, b);
    auto& v = pairs[{a, b}];
    v.first = std::max(v.first, l["utilisation"].get<double>());
    v.second = std::max(v.second, l["rtt_us"].get<double>() / 1000);
  }
  std::set<std::pair<std::string, std::string>> on_path;
  for (std::size_t i = 0; i + 1 < highlight.size(); ++i) {
    std::string a = highlight[i], b = highlight[i + 1];
    if (b < a) std::swap(a, b);
    if (!pairs.contains({a, b}))
      throw UsageError("option --path: " + highlight[i] + " and " + highlight[i + 1] + " have no measured link");
    on_path.insert({a, b});
  }
  std::cout << "graph meshgw {\n  graph [overlap=false, splines=true, label=" << dot_id("mesh version " + text_of(state["version"]))
            << "];\n  node [shape=box, style=\"rounded,filled\", fontsize=10];\n";
  for (const auto& g : state["gateways"]) {
    const std::string status = text_of(g["status"]);
    const char* fill = status == "up" ? "palegreen" : status == "down" ? "lightcoral" : status == "revoked" ? "gray70" : "lightyellow";
    // ID, the site its join token named (if any), role.
    const std::string site = g.contains("site") && g["site"].is_string() ? g["site"].get<std::string>() : "";
    std::cout << "  " << dot_id(text_of(g["id"])) << " [label="
              << dot_id(text_of(g["id"]) + (site.empty() ? "" : "\n" + site) + "\n" + text_of(g["role"]))
              << ", fillcolor=" << fill;
    const double lat = g["latitude"].get<double>(), lon = g["longitude"].get<double>();
    if (lat != 0 || lon != 0) std::cout << ", pos=\"" << fixed(lon * 20, 1) << "," << fixed(lat * 20, 1) << "!\"";
    std::cout << "];\n";
  }
  for (const auto& [key, v] : pairs) {
    if (on_path.contains(key)) continue;  // drawn with the path below
    const char* colour = v.first >= 0.8 ? "red" : v.first >= 0.5 ? "orange" : v.first > 0 ? "darkgreen" : "gray40";
    std::cout << "  " << dot_id(key.first) << " -- " << dot_id(key.second) << " [color=" << colour
              << ", penwidth=" << fixed(1 + 4 * std::min(1.0, v.first), 1) << ", label=\"" << fixed(v.second, 1) << " ms "
              << fixed(v.first * 100, 0) << "%\", fontsize=8];\n";
  }
  for (std::size_t i = 0; i + 1 < highlight.size(); ++i) {
    std::string a = highlight[i], b = highlight[i + 1];
    const auto& v = pairs[a < b ? std::pair{a, b} : std::pair{b, a}];
    const std::string label = (i == 0 ? "flow " + joined(json(highlight), ">") + "\n" : std::string()) +
                              fixed(v.second, 1) + " ms " + fixed(v.first * 100, 0) + "%";
    std::cout << "  " << dot_id(a) << " -- " << dot_id(b) << " [color=blue, penwidth=5, dir=forward, label="
              << dot_id(label) << ", fontcolor=blue, fontsize=8];\n";
  }
  std::cout << "}\n";
}

int gateways(std::vector<std::string> args) {
  const std::string verb = verb_in(args, "gateways", "list", {"list", "show", "evict", "revoke"});
  const Args a(args, with_connection({"id"}), {});
  const Connection c = connection(a);
  RestClient client(c.endpoint);
  if (verb == "list") return show(client, c, "/v1/gateways", [](const json& j) { print_gateways(j["gateways"]); });
  const std::string id = query_escape(a.str("id"));
  if (verb == "show") return show(client, c, "/v1/gateways/" + id, [](const json& j) { print_gateways(json::array({j})); });
  auto event = [](const json& j) { std::cout << text_of(j["kind"]) << " " << text_of(j["gateway"]) << "\n"; };
  if (verb == "evict") return send_and_print(client, c, "DELETE", "/v1/gateways/" + id, "", 200, event);
  return send_and_print(client, c, "POST", "/v1/gateways/" + id + "/revoke", "", 200, event);  // revoke
}

void print_tokens(const json& tokens) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : tokens) {
    const auto uses = t["uses_left"].get<std::int64_t>();
    rows.push_back({text_of(t["id"]), text_of(t["kind"]), t["kind"] == "join" ? text_of(t["role"]) : "",
                    t["kind"] != "join" ? "" : uses < 0 ? "unlimited" : std::to_string(uses),
                    when(t["expires_at"].get<std::int64_t>()), text_of(t["description"])});
  }
  print_table({"ID", "KIND", "ROLE", "USES_LEFT", "EXPIRES", "DESCRIPTION"}, rows);
}

int tokens(std::vector<std::string> args) {
  const std::string verb = verb_in(args, "tokens", "list", {"list", "create", "delete"});
  const Args a(args, with_connection({"id", "kind", "role", "lifetime", "uses", "ephemeral", "site", "region", "description"}),
               {});
  const Connection c = connection(a);
  RestClient client(c.endpoint);
  if (verb == "list") return show(client, c, "/v1/tokens", [](const json& j) { print_tokens(j["tokens"]); });
  if (verb == "delete")
    return send_and_print(client, c, "DELETE", "/v1/tokens/" + query_escape(a.str("id")), "", 200,
                          [](const json& j) { std::cout << "deleted " << text_of(j["deleted"]) << "\n"; });
  json body = {{"kind", a.opt_str("kind").value_or("join")}, {"role", a.opt_str("role").value_or("edge")},
               {"lifetime_s", int_option(a, "lifetime", 0, 10LL * 365 * 86400, 3600)},
               {"uses", int_option(a, "uses", -1, 1'000'000'000, 1)}};
  if (a.has("ephemeral")) body["ephemeral"] = bool_option(a, "ephemeral", false);
  for (const char* f : {"site", "region", "description"})
    if (auto v = a.opt_str(f)) body[f] = *v;
  return send_and_print(client, c, "POST", "/v1/tokens", body.dump(), 201, [](const json& j) {
    // The token is printed once, alone on its line, so scripts can take it.
    std::cerr << "created " << text_of(j["kind"]) << " token " << text_of(j["id"]) << " (shown once)\n";
    std::cout << text_of(j["token"]) << "\n";
  });
}

int events(std::vector<std::string> args) {
  const Args a(args, with_connection({"after", "limit"}), {"follow"});
  const Connection c = connection(a);
  RestClient client(c.endpoint);
  const std::uint64_t after = a.uint("after", 0, ~std::uint64_t{0} >> 1, 0);
  auto row = [](const json& e) {
    return std::vector<std::string>{text_of(e["seq"]), when(e["time_ms"].get<std::int64_t>() / 1000), text_of(e["kind"]),
                                    text_of(e["gateway"]), text_of(e["detail"])};
  };
  if (a.has("follow")) {
    const int status = client.stream("/v1/events/watch?after=" + std::to_string(after), [&](const std::string& line) {
      const json e = json::parse(line);
      if (e.contains("heartbeat")) return true;
      if (c.output == "json") std::cout << e.dump() << std::endl;
      else {
        const auto r = row(e);
        std::cout << r[0] << "  " << r[1] << "  " << r[2] << "  " << r[3] << "  " << r[4] << std::endl;
      }
      return true;
    });
    return status == 200 ? 0 : 1;
  }
  const std::string target = "/v1/events?after=" + std::to_string(after) + "&limit=" +
                             std::to_string(a.uint("limit", 1, 1000, 100));
  return show(client, c, target, [&](const json& j) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : j["events"]) rows.push_back(row(e));
    print_table({"SEQ", "TIME", "KIND", "GATEWAY", "DETAIL"}, rows);
  });
}

void print_policy(const json& p) {
  std::cout << "edge gateways may relay: " << (p["edge_transit"].get<bool>() ? "yes" : "no") << "\n";
  std::cout << "paths priced on forecast loads: " << (p.value("predict", true) ? "yes" : "no (loads now)") << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : p["rules"]) {
    std::string match;
    for (const char* f : {"src", "dst", "protocol", "src_ports", "dst_ports", "dscp"})
      if (r.contains(f)) match += std::string(match.empty() ? "" : " ") + f + "=" + text_of(r[f]);
    rows.push_back({text_of(r["name"]), text_of(r["priority"]), match.empty() ? "any" : match, text_of(r["action"]),
                    text_of(r["class"])});
  }
  print_table({"NAME", "PRIORITY", "MATCH", "ACTION", "CLASS"}, rows);
}

int policies(std::vector<std::string> args) {
  const std::string verb = verb_in(args, "policies", "get", {"get", "set"});
  const Args a(args, with_connection({"file"}), {});
  const Connection c = connection(a);
  RestClient client(c.endpoint);
  if (verb == "get") return show(client, c, "/v1/policies", print_policy);
  return send_and_print(client, c, "PUT", "/v1/policies", read_file(a.str("file")), 200, print_policy);
}

int paths(const std::vector<std::string>& args) {
  const Args a(args, with_connection({"from", "to", "class", "k"}), {});
  const Connection c = connection(a);
  RestClient client(c.endpoint);
  std::string target = "/v1/paths?from=" + query_escape(a.str("from")) + "&to=" + query_escape(a.str("to"));
  if (auto cls = a.opt_str("class")) target += "&class=" + query_escape(*cls);
  target += "&k=" + std::to_string(a.uint("k", 1, 16, 1));
  return show(client, c, target, [](const json& j) {
    if (!j["reachable"].get<bool>()) {
      std::cout << "no path from " << text_of(j["from"]) << " to " << text_of(j["to"]) << "\n";
      return;
    }
    std::vector<std::vector<std::string>> rows;
    int rank = 0;
    for (const auto& p : j["paths"])
      rows.push_back({std::to_string(++rank), fixed(p["cost"].get<double>(), 3), text_of(p["hops"]),
                      fixed(p["latency_ms"].get<double>(), 2), joined(p["nodes"], " > ")});
    print_table({"RANK", "COST", "HOPS", "LATENCY_MS", "PATH"}, rows);
  });
}

}  // namespace

bool is_rest_command(const std::string& command) { return kResources.count(command) != 0; }

int rest_command(const std::string& command, const std::vector<std::string>& raw) {
  std::vector<std::string> args;
  for (const auto& x : raw) args.push_back(x == "-o" ? "--output" : x);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    std::cout << kRestUsage;
    return 0;
  }
  try {
    if (command == "gateways") return gateways(args);
    if (command == "tokens") return tokens(args);
    if (command == "events") return events(args);
    if (command == "policies") return policies(args);
    if (command == "paths") return paths(args);
    if (command == "register") return register_gateway(args);
    if (command == "gw") return gateway_api(args);
    if (command == "gateway") return gateway_admin(args);
    if (command == "explain") return explain(args);
    if (command == "whatif") return whatif(args);
    const Args a(args, command == "topology" ? with_connection({"format", "path"}) : with_connection({}), {});
    const Connection c = connection(a);
    RestClient client(c.endpoint);
    if (command == "health")
      return show(client, c, "/healthz", [](const json& j) {
        std::cout << text_of(j["status"]) << " (epoch " << text_of(j["epoch"]) << ", version " << text_of(j["version"])
                  << ")\n";
      });
    if (command == "links") return show(client, c, "/v1/links", [](const json& j) { print_links(j["links"]); });
    if (command == "spis") return show(client, c, "/v1/spis", [](const json& j) { print_spis(j["spis"]); });
    if (command == "openapi") return show(client, c, "/openapi.json", {});
    if (command == "metrics") {
      const RestAnswer r = client.request("GET", "/metrics");
      if (r.status != 200) return refused(r);
      std::cout << r.body;
      return 0;
    }
    // topology
    const std::string format = a.opt_str("format").value_or(c.output == "json" ? "json" : "table");
    if (format != "table" && format != "json" && format != "dot")
      throw UsageError("option --format: must be table, json or dot");
    std::vector<std::string> highlight;
    if (const auto p = a.opt_str("path")) {
      if (format != "dot") throw UsageError("option --path: only with --format dot");
      highlight = split_list(*p);
      if (highlight.size() < 2) throw UsageError("option --path: give the flow's gateways, ingress first: A,B[,C...]");
    }
    Connection shown = c;
    shown.output = format == "json" ? "json" : "table";
    return show(client, shown, "/v1/topology", [&](const json& j) {
      if (format == "dot") {
        print_topology_dot(j, highlight);
        return;
      }
      std::cout << "mesh version " << text_of(j["version"]) << " (epoch " << text_of(j["epoch"]) << ")\n\n";
      print_gateways(j["gateways"]);
      std::cout << "\n";
      print_links(j["links"]);
    });
  } catch (const UsageError& e) {
    std::cerr << "meshctl " << command << ": " << e.what() << " (try meshctl " << command << " --help)\n";
    return 2;
  } catch (const std::runtime_error& e) {
    std::cerr << "meshctl " << command << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace meshgw::cli

