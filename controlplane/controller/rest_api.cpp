// SPDX-License-Identifier: BSD-3-Clause
// Controller::handle: the operator REST API and the gateway API as one route
// table. Every refusal is a JSON error {"error": ..., "field": ...} with its
// 4xx code, raised before anything changes; bodies are parsed strictly
// (unknown fields and wrong types refused, the field named).
#include <openssl/crypto.h>

#include <functional>
#include <map>

#include "controller.hpp"
#include "controlplane/api/openapi.hpp"
#include "crypto/hex.hpp"
#include "mesh_paths.hpp"

namespace meshgw::controller {

using nlohmann::json;

namespace {

struct ApiError {
  int status;
  std::string message;
  std::string field;
};

[[noreturn]] void refuse(int status, std::string message, std::string field = {}) {
  throw ApiError{status, std::move(message), std::move(field)};
}

// Error messages may quote request bytes that are not UTF-8: replaced, never thrown.
ApiResponse json_response(int status, const json& body) {
  return {status, body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json"};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s, const char* what) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) refuse(400, std::string("bad percent-encoding in ") + what);
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
};

Target parse_target(const std::string& target) {
  if (target.empty() || target[0] != '/') refuse(400, "request target must be an absolute path");
  Target t;
  const auto q = target.find('?');
  const std::string_view path = std::string_view(target).substr(0, q);
  std::size_t at = 1;
  while (at <= path.size()) {
    const auto slash = path.find('/', at);
    const std::string_view seg = path.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at);
    if (!seg.empty()) t.segments.push_back(percent_decode(seg, "the path"));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  if (q != std::string::npos) {
    std::string_view rest = std::string_view(target).substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      const auto eq = pair.find('=');
      const std::string key = percent_decode(pair.substr(0, eq), "the query");
      const std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), "the query");
      if (!key.empty() && !t.query.emplace(key, value).second) refuse(400, "query parameter given twice", key);
      if (amp == std::string_view::npos) break;
      rest = rest.substr(amp + 1);
    }
  }
  return t;
}

// A strictly read JSON object body.
class Body {
 public:
  explicit Body(const std::string& text) {
    if (text.empty()) refuse(400, "a JSON object body is required");
    try {
      j_ = json::parse(text);
    } catch (const json::parse_error& e) {
      refuse(400, std::string("malformed JSON: ") + e.what());
    }
    if (!j_.is_object()) refuse(400, "the body must be a JSON object");
  }
  void only(std::initializer_list<const char*> allowed) const {
    for (const auto& [k, v] : j_.items()) {
      bool ok = false;
      for (const char* a : allowed) ok = ok || k == a;
      if (!ok) refuse(400, "unknown field", k);
    }
  }
  std::optional<std::string> str(const char* key, bool required = false) const {
    const auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) refuse(400, "is required", key);
      return std::nullopt;
    }
    if (!it->is_string()) refuse(400, "must be a string", key);
    return it->get<std::string>();
  }
  std::int64_t integer(const char* key, std::int64_t lo, std::int64_t hi, std::int64_t fallback) const {
    const auto it = j_.find(key);
    if (it == j_.end()) return fallback;
    if (!it->is_number_integer()) refuse(400, "must be an integer", key);
    const std::int64_t v = it->get<std::int64_t>();
    if (v < lo || v > hi) refuse(400, "must be in " + std::to_string(lo) + ".." + std::to_string(hi), key);
    return v;
  }
  bool boolean(const char* key, bool fallback) const {
    const auto it = j_.find(key);
    if (it == j_.end()) return fallback;
    if (!it->is_boolean()) refuse(400, "must be true or false", key);
    return it->get<bool>();
  }

 private:
  json j_;
};

enum class Access { anyone, read, admin, gateway };

json token_json(const TokenRecord& t) {
  return {{"id", t.id},
          {"kind", to_string(t.kind)},
          {"role", routing::to_string(t.role)},
          {"created_at", t.created_at},
          {"expires_at", t.expires_at},
          {"uses_left", t.uses_left},
          {"ephemeral", t.ephemeral},
          {"site", t.site},
          {"region", t.region},
          {"description", t.description}};
}

json event_json(const EventRecord& e) {
  return {{"seq", e.seq}, {"time_ms", e.time}, {"kind", e.kind}, {"gateway", e.gateway}, {"detail", e.detail}};
}

