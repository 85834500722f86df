// SPDX-License-Identifier: BSD-3-Clause
#include "rest_command.hpp"

#include <sys/stat.h>
#include <toml++/toml.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "args.hpp"
#include "controlplane/common/secret_file.hpp"
#include "crypto/pki.hpp"
#include "controlplane/common/rest_client.hpp"

namespace meshgw::cli {

using common::RestAnswer;
using common::RestClient;
using common::RestEndpoint;
using nlohmann::json;

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
  topology [--format table|json|dot]   the live mesh (dot: Graphviz, gateways
                                  placed by their coordinates, links coloured
                                  by utilisation)
  events [--after SEQ] [--limit N] [--follow]
  policies [get]                  the mesh policy
  policies set --file FILE        replace it (JSON, see controlplane/api/policy_json.hpp)
  paths --from A --to B [--class C] [--k N]   best paths, by the gateways' routing code
  spis                            SPI allocations and their paths
  metrics | openapi               /metrics text, the OpenAPI document
  register --join-token T --key FILE --cert-out FILE [--role R]
                                  register a gateway (key: a PEM P-256 key;
                                  created 0600 if missing); prints its ID
  gateway paths|stats --stats http://HOST:PORT   a gateway's own admin endpoint
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
                                          "paths", "spis", "metrics", "openapi", "register", "gw", "gateway",
                                          "explain"};

struct Connection {
  RestEndpoint endpoint;
  std::string output = "table";
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// server, ca and token from the config file, if there is one.
std::map<std::string, std::string> config_file() {
  std::string path = env("MESHCTL_CONFIG");
  if (path.empty() && !env("HOME").empty()) path = env("HOME") + "/.config/meshctl/config.toml";
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  const std::string text = common::read_secret_text(path, 65536);  // holds a token: 0600 only
  toml::table t;
  try {
    t = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << path << ":" << e.source().begin.line << ": " << e.description();
    throw std::runtime_error(m.str());
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key != "server" && key != "ca" && key != "token")
      throw std::runtime_error(path + ": unknown key '" + key + "' (allowed: server, ca, token)");
    if (!v.is_string()) throw std::runtime_error(path + ": " + key + " must be a string");
    out[key] = *v.value<std::string>();
  }
  return out;
}

