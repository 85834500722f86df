// SPDX-License-Identifier: BSD-3-Clause
// The gateway API's routes: registration (a join token and a CSR), renewal,
// the mesh state for a gateway, tunnels (SPI allocation along a path) and
// reports (per-tunnel rates, path choices, sites). The gateway is who its
// certificate says (ApiRequest::client_gateway), never what the body says.
#include <openssl/crypto.h>

#include "controller.hpp"
#include "controlplane/api/openapi.hpp"
#include "crypto/hex.hpp"
#include "mesh_paths.hpp"
#include "rest_request.hpp"
#include "rest_routes.hpp"

namespace meshgw::controller {

using namespace rest;

ApiResponse RestRoutes::register_gateway(Controller& c, const ApiRequest& req, const Target&, const Params&) {
  const Body b(req.body);
  b.only({"token", "csr", "role"});
  const std::string token = *b.str("token", true);
  const std::string csr = *b.str("csr", true);
  std::optional<Role> role;
  if (b.str("role")) role = role_field(b, "role", Role::edge);
  Registration r;
  {
    std::lock_guard lock(c.mutex_);
    r = c.registry_.register_gateway(token, csr, role, req.now_s);
    c.state_.upsert_gateway(r.gateway);
  }
  c.changed();
  std::string key_hex;
  crypto::append_hex(key_hex, r.gateway.beacon_key.data(), r.gateway.beacon_key.size());
  json out = {{"gateway_id", r.gateway.id},
              {"role", routing::to_string(r.gateway.role)},
              {"certificate", r.certificate_pem},
              {"ca", r.ca_pem},
              {"beacon_key", key_hex},
              {"beacon_port", c.beacon_port()},
              {"key_relay_port", c.key_relay_port()},
              {"cert_not_after", r.gateway.cert_not_after}};
  ApiResponse res = json_response(201, out);
  OPENSSL_cleanse(key_hex.data(), key_hex.size());
  return res;
}

ApiResponse RestRoutes::renew(Controller& c, const ApiRequest& req, const Target&, const Params&) {
  const Body b(req.body);
  b.only({"csr"});
  Registration r;
  {
    std::lock_guard lock(c.mutex_);
    r = c.registry_.renew(req.client_gateway, *b.str("csr", true), req.now_s);
    c.state_.upsert_gateway(r.gateway);
  }
  c.changed();
  return json_response(200, {{"gateway_id", r.gateway.id}, {"certificate", r.certificate_pem}, {"ca", r.ca_pem},
                             {"key_relay_port", c.key_relay_port()},
                             {"cert_not_after", r.gateway.cert_not_after}});
}

ApiResponse RestRoutes::gateway_state(Controller& c, const ApiRequest& req, const Target& t, const Params&) {
  const auto e = t.query.find("epoch");
  const std::string epoch = e == t.query.end() ? "" : e->second;
  const std::uint64_t since = query_u64(t, "since", 0, ~std::uint64_t{0} >> 1);
  auto u = c.updates_for(epoch, since, req.client_gateway);
  if (!u) u = json{{"epoch", c.epoch()}, {"version", since}, {"deltas", json::array()}};
  return json_response(200, *u);
}

// A tunnel asked for by its ingress: one SPI per direction, mesh-unique,
// and the path each takes (the reverse path for the reverse direction).
ApiResponse RestRoutes::create_tunnel(Controller& c, const ApiRequest& req, const Target&, const Params&) {
  const Body b(req.body);
  b.only({"path"});
  const json path_json = json::parse(req.body).value("path", json());
  if (!path_json.is_array()) refuse(400, "is required: an array of gateway ids, ingress first", "path");
  std::vector<std::string> path;
  for (const json& p : path_json) {
    if (!p.is_string()) refuse(400, "must be an array of strings", "path");
    path.push_back(p.get<std::string>());
  }
  if (path.size() > 16) refuse(400, "at most 16 gateways", "path");
  if (path.empty() || path.front() != req.client_gateway)
    refuse(403, "a tunnel is asked for by its ingress: the path must start with " + req.client_gateway, "path");
  SpiRecord fwd, rev;
  {
    std::lock_guard lock(c.mutex_);
    if (const auto why = path_refusal(c.state_, path)) refuse(403, *why, "path");
    std::string forward, reverse;
    for (std::size_t i = 0; i < path.size(); ++i) {
      forward += (i ? ">" : "") + path[i];
      reverse += (i ? ">" : "") + path[path.size() - 1 - i];
    }
    const auto now = static_cast<std::int64_t>(req.now_ms);
    fwd = c.storage_->allocate_spi({0, path.front(), path.back(), forward, now, path.front()}, c.config_.first_spi);
    rev = c.storage_->allocate_spi({0, path.back(), path.front(), reverse, now, path.front()}, c.config_.first_spi);
    c.storage_->append_event({0, now, "path_changed", path.front(),
                              "tunnel " + forward + " spi " + std::to_string(fwd.spi) + "/" + std::to_string(rev.spi)});
    c.state_.add_spi(fwd);
    c.state_.add_spi(rev);
  }
  c.changed();
  return json_response(201, {{"forward", c.state_.spi_json(fwd)}, {"reverse", c.state_.spi_json(rev)}});
}

ApiResponse RestRoutes::delete_tunnel(Controller& c, const ApiRequest& req, const Target&, const Params& p) {
  if (p[0].empty() || p[0].size() > 10 || p[0].find_first_not_of("0123456789") != std::string::npos)
    refuse(400, "an SPI is a decimal number", "spi");
  const auto spi = static_cast<std::uint32_t>(std::min<std::uint64_t>(std::stoull(p[0]), 0xffffffffu));
  {
    std::lock_guard lock(c.mutex_);
    const auto it = c.state_.spis().find(spi);
    if (it == c.state_.spis().end()) refuse(404, "no SPI " + p[0]);
    if (it->second.ingress != req.client_gateway && it->second.egress != req.client_gateway)
      refuse(403, "only the ends of a tunnel release its SPIs");
    c.storage_->release_spi(spi);
    c.state_.remove_spi(spi);
  }
  c.changed();
  return json_response(200, {{"released", spi}});
}

// Passive telemetry: per-tunnel send rates (they load the links of the
// tunnels' paths) and the gateway's path choices (events when they change).
ApiResponse RestRoutes::report(Controller& c, const ApiRequest& req, const Target&, const Params&) {
  const Body b(req.body);
  b.only({"tunnels", "paths", "sites"});
  const json doc = json::parse(req.body);
  std::optional<std::vector<std::string>> sites;
  if (doc.contains("sites")) {
    const json& ss = doc["sites"];
    if (!ss.is_array() || ss.size() > 64) refuse(400, "must be an array of at most 64 prefixes", "sites");
    sites.emplace();
    for (std::size_t i = 0; i < ss.size(); ++i) {
      const std::string f = "sites[" + std::to_string(i) + "]";
      if (!ss[i].is_string()) refuse(400, "must be a string", f);
      const auto p = routing::IpPrefix::parse(ss[i].get<std::string>());
      if (!p) refuse(400, "must be a prefix (a.b.c.d/len or x::/len, no bits set past the length)", f);
      sites->push_back(p->to_string());
    }
  }
  std::map<std::uint32_t, double> rates;
  if (doc.contains("tunnels")) {
    const json& t = doc["tunnels"];
    if (!t.is_array() || t.size() > 10000) refuse(400, "must be an array (at most 10000)", "tunnels");
    for (std::size_t i = 0; i < t.size(); ++i) {
      const std::string f = "tunnels[" + std::to_string(i) + "]";
      if (!t[i].is_object() || !t[i].contains("spi") || !t[i]["spi"].is_number_unsigned() ||
          !t[i].contains("tx_bps") || !t[i]["tx_bps"].is_number() || t[i]["tx_bps"].get<double>() < 0 ||
          t[i].size() != 2)
        refuse(400, "must be {\"spi\": uint, \"tx_bps\": number >= 0}", f);
      rates[static_cast<std::uint32_t>(t[i]["spi"].get<std::uint64_t>())] = t[i]["tx_bps"].get<double>();
    }
  }
  std::vector<std::string> changes;
  std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> choices;  // egress, class, path
  if (doc.contains("paths")) {
    const json& ps = doc["paths"];
    if (!ps.is_array() || ps.size() > 10000) refuse(400, "must be an array (at most 10000)", "paths");
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const std::string f = "paths[" + std::to_string(i) + "]";
      const json& e = ps[i];
      if (!e.is_object() || !e.contains("egress") || !e["egress"].is_string() || !e.contains("path") ||
          !e["path"].is_array())
        refuse(400, "must be {\"egress\", \"class\", \"path\": [...], \"reason\"}", f);
      for (const auto& [k, v] : e.items())
        if (k != "egress" && k != "class" && k != "path" && k != "reason") refuse(400, "unknown field", f + "." + k);
      if (e.contains("class") && !e["class"].is_string()) refuse(400, "must be a string", f + ".class");
      const std::string cls = e.value("class", std::string("default"));
      std::string line = e["egress"].get<std::string>() + "/" + cls + ":";
      std::vector<std::string> hops;
      for (const json& hop : e["path"]) {
        if (!hop.is_string()) refuse(400, "must be an array of strings", f + ".path");
        hops.push_back(hop.get<std::string>());
        line += " " + hops.back();
      }
      if (!hops.empty() && hops.front() != req.client_gateway)
        refuse(400, "a path starts at the gateway reporting it", f + ".path");
      choices.emplace_back(e["egress"].get<std::string>(), cls, std::move(hops));
      if (e.contains("reason")) {
        if (!e["reason"].is_string()) refuse(400, "must be a string", f + ".reason");
        line += " (" + e["reason"].get<std::string>() + ")";
      }
      changes.push_back(std::move(line));
    }
  }
  bool sites_changed = false;
  {
    std::lock_guard lock(c.mutex_);
    if (const GatewayLive* g = c.state_.gateway(req.client_gateway); sites && g != nullptr && g->record.sites != *sites) {
      GatewayRecord record = g->record;
      record.sites = *sites;
      c.storage_->put_gateway_with_event(record, {0, static_cast<std::int64_t>(req.now_ms), "sites_changed",
                                                  record.id, std::to_string(sites->size()) + " prefixes"});
      c.state_.upsert_gateway(record);
      sites_changed = true;
    }
    c.state_.set_tunnel_rates(req.client_gateway, std::move(rates));
    for (auto& [egress, cls, hops] : choices) c.state_.set_path_choice(req.client_gateway, egress, cls, std::move(hops));
    for (const std::string& line : changes)
      c.storage_->append_event({0, static_cast<std::int64_t>(req.now_ms), "path_changed", req.client_gateway, line});
  }
  if (!changes.empty() || sites_changed) c.changed();
  return json_response(200, {{"accepted", true}});
}

}  // namespace meshgw::controller
