// SPDX-License-Identifier: BSD-3-Clause
// Controller::handle: the operator REST API and the gateway API as one route
// table. Every refusal is a JSON error {"error": ..., "field": ...} with its
// 4xx code, raised before anything changes; bodies are parsed strictly
// (unknown fields and wrong types refused, the field named). This file: the
// table, the dispatch, and the operator routes; gateway_api.cpp the rest.
#include <openssl/crypto.h>

#include "controller.hpp"
#include "controlplane/api/openapi.hpp"
#include "crypto/hex.hpp"
#include "mesh_paths.hpp"
#include "rest_request.hpp"
#include "rest_routes.hpp"
#include "whatif_query.hpp"

namespace meshgw::controller {

using namespace rest;

namespace {

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

}  // namespace

ApiResponse RestRoutes::list_gateways(Controller& c, const ApiRequest&, const Target&, const Params&) {
  std::lock_guard lock(c.mutex_);
  json gws = json::array();
  for (const auto& [id, g] : c.state_.gateways()) gws.push_back(c.state_.gateway_json(g));
  return json_response(200, {{"version", c.state_.version()}, {"gateways", std::move(gws)}});
}

ApiResponse RestRoutes::show_gateway(Controller& c, const ApiRequest&, const Target&, const Params& p) {
  std::lock_guard lock(c.mutex_);
  const GatewayLive* g = c.state_.gateway(p[0]);
  if (g == nullptr) refuse(404, "no gateway " + p[0]);
  return json_response(200, c.state_.gateway_json(*g));
}

ApiResponse RestRoutes::evict_gateway(Controller& c, const ApiRequest& req, const Target&, const Params& p) {
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

ApiResponse RestRoutes::revoke_gateway(Controller& c, const ApiRequest& req, const Target&, const Params& p) {
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

ApiResponse RestRoutes::list_tokens(Controller& c, const ApiRequest&, const Target&, const Params&) {
  std::lock_guard lock(c.mutex_);
  json out = json::array();
  for (const TokenRecord& t : c.registry_.tokens()) out.push_back(token_json(t));
  return json_response(200, {{"tokens", std::move(out)}});
}

ApiResponse RestRoutes::create_token(Controller& c, const ApiRequest& req, const Target&, const Params&) {
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

ApiResponse RestRoutes::delete_token(Controller& c, const ApiRequest&, const Target&, const Params& p) {
  std::lock_guard lock(c.mutex_);
  c.registry_.delete_token(p[0]);
  return json_response(200, {{"deleted", p[0]}});
}

ApiResponse RestRoutes::links(Controller& c, const ApiRequest&, const Target&, const Params&) {
  std::lock_guard lock(c.mutex_);
  return json_response(200, {{"version", c.state_.version()}, {"links", c.state_.links_json()}});
}

ApiResponse RestRoutes::topology(Controller& c, const ApiRequest&, const Target&, const Params&) {
  std::lock_guard lock(c.mutex_);
  return json_response(200, c.state_.snapshot_json());
}

ApiResponse RestRoutes::events(Controller& c, const ApiRequest&, const Target& t, const Params&) {
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

ApiResponse RestRoutes::get_policies(Controller& c, const ApiRequest&, const Target&, const Params&) {
  std::lock_guard lock(c.mutex_);
  json out = api::policy_to_json(c.state_.policy());
  out["version"] = c.state_.version();
  return json_response(200, out);
}

ApiResponse RestRoutes::put_policies(Controller& c, const ApiRequest& req, const Target&, const Params&) {
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

ApiResponse RestRoutes::paths(Controller& c, const ApiRequest&, const Target& t, const Params&) {
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

// A what-if: nothing changes; read access suffices.
ApiResponse RestRoutes::whatif(Controller& c, const ApiRequest& req, const Target&, const Params&) {
  std::lock_guard lock(c.mutex_);
  return json_response(200, what_if_json(c.state_, req.body, &c.demand_));
}

ApiResponse RestRoutes::list_spis(Controller& c, const ApiRequest&, const Target&, const Params&) {
  std::lock_guard lock(c.mutex_);
  json out = json::array();
  for (const auto& [n, s] : c.state_.spis()) out.push_back(c.state_.spi_json(s));
  return json_response(200, {{"version", c.state_.version()}, {"spis", std::move(out)}});
}

ApiResponse RestRoutes::healthz(Controller& c, const ApiRequest&, const Target&, const Params&) {
  return json_response(200, {{"status", "ok"}, {"epoch", c.epoch()}, {"version", c.version()}});
}

ApiResponse RestRoutes::openapi(Controller&, const ApiRequest&, const Target&, const Params&) {
  return {200, api::kOpenApiDocument, "application/json"};
}

ApiResponse RestRoutes::metrics(Controller& c, const ApiRequest&, const Target&, const Params&) {
  return {200, c.metrics_text(), "text/plain; version=0.0.4"};
}

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
      {"POST", {"v1", "whatif"}, Access::read, &RestRoutes::whatif},
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