int status_of(RegistryError::Kind k) {
  switch (k) {
    case RegistryError::Kind::bad_request: return 400;
    case RegistryError::Kind::unauthorized: return 401;
    case RegistryError::Kind::forbidden: return 403;
    case RegistryError::Kind::not_found: return 404;
    case RegistryError::Kind::conflict: return 409;
  }
  return 400;
}

Role role_field(const Body& b, const char* key, Role fallback) {
  const auto text = b.str(key);
  if (!text) return fallback;
  const auto r = role_from_string(*text);
  if (!r) refuse(400, "must be core, edge or transit", key);
  return *r;
}

std::uint64_t query_u64(const Target& t, const char* key, std::uint64_t fallback, std::uint64_t hi) {
  const auto it = t.query.find(key);
  if (it == t.query.end()) return fallback;
  const std::string& s = it->second;
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
    refuse(400, "must be a non-negative integer", key);
  const std::uint64_t v = std::stoull(s);
  if (v > hi) refuse(400, "must be at most " + std::to_string(hi), key);
  return v;
}

}  // namespace

// The route table, with Controller's internals at hand.
struct RestRoutes {
  using Params = std::vector<std::string>;
  using Handler = std::function<ApiResponse(Controller&, const ApiRequest&, const Target&, const Params&)>;
  struct Route {
    const char* method;
    std::vector<std::string> pattern;  // "{}" matches one segment
    Access access;
    Handler handler;
  };

  static const std::vector<Route>& table();

