// SPDX-License-Identifier: BSD-3-Clause
// meshctld's REST and gateway API handlers (Controller::handle) on arbitrary
// requests: the first byte picks a route and the credentials (admin token,
// read-only token, a gateway certificate identity, none), the second the
// query string variant, the rest is the body. Invariants: no crash or leak
// (ASan), every answer a status 200..599 whose body is a JSON object (an
// error object for 4xx), and a refused request changes nothing (the state
// version stays put).
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "controlplane/controller/controller.hpp"
#include "controlplane/controller/sqlite_storage.hpp"
#include "crypto/pki.hpp"

using namespace meshgw;
using namespace meshgw::controller;

namespace {

struct World {
  std::string dir;
  std::unique_ptr<MeshCa> ca;
  std::unique_ptr<Controller> controller;
  std::string admin, reader, gateway_id, gateway_serial;

  World() {
    char tmpl[] = "/tmp/meshctld-fuzz-XXXXXX";
    dir = ::mkdtemp(tmpl);
    MeshCa::init(dir, {}, 1'800'000'000);
    ca = std::make_unique<MeshCa>(dir);
    ControllerConfig cfg;
    cfg.state_dir = dir;
    controller = std::make_unique<Controller>(
        cfg, std::make_unique<SqliteStorage>(dir + "/state.db", SqliteStorage::Sync::normal), *ca, "fuzz");
    admin = bootstrap();
    reader = create("read-only");
    // One registered gateway whose identity the gateway routes use.
    const std::string join = create("join");
    const auto key = crypto::pki::PrivateKey::generate_p256();
    const nlohmann::json body = {{"token", join}, {"csr", crypto::pki::make_csr(key, "fuzz")}};
    const ApiResponse r = controller->handle({"POST", "/v1/register", body.dump(), "", "", "", 1'800'000'000, 0});
    const auto j = nlohmann::json::parse(r.body);
    gateway_id = j.at("gateway_id");
    gateway_serial = crypto::pki::inspect_certificate(j.at("certificate")).serial_hex;
  }
  ~World() {
    controller.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string create(const char* kind) {
    const nlohmann::json body = {{"kind", kind}, {"lifetime_s", 0}, {"uses", -1}};
    const ApiResponse r = controller->handle({"POST", "/v1/tokens", body.dump(), "Bearer " + admin, "", "",
                                              1'800'000'000, 0});
    return nlohmann::json::parse(r.body).value("token", "");
  }
  // The first admin token, as meshctld init makes it: straight through the storage.
  std::string bootstrap() {
    SqliteStorage storage(dir + "/state.db", SqliteStorage::Sync::normal);
    Registry registry(storage, *ca, {});
    TokenRequest t;
    t.kind = TokenKind::admin;
    t.lifetime_s = 0;
    return registry.create_token(t, 1'800'000'000).text;
  }
};

struct Route {
  const char* method;
  const char* path;
};
constexpr Route kRoutes[] = {
    {"POST", "/v1/register"}, {"POST", "/v1/tokens"},        {"PUT", "/v1/policies"},
    {"POST", "/v1/gw/tunnels"}, {"POST", "/v1/gw/report"},   {"POST", "/v1/gw/renew"},
    {"GET", "/v1/paths"},      {"GET", "/v1/events"},        {"GET", "/v1/gw/state"},
    {"DELETE", "/v1/tokens/"}, {"DELETE", "/v1/gw/tunnels/"}, {"POST", "/v1/gateways/gw-1/revoke"},
    {"GET", "/v1/gateways/"},  {"PATCH", "/v1/tokens"},      {"GET", "/nowhere"},
    {"POST", "/v1/whatif"},
};
constexpr const char* kQueries[] = {"", "?from=gw-1&to=gw-1", "?after=1&limit=5", "?epoch=fuzz&since=0",
                                    "?from=%zz", "?k=0&from=a&to=b", "?a=1&a=2", "4096"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  if (size < 2) return 0;
  const Route& route = kRoutes[data[0] % std::size(kRoutes)];
  const unsigned who = (data[0] / std::size(kRoutes)) % 4;
  ApiRequest req;
  req.method = route.method;
  req.target = std::string(route.path) + kQueries[data[1] % std::size(kQueries)];
  req.body.assign(reinterpret_cast<const char*>(data + 2), size - 2);
  if (who == 0) req.authorization = "Bearer " + world.admin;
  if (who == 1) req.authorization = "Bearer " + world.reader;
  if (who == 2) {
    req.client_gateway = world.gateway_id;
    req.client_serial = world.gateway_serial;
  }
  req.now_s = 1'800'000'100;
  req.now_ms = 1'800'000'100'000;
  // Revocation would lock the fuzzing gateway out for every later input.
  if (std::strstr(route.path, "revoke") != nullptr && who == 0) req.authorization.clear();
  const std::uint64_t before = world.controller->version();
  const ApiResponse r = world.controller->handle(req);
  if (r.status < 200 || r.status > 599) __builtin_trap();
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) __builtin_trap();
  if (r.status >= 400 && r.status < 500) {
    if (!body.contains("error")) __builtin_trap();
    if (world.controller->version() != before) __builtin_trap();  // refused: nothing changed
  }
  return 0;
}
