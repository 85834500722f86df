// SPDX-License-Identifier: BSD-3-Clause
#include "gateway_command.hpp"

#include "routing/forwarding_plan.hpp"

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
#include "controlplane/common/rest_client.hpp"
#include "controlplane/common/secret_file.hpp"
#include "crypto/pki.hpp"
#include "rest_support.hpp"

namespace meshgw::cli {

using namespace rest;

namespace {

std::string key_pem_for(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const auto key = crypto::pki::PrivateKey::generate_p256();
    common::write_secret_text(path, key.pem(), false);
  }
  return common::read_secret_text(path, 16384);
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

}  // namespace

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
    const json path = split_list(a.str("path"));
    return send_and_print(client, c, "POST", "/v1/gw/tunnels", json{{"path", path}}.dump(), 201, [](const json& j) {
      print_spis(json::array({j["forward"], j["reverse"]}));
    });
  }
  return send_and_print(client, c, "DELETE", "/v1/gw/tunnels/" + std::to_string(a.uint("spi", 256, 0xffffffffu)), "",
                        200, {});  // tunnel-delete
}

int gateway_admin(std::vector<std::string> args) {
  const std::string verb = verb_in(args, "gateway", "paths", {"paths", "peers", "stats"});
  const Args a(args, {"stats", "output"}, {});
  const bool as_json = a.opt_str("output").value_or("table") == "json";
  const json j = gateway_get(a, verb == "paths" ? "/v1/paths" : verb == "peers" ? "/v1/peers" : "/v1/stats");
  if (as_json || verb == "stats") {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  if (verb == "peers") {
    std::vector<std::vector<std::string>> peers;
    for (const auto& p : j["peers"])
      peers.push_back({text_of(p["gateway"]), text_of(p["address"]), p["up"].get<bool>() ? "up" : "down",
                       fixed(p["rtt_us"].get<double>() / 1000, 3), fixed(p["jitter_us"].get<double>() / 1000, 3),
                       fixed(p["loss"].get<double>() * 100, 1), std::to_string(p["sent"].get<std::uint64_t>())});
    print_table({"PEER", "ADDRESS", "STATE", "RTT_MS", "JITTER_MS", "LOSS_%", "PROBES"}, peers);
    std::cout << "\n";
    std::vector<std::vector<std::string>> tunnels;
    for (const auto& t : j["tunnels"])
      tunnels.push_back({text_of(t["id"]), text_of(t["egress"]), joined(t["path"], " > "),
                         routing::spi_text(t["out_spi"].get<std::uint32_t>()) + "/" +
                             routing::spi_text(t["in_spi"].get<std::uint32_t>()),
                         std::to_string(t["epoch"].get<std::uint32_t>()), t["own"].get<bool>() ? "ours" : "peer's",
                         t["active"].get<bool>() ? "active" : (t["retiring"].get<bool>() ? "draining" : "standby"),
                         t["usable"].get<bool>() ? "yes" : "no"});
    print_table({"TUNNEL", "EGRESS", "PATH", "SPI_OUT/IN", "EPOCH", "SET_UP_BY", "STATE", "USABLE"}, tunnels);
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
                << (l.contains("forecast_method") ? " (" + text_of(l["forecast_method"]) + ")" : std::string()) << "\n";
    }
    if (e.contains("forecast")) {
      const auto& f = e["forecast"];
      if (f.value("disabled", false))
        std::cout << "  forecast: off (predict = false): links are priced by their load now\n";
      else
        std::cout << "  forecast: " << f.value("horizon_samples", 0) << " samples of " << f.value("sample_interval_ms", 0)
                  << " ms ahead, " << f.value("series", 0) << " link series, " << f.value("refits", 0) << " refits\n";
    }
    const auto& hy = e["hysteresis"];
    std::cout << "  hysteresis: a challenger must be " << fixed(hy["relative_margin"].get<double>() * 100, 0) << "% and "
              << fixed(hy["absolute_margin"].get<double>(), 2) << " cheaper for " << fixed(hy["hold_ns"].get<double>() / 1e9, 1)
              << " s" << (hy["challenger_pending"].get<bool>() ? "; one is pending now" : "");
    if (hy.contains("move_probability"))
      std::cout << (hy.value("hold_over", false) ? ", its hold over, lost a draw" : "") << ", moves with probability "
                << fixed(hy["move_probability"].get<double>() * 100, 0) << " % per draw";
    else if (hy.value("migration_rate", 0.0) > 0)
      std::cout << "; then a move is drawn (probability " << fixed(hy["migration_rate"].get<double>(), 2)
                << " x the share of the cost saved)";
    std::cout << "\n";
  }
  for (const auto& alt : e["alternatives"])
    std::cout << "  not " << joined(alt["nodes"], " > ") << " (cost " << fixed(alt["cost"].get<double>(), 3) << "): "
              << text_of(alt["verdict"]) << "\n";
  for (const auto& x : e["excluded"]) std::cout << "  not through " << text_of(x["gateway"]) << ": " << text_of(x["reason"]) << "\n";
  return 0;
}

}  // namespace meshgw::cli