  static ApiResponse register_gateway(Controller& c, const ApiRequest& req, const Target&, const Params&) {
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
                {"cert_not_after", r.gateway.cert_not_after}};
    ApiResponse res = json_response(201, out);
    OPENSSL_cleanse(key_hex.data(), key_hex.size());
    return res;
  }

  static ApiResponse renew(Controller& c, const ApiRequest& req, const Target&, const Params&) {
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
                               {"cert_not_after", r.gateway.cert_not_after}});
  }

  static ApiResponse list_gateways(Controller& c, const ApiRequest&, const Target&, const Params&) {
    std::lock_guard lock(c.mutex_);
    json gws = json::array();
    for (const auto& [id, g] : c.state_.gateways()) gws.push_back(c.state_.gateway_json(g));
    return json_response(200, {{"version", c.state_.version()}, {"gateways", std::move(gws)}});
  }

  static ApiResponse show_gateway(Controller& c, const ApiRequest&, const Target&, const Params& p) {
    std::lock_guard lock(c.mutex_);
    const GatewayLive* g = c.state_.gateway(p[0]);
    if (g == nullptr) refuse(404, "no gateway " + p[0]);
    return json_response(200, c.state_.gateway_json(*g));
  }

  static ApiResponse evict_gateway(Controller& c, const ApiRequest& req, const Target&, const Params& p) {
    EventRecord e;
    {
      std::lock_guard lock(c.mutex_);
      e = c.registry_.evict(p[0], req.now_s, "evicted by an operator");
      c.drop_paths_through(p[0]);
      c.state_.remove_gateway(p[0]);
    }
    c.changed();
    return json_response(200, event_json(e));
  }

  static ApiResponse revoke_gateway(Controller& c, const ApiRequest& req, const Target&, const Params& p) {
    if (!req.body.empty()) Body(req.body).only({});
    EventRecord e;
    {
      std::lock_guard lock(c.mutex_);
      e = c.registry_.revoke(p[0], req.now_s);
      if (auto g = c.registry_.gateway(p[0])) c.state_.upsert_gateway(*g);
      c.drop_paths_through(p[0]);  // no relay entry through it survives
    }
    c.changed();
    return json_response(200, event_json(e));
  }

  static ApiResponse list_tokens(Controller& c, const ApiRequest&, const Target&, const Params&) {
    std::lock_guard lock(c.mutex_);
    json out = json::array();
    for (const TokenRecord& t : c.registry_.tokens()) out.push_back(token_json(t));
    return json_response(200, {{"tokens", std::move(out)}});
  }

  static ApiResponse create_token(Controller& c, const ApiRequest& req, const Target&, const Params&) {
    const Body b(req.body);
    b.only({"kind", "role", "lifetime_s", "uses", "ephemeral", "site", "region", "description"});
    TokenRequest t;
    const std::string kind = b.str("kind").value_or("join");
    const auto k = token_kind_from_string(kind);
    if (!k) refuse(400, "must be join, admin or read-only", "kind");
    t.kind = *k;
    t.role = role_field(b, "role", Role::edge);
    t.lifetime_s = b.integer("lifetime_s", 0, 10LL * 365 * 86400, 3600);
    t.uses = b.integer("uses", -1, 1'000'000'000, 1);
    if (t.uses == 0) refuse(400, "must be >= 1, or -1 for unlimited", "uses");
    t.ephemeral = b.boolean("ephemeral", t.role == Role::edge);
    t.site = b.str("site").value_or("");
    t.region = b.str("region").value_or("");
    t.description = b.str("description").value_or("");
    for (const auto* f : {&t.site, &t.region, &t.description})
      if (f->size() > 256) refuse(400, "at most 256 characters", f == &t.site ? "site" : f == &t.region ? "region" : "description");
    CreatedToken made;
    {
      std::lock_guard lock(c.mutex_);
      made = c.registry_.create_token(t, req.now_s);
    }
    json out = token_json(made.record);
    out["token"] = made.text;
    ApiResponse res = json_response(201, out);
    OPENSSL_cleanse(made.text.data(), made.text.size());
    return res;
  }

  static ApiResponse delete_token(Controller& c, const ApiRequest&, const Target&, const Params& p) {
    std::lock_guard lock(c.mutex_);
    c.registry_.delete_token(p[0]);
    return json_response(200, {{"deleted", p[0]}});
  }

  static ApiResponse links(Controller& c, const ApiRequest&, const Target&, const Params&) {
    std::lock_guard lock(c.mutex_);
    return json_response(200, {{"version", c.state_.version()}, {"links", c.state_.links_json()}});
  }

  static ApiResponse topology(Controller& c, const ApiRequest&, const Target&, const Params&) {
    std::lock_guard lock(c.mutex_);
    return json_response(200, c.state_.snapshot_json());
  }

  static ApiResponse events(Controller& c, const ApiRequest&, const Target& t, const Params&) {
    const std::uint64_t after = query_u64(t, "after", 0, ~std::uint64_t{0} >> 1);
    const std::uint64_t limit = query_u64(t, "limit", 100, 1000);
    std::lock_guard lock(c.mutex_);
    json out = json::array();
    std::uint64_t last = after;
    for (const EventRecord& e : c.storage_->events(after, limit)) {
      out.push_back(event_json(e));
      last = e.seq;
    }
    return json_response(200, {{"events", std::move(out)}, {"next_after", last}});
  }

  static ApiResponse gateway_state(Controller& c, const ApiRequest& req, const Target& t, const Params&) {
    const auto e = t.query.find("epoch");
    const std::string epoch = e == t.query.end() ? "" : e->second;
    const std::uint64_t since = query_u64(t, "since", 0, ~std::uint64_t{0} >> 1);
    auto u = c.updates_for(epoch, since, req.client_gateway);
    if (!u) u = json{{"epoch", c.epoch()}, {"version", since}, {"deltas", json::array()}};
    return json_response(200, *u);
  }

  static ApiResponse get_policies(Controller& c, const ApiRequest&, const Target&, const Params&) {
    std::lock_guard lock(c.mutex_);
    json out = api::policy_to_json(c.state_.policy());
    out["version"] = c.state_.version();
    return json_response(200, out);
  }

  static ApiResponse put_policies(Controller& c, const ApiRequest& req, const Target&, const Params&) {
    const Body b(req.body);  // malformed JSON and non-objects refused here
    api::MeshPolicy policy;
    try {
      policy = api::policy_from_json(json::parse(req.body));
    } catch (const api::PolicyJsonError& e) {
      refuse(400, e.what(), e.field());
    }
    {
      std::lock_guard lock(c.mutex_);
      c.storage_->put_setting("policy", api::policy_to_json(policy).dump());
      c.storage_->append_event({0, static_cast<std::int64_t>(req.now_ms), "policy_changed", "",
                                std::to_string(policy.rules.size()) + " rules"});
      c.state_.set_policy(std::move(policy));
    }
    c.changed();
    return get_policies(c, req, {}, {});
  }

  static ApiResponse paths(Controller& c, const ApiRequest&, const Target& t, const Params&) {
    PathQuery q;
    auto need = [&t](const char* key) {
      const auto it = t.query.find(key);
      if (it == t.query.end() || it->second.empty()) refuse(400, "is required", key);
      return it->second;
    };
    q.from = need("from");
    q.to = need("to");
    if (const auto it = t.query.find("class"); it != t.query.end()) q.traffic_class = it->second;
    q.k = static_cast<std::size_t>(query_u64(t, "k", 1, 16));
    if (q.k == 0) refuse(400, "must be 1..16", "k");
    std::lock_guard lock(c.mutex_);
    try {
      return json_response(200, query_paths(c.state_, q));
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      refuse(what.rfind("class", 0) == 0 ? 400 : 404, what, what.substr(0, what.find(':')));
    }
  }

  static ApiResponse list_spis(Controller& c, const ApiRequest&, const Target&, const Params&) {
    std::lock_guard lock(c.mutex_);
    json out = json::array();
    for (const auto& [n, s] : c.state_.spis()) out.push_back(c.state_.spi_json(s));
    return json_response(200, {{"version", c.state_.version()}, {"spis", std::move(out)}});
  }

  // A tunnel asked for by its ingress: one SPI per direction, mesh-unique,
  // and the path each takes (the reverse path for the reverse direction).
  static ApiResponse create_tunnel(Controller& c, const ApiRequest& req, const Target&, const Params&) {
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
      fwd = c.storage_->allocate_spi({0, path.front(), path.back(), forward, now}, c.config_.first_spi);
      rev = c.storage_->allocate_spi({0, path.back(), path.front(), reverse, now}, c.config_.first_spi);
      c.storage_->append_event({0, now, "path_changed", path.front(),
                                "tunnel " + forward + " spi " + std::to_string(fwd.spi) + "/" + std::to_string(rev.spi)});
      c.state_.add_spi(fwd);
      c.state_.add_spi(rev);
    }
    c.changed();
    return json_response(201, {{"forward", c.state_.spi_json(fwd)}, {"reverse", c.state_.spi_json(rev)}});
  }

  static ApiResponse delete_tunnel(Controller& c, const ApiRequest& req, const Target&, const Params& p) {
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
  static ApiResponse report(Controller& c, const ApiRequest& req, const Target&, const Params&) {
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
        std::string line = e["egress"].get<std::string>() + "/" + e.value("class", std::string("default")) + ":";
        for (const json& hop : e["path"]) {
          if (!hop.is_string()) refuse(400, "must be an array of strings", f + ".path");
          line += " " + hop.get<std::string>();
        }
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
      for (const std::string& line : changes)
        c.storage_->append_event({0, static_cast<std::int64_t>(req.now_ms), "path_changed", req.client_gateway, line});
    }
    if (!changes.empty() || sites_changed) c.changed();
    return json_response(200, {{"accepted", true}});
  }

  static ApiResponse healthz(Controller& c, const ApiRequest&, const Target&, const Params&) {
    return json_response(200, {{"status", "ok"}, {"epoch", c.epoch()}, {"version", c.version()}});
  }

  static ApiResponse openapi(Controller&, const ApiRequest&, const Target&, const Params&) {
    return {200, api::kOpenApiDocument, "application/json"};
  }

  static ApiResponse metrics(Controller& c, const ApiRequest&, const Target&, const Params&) {
    return {200, c.metrics_text(), "text/plain; version=0.0.4"};
  }
};