Connection connection(const Args& a) {
  const auto file = config_file();
  auto pick = [&](const char* flag, const char* var, const char* key, const std::string& fallback) {
    if (auto v = a.opt_str(flag)) return *v;
    if (const std::string e = env(var); !e.empty()) return e;
    if (const auto it = file.find(key); it != file.end()) return it->second;
    return fallback;
  };
  Connection c;
  try {
    c.endpoint = RestEndpoint::from_url(pick("server", "MESHCTL_SERVER", "server", "https://127.0.0.1:8443"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("option --server: ") + e.what());
  }
  c.endpoint.ca_file = pick("ca", "MESHCTL_CA", "ca", "");
  c.endpoint.token = pick("token", "MESHCTL_TOKEN", "token", "");
  c.output = a.opt_str("output").value_or("table");
  if (c.output != "table" && c.output != "json") throw UsageError("option --output: must be table or json");
  return c;
}

const std::set<std::string> kConnectionOptions = {"server", "ca", "token", "output"};

std::set<std::string> with_connection(std::set<std::string> options) {
  options.insert(kConnectionOptions.begin(), kConnectionOptions.end());
  return options;
}

// A refusal: the server's error message (and the field), exit 1.
int refused(const RestAnswer& r) {
  std::string message = r.body;
  try {
    const json j = json::parse(r.body);
    message = j.value("error", r.body);
    if (j.contains("field")) message = j["field"].get<std::string>() + ": " + message;
  } catch (const json::exception&) {
  }
  std::cerr << "meshctl: server answered " << r.status << ": " << message << "\n";
  return 1;
}

std::string when(std::int64_t unix_s) {
  if (unix_s == 0) return "never";
  const std::time_t t = unix_s;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

// Columns padded to their widest cell.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::string joined(const json& list, const char* sep) {
  std::string out;
  for (const auto& x : list) out += (out.empty() ? "" : sep) + text_of(x);
  return out;
}

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

std::string dot_id(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The live mesh for Graphviz (neato -n2 keeps the positions): gateways at
// their coordinates, coloured by status; each measured gateway pair once,
// coloured and widened by the higher utilisation of its two directions.
void print_topology_dot(const json& state) {
  std::cout << "graph meshgw {\n  graph [overlap=false, splines=true, label=" << dot_id("mesh version " + text_of(state["version"]))
            << "];\n  node [shape=box, style=\"rounded,filled\", fontsize=10];\n";
  for (const auto& g : state["gateways"]) {
    const std::string status = text_of(g["status"]);
    const char* fill = status == "up" ? "palegreen" : status == "down" ? "lightcoral" : status == "revoked" ? "gray70" : "lightyellow";
    std::cout << "  " << dot_id(text_of(g["id"])) << " [label=" << dot_id(text_of(g["id"]) + "\\n" + text_of(g["role"]))
              << ", fillcolor=" << fill;
    const double lat = g["latitude"].get<double>(), lon = g["longitude"].get<double>();
    if (lat != 0 || lon != 0) std::cout << ", pos=\"" << fixed(lon * 20, 1) << "," << fixed(lat * 20, 1) << "!\"";
    std::cout << "];\n";
  }
  std::map<std::pair<std::string, std::string>, std::pair<double, double>> pairs;  // -> (util, rtt ms)
  for (const auto& l : state["links"]) {
    std::string a = text_of(l["from"]), b = text_of(l["to"]);
    if (b < a) std::swap(a, b);
    auto& v = pairs[{a, b}];
    v.first = std::max(v.first, l["utilisation"].get<double>());
    v.second = std::max(v.second, l["rtt_us"].get<double>() / 1000);
  }
  for (const auto& [key, v] : pairs) {
    const char* colour = v.first >= 0.8 ? "red" : v.first >= 0.5 ? "orange" : v.first > 0 ? "darkgreen" : "gray40";
    std::cout << "  " << dot_id(key.first) << " -- " << dot_id(key.second) << " [color=" << colour
              << ", penwidth=" << fixed(1 + 4 * std::min(1.0, v.first), 1) << ", label=\"" << fixed(v.second, 1) << " ms "
              << fixed(v.first * 100, 0) << "%\", fontsize=8];\n";
  }
  std::cout << "}\n";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// GET and print as JSON or with the table printer.
int show(RestClient& client, const Connection& c, const std::string& target,
         const std::function<void(const json&)>& table) {
  const RestAnswer r = client.request("GET", target);
  if (r.status != 200) return refused(r);
  if (c.output == "json" || !table) {
    try {
      std::cout << json::parse(r.body).dump(2) << "\n";
    } catch (const json::exception&) {
      std::cout << r.body;
    }
    return 0;
  }
  table(json::parse(r.body));
  return 0;
}

int send_and_print(RestClient& client, const Connection& c, const std::string& method, const std::string& target,
                   const std::string& body, int expect, const std::function<void(const json&)>& table) {
  const RestAnswer r = client.request(method, target, body);
  if (r.status != expect) return refused(r);
  const json j = json::parse(r.body);
  if (c.output == "json" || !table) std::cout << j.dump(2) << "\n";
  else table(j);
  return 0;
}

std::string verb_of(std::vector<std::string>& args, const std::string& fallback) {
  if (!args.empty() && args[0].rfind("-", 0) != 0) {
    const std::string v = args[0];
    args.erase(args.begin());
    return v;
  }
  return fallback;
}

[[noreturn]] void bad_verb(const std::string& resource, const std::string& verb, const char* allowed) {
  throw UsageError(resource + ": unknown verb '" + verb + "' (" + allowed + ")");
}

bool bool_option(const Args& a, const std::string& name, bool fallback) {
  const auto v = a.opt_str(name);
  if (!v) return fallback;
  if (*v == "true") return true;
  if (*v == "false") return false;
  throw UsageError("option --" + name + ": must be true or false");
}

std::int64_t int_option(const Args& a, const std::string& name, std::int64_t lo, std::int64_t hi, std::int64_t fallback) {
  const auto v = a.opt_str(name);
  if (!v) return fallback;
  if (*v == "-1" && lo <= -1) return -1;
  return static_cast<std::int64_t>(parse_uint(name, *v, static_cast<std::uint64_t>(std::max<std::int64_t>(lo, 0)),
                                              static_cast<std::uint64_t>(hi)));
}

std::string query_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

// The verb, taken from the front of args and checked against the allowed ones.
std::string verb_in(std::vector<std::string>& args, const std::string& resource, const std::string& fallback,
                    std::initializer_list<const char*> allowed) {
  const std::string verb = verb_of(args, fallback);
  std::string list;
  for (const char* a : allowed) {
    if (verb == a) return verb;
    list += std::string(list.empty() ? "" : ", ") + a;
  }
  bad_verb(resource, verb, list.c_str());
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

void print_spis(const json& spis) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : spis)
    rows.push_back({text_of(s["spi"]), text_of(s["from"]), text_of(s["to"]), joined(s["path"], " > ")});
  print_table({"SPI", "FROM", "TO", "PATH"}, rows);
}

std::string key_pem_for(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const auto key = crypto::pki::PrivateKey::generate_p256();
    common::write_secret_text(path, key.pem(), false);
  }
  return common::read_secret_text(path, 16384);
}

int register_gateway(const std::vector<std::string>& args) {
  const Args a(args, with_connection({"join-token", "key", "cert-out", "role"}), {});
  const Connection c = connection(a);
  RestClient client(c.endpoint);
  const auto key = crypto::pki::PrivateKey::from_pem(key_pem_for(a.str("key")));
  json body = {{"token", a.str("join-token")}, {"csr", crypto::pki::make_csr(key, "meshctl")}};
  if (auto role = a.opt_str("role")) body["role"] = *role;
  const RestAnswer r = client.request("POST", "/v1/register", body.dump());
  if (r.status != 201) return refused(r);
  const json j = json::parse(r.body);
  std::ofstream(a.str("cert-out")) << j["certificate"].get<std::string>();
  if (c.output == "json") {
    json shown = j;
    shown.erase("beacon_key");  // a secret: not for a terminal
    std::cout << shown.dump(2) << "\n";
  } else {
    std::cout << text_of(j["gateway_id"]) << " " << text_of(j["role"]) << " certificate until "
              << when(j["cert_not_after"].get<std::int64_t>()) << "\n";
  }
  return 0;
}

int gateway_api(std::vector<std::string> args) {
  const std::string verb = verb_in(args, "gw", "state", {"state", "renew", "report", "tunnel-create", "tunnel-delete"});
  const Args a(args, with_connection({"cert", "key", "cert-out", "file", "path", "spi"}), {});
  Connection c = connection(a);
  c.endpoint.cert_file = a.str("cert");
  c.endpoint.key_file = a.str("key");
  RestClient client(c.endpoint);
  if (verb == "state") return show(client, c, "/v1/gw/state", {});
  if (verb == "renew") {
    const auto key = crypto::pki::PrivateKey::from_pem(common::read_secret_text(a.str("key"), 16384));
    const RestAnswer r = client.request("POST", "/v1/gw/renew", json{{"csr", crypto::pki::make_csr(key, "meshctl")}}.dump());
    if (r.status != 200) return refused(r);
    const json j = json::parse(r.body);
    std::ofstream(a.str("cert-out")) << j["certificate"].get<std::string>();
    std::cout << text_of(j["gateway_id"]) << " certificate until " << when(j["cert_not_after"].get<std::int64_t>()) << "\n";
    return 0;
  }
  if (verb == "report") return send_and_print(client, c, "POST", "/v1/gw/report", read_file(a.str("file")), 200, {});
  if (verb == "tunnel-create") {
    json path = json::array();
    std::stringstream ss(a.str("path"));
    for (std::string hop; std::getline(ss, hop, ',');) path.push_back(hop);
    return send_and_print(client, c, "POST", "/v1/gw/tunnels", json{{"path", path}}.dump(), 201, [](const json& j) {
      print_spis(json::array({j["forward"], j["reverse"]}));
    });
  }
  return send_and_print(client, c, "DELETE", "/v1/gw/tunnels/" + std::to_string(a.uint("spi", 256, 0xffffffffu)), "",
                        200, {});  // tunnel-delete
}

// A gateway's own admin endpoint (plain HTTP on its loopback listener).
json gateway_get(const Args& a, const std::string& path) {
  std::string base = a.str("stats");
  if (!base.empty() && base.back() == '/') base.pop_back();
  const RestAnswer r = common::http_get(base + path);
  json j;
  try {
    j = json::parse(r.body);
  } catch (const json::exception&) {
    throw std::runtime_error(base + path + ": answered " + std::to_string(r.status) + " with no JSON");
  }
  if (r.status != 200) throw std::runtime_error(base + path + ": " + std::to_string(r.status) + ": " + j.value("error", r.body));
  return j;
}

int gateway_admin(std::vector<std::string> args) {
  const std::string verb = verb_in(args, "gateway", "paths", {"paths", "stats"});
  const Args a(args, {"stats", "output"}, {});
  const bool as_json = a.opt_str("output").value_or("table") == "json";
  const json j = gateway_get(a, verb == "paths" ? "/v1/paths" : "/v1/stats");
  if (as_json || verb == "stats") {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : j["routes"]) {
    std::string backups;
    for (const auto& b : r["backups"]) backups += (backups.empty() ? "" : " | ") + joined(b["nodes"], ">");
    rows.push_back({text_of(r["egress"]), text_of(r["class"]),
                    r["has_route"].get<bool>() ? joined(r["primary"]["nodes"], " > ") : "(no path)",
                    r["has_route"].get<bool>() ? fixed(r["primary"]["cost"].get<double>(), 2) : "",
                    text_of(r["reason"]), backups});
  }
  print_table({"EGRESS", "CLASS", "PRIMARY", "COST", "REASON", "BACKUPS"}, rows);
  return 0;
}

int explain(const std::vector<std::string>& args) {
  const Args a(args, {"stats", "to", "class", "output"}, {});
  const std::string cls = a.opt_str("class").value_or("default");
  const json e = gateway_get(a, "/v1/explain?to=" + query_escape(a.str("to")) + "&class=" + query_escape(cls));
  if (a.opt_str("output").value_or("table") == "json") {
    std::cout << e.dump(2) << "\n";
    return 0;
  }
  std::cout << "traffic from " << text_of(e["from"]) << " to " << text_of(e["to"]) << " (class " << text_of(e["class"])
            << ")\n";
  if (e["primary"].is_null()) {
    std::cout << "  no path: " << text_of(e["reason"]) << "\n";
  } else {
    std::cout << "  takes " << joined(e["primary"]["nodes"], " > ") << ", cost " << fixed(e["primary"]["cost"].get<double>(), 3)
              << " (" << text_of(e["reason"]) << ")\n";
    for (const auto& l : e["primary"]["links"]) {
      std::cout << "    " << text_of(l["from"]) << " > " << text_of(l["to"]) << ": latency " << fixed(l["latency_ms"].get<double>(), 2)
                << " ms + queue " << fixed(l["queue_ms"].get<double>(), 2) << " ms, jitter " << fixed(l["jitter_term"].get<double>(), 2)
                << ", loss " << fixed(l["loss_term"].get<double>(), 2) << ", headroom " << fixed(l["headroom_term"].get<double>(), 2)
                << " = " << fixed(l["link_cost"].get<double>(), 3) << "; utilisation " << fixed(l["utilisation_now"].get<double>() * 100, 1)
                << "% now" << (l["utilisation_forecast"].is_null() ? std::string() : ", " + fixed(l["utilisation_forecast"].get<double>() * 100, 1) + "% forecast")
                << "\n";
    }
    const auto& hy = e["hysteresis"];
    std::cout << "  hysteresis: a challenger must be " << fixed(hy["relative_margin"].get<double>() * 100, 0) << "% and "
              << fixed(hy["absolute_margin"].get<double>(), 2) << " cheaper for " << fixed(hy["hold_ns"].get<double>() / 1e9, 1)
              << " s" << (hy["challenger_pending"].get<bool>() ? "; one is pending now" : "") << "\n";
  }
  for (const auto& alt : e["alternatives"])
    std::cout << "  not " << joined(alt["nodes"], " > ") << " (cost " << fixed(alt["cost"].get<double>(), 3) << "): "
              << text_of(alt["verdict"]) << "\n";
  for (const auto& x : e["excluded"]) std::cout << "  not through " << text_of(x["gateway"]) << ": " << text_of(x["reason"]) << "\n";
  return 0;
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
    const Args a(args, command == "topology" ? with_connection({"format"}) : with_connection({}), {});
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
    Connection shown = c;
    shown.output = format == "json" ? "json" : "table";
    return show(client, shown, "/v1/topology", [&](const json& j) {
      if (format == "dot") {
        print_topology_dot(j);
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