const std::vector<RestRoutes::Route>& RestRoutes::table() {
  static const std::vector<Route> routes = {
      {"GET", {"healthz"}, Access::anyone, &RestRoutes::healthz},
      {"GET", {"metrics"}, Access::anyone, &RestRoutes::metrics},
      {"GET", {"openapi.json"}, Access::anyone, &RestRoutes::openapi},
      {"POST", {"v1", "register"}, Access::anyone, &RestRoutes::register_gateway},
      {"GET", {"v1", "gateways"}, Access::read, &RestRoutes::list_gateways},
      {"GET", {"v1", "gateways", "{}"}, Access::read, &RestRoutes::show_gateway},
      {"DELETE", {"v1", "gateways", "{}"}, Access::admin, &RestRoutes::evict_gateway},
      {"POST", {"v1", "gateways", "{}", "revoke"}, Access::admin, &RestRoutes::revoke_gateway},
      {"GET", {"v1", "tokens"}, Access::admin, &RestRoutes::list_tokens},
      {"POST", {"v1", "tokens"}, Access::admin, &RestRoutes::create_token},
      {"DELETE", {"v1", "tokens", "{}"}, Access::admin, &RestRoutes::delete_token},
      {"GET", {"v1", "links"}, Access::read, &RestRoutes::links},
      {"GET", {"v1", "topology"}, Access::read, &RestRoutes::topology},
      {"GET", {"v1", "events"}, Access::read, &RestRoutes::events},
      {"GET", {"v1", "policies"}, Access::read, &RestRoutes::get_policies},
      {"PUT", {"v1", "policies"}, Access::admin, &RestRoutes::put_policies},
      {"GET", {"v1", "paths"}, Access::read, &RestRoutes::paths},
      {"GET", {"v1", "spis"}, Access::read, &RestRoutes::list_spis},
      {"POST", {"v1", "gw", "tunnels"}, Access::gateway, &RestRoutes::create_tunnel},
      {"DELETE", {"v1", "gw", "tunnels", "{}"}, Access::gateway, &RestRoutes::delete_tunnel},
      {"POST", {"v1", "gw", "report"}, Access::gateway, &RestRoutes::report},
      {"GET", {"v1", "gw", "state"}, Access::gateway, &RestRoutes::gateway_state},
      {"POST", {"v1", "gw", "renew"}, Access::gateway, &RestRoutes::renew},
  };
  return routes;
}

std::vector<Controller::RouteInfo> Controller::routes() {
  static const char* const kAccess[] = {"anyone", "read", "admin", "gateway"};
  std::vector<RouteInfo> out;
  for (const auto& r : RestRoutes::table()) {
    std::string path;
    int n = 0;
    for (const auto& s : r.pattern) path += "/" + (s == "{}" ? (n++ ? "{id" + std::to_string(n) + "}" : "{id}") : s);
    out.push_back({r.method, path, kAccess[static_cast<int>(r.access)]});
  }
  // The two streams are served by the HTTP layer (http_server.cpp), which
  // starts each with the answer of the matching one-shot GET above.
  out.push_back({"GET", "/v1/gw/watch", "gateway"});
  out.push_back({"GET", "/v1/events/watch", "read"});
  return out;
}

ApiResponse Controller::handle(const ApiRequest& req) {
  ApiResponse res;
  try {
    const Target t = parse_target(req.target);
    const RestRoutes::Route* found = nullptr;
    bool path_known = false;
    std::string allowed;
    RestRoutes::Params params;
    for (const auto& r : RestRoutes::table()) {
      if (r.pattern.size() != t.segments.size()) continue;
      RestRoutes::Params p;
      bool match = true;
      for (std::size_t i = 0; i < r.pattern.size() && match; ++i) {
        if (r.pattern[i] == "{}") p.push_back(t.segments[i]);
        else match = r.pattern[i] == t.segments[i];
      }
      if (!match) continue;
      path_known = true;
      allowed += std::string(allowed.empty() ? "" : ", ") + r.method;
      if (req.method == r.method) {
        found = &r;
        params = std::move(p);
      }
    }
    if (found == nullptr) {
      if (path_known) refuse(405, "method " + req.method + " not allowed here (allowed: " + allowed + ")");
      refuse(404, "no such endpoint: " + req.target.substr(0, req.target.find('?')));
    }
    switch (found->access) {
      case Access::anyone: break;
      case Access::gateway:
        if (req.client_gateway.empty()) refuse(401, "this endpoint needs a gateway client certificate (mTLS)");
        if (!client_allowed(req.client_gateway, req.client_serial)) refuse(403, "gateway certificate revoked or unknown");
        break;
      case Access::read:
      case Access::admin: {
        const std::string prefix = "Bearer ";
        if (req.authorization.compare(0, prefix.size(), prefix) != 0)
          refuse(401, "an Authorization: Bearer <token> header is required");
        std::optional<TokenRecord> who;
        {
          std::lock_guard lock(mutex_);
          who = registry_.authenticate(req.authorization.substr(prefix.size()), req.now_s);
        }
        if (!who) refuse(401, "token not valid (unknown, wrong or expired)");
        if (found->access == Access::admin && who->kind != TokenKind::admin)
          refuse(403, "this endpoint needs an admin token; this one is read-only");
        break;
      }
    }
    res = found->handler(*this, req, t, params);
  } catch (const ApiError& e) {
    json body = {{"error", e.message}};
    if (!e.field.empty()) body["field"] = e.field;
    res = json_response(e.status, body);
  } catch (const RegistryError& e) {
    res = json_response(status_of(e.kind()), {{"error", e.what()}});
  } catch (const StorageError& e) {
    res = json_response(503, {{"error", std::string("storage: ") + e.what()}});
  } catch (const std::exception& e) {
    res = json_response(500, {{"error", std::string("internal error: ") + e.what()}});
  }
  count_http(res.status);
  return res;
}

}  // namespace meshgw::controller
