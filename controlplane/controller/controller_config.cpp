// SPDX-License-Identifier: BSD-3-Clause
#include "controller_config.hpp"

#include <fstream>
#include <sstream>

namespace meshgw::controller {

using common::ConfigError;
using common::TomlReader;

namespace {

Listen listen_of(const TomlReader& r, const std::string& key, const Listen& fallback) {
  const std::string text = r.str(key, fallback.address + ":" + std::to_string(fallback.port));
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) r.fail(key, "must be address:port (e.g. 127.0.0.1:8443 or [::1]:8443)");
  std::string address = text.substr(0, colon);
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') address = address.substr(1, address.size() - 2);
  in6_addr a6{};
  in_addr a4{};
  if (inet_pton(AF_INET, address.c_str(), &a4) != 1 && inet_pton(AF_INET6, address.c_str(), &a6) != 1)
    r.fail(key, "'" + address + "' is not an IP address");
  const std::string port = text.substr(colon + 1);
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) r.fail(key, "port must be 0..65535");
  return {address, static_cast<std::uint16_t>(p)};
}

}  // namespace

ControllerConfig ControllerConfig::from_string(const std::string& text, const std::string& source_name) {
  toml::table top;
  try {
    top = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source_name << ":" << e.source().begin.line << ": " << e.description();
    throw ConfigError(msg.str());
  }
  ControllerConfig c;
  c.source = source_name;
  const TomlReader root(source_name, top, "");
  root.only({"controller", "api", "beacons", "key_relay", "gateways", "storage"});
  auto section = [&](const char* name) -> std::optional<TomlReader> {
    const toml::table* t = root.table(name);
    if (t == nullptr) return std::nullopt;
    return TomlReader(source_name, *t, std::string("[") + name + "]");
  };
  const auto ctl = section("controller");
  if (!ctl) throw ConfigError(source_name + ": [controller] is required (with state_dir)");
  ctl->only({"state_dir", "delta_log"});
  c.state_dir = ctl->str("state_dir");
  if (c.state_dir.empty()) ctl->fail("state_dir", "must not be empty");
  c.delta_log = static_cast<std::size_t>(ctl->integer("delta_log", 16, 1'000'000, 4096));
  if (const auto api = section("api")) {
    api->only({"listen", "max_body_bytes", "max_connections", "requests_per_second"});
    c.api = listen_of(*api, "listen", c.api);
    c.max_body_bytes = static_cast<std::size_t>(api->integer("max_body_bytes", 1024, 16 << 20, 64 * 1024));
    c.max_connections = static_cast<std::size_t>(api->integer("max_connections", 1, 100'000, 2048));
    c.requests_per_second = static_cast<std::uint32_t>(api->integer("requests_per_second", 1, 1'000'000, 500));
  }
  if (const auto b = section("beacons")) {
    b->only({"listen", "down_after_ms", "max_skew_ms"});
    c.beacons = listen_of(*b, "listen", c.beacons);
    c.down_after_ms = static_cast<std::uint64_t>(b->integer("down_after_ms", 100, 3'600'000, 6000));
    c.max_skew_ms = static_cast<std::uint64_t>(b->integer("max_skew_ms", 100, 3'600'000, 30000));
  }
  if (const auto k = section("key_relay")) {
    k->only({"listen"});
    c.key_relay = listen_of(*k, "listen", {c.api.address, 0});
  }
  if (const auto g = section("gateways")) {
    g->only({"cert_lifetime_s", "ephemeral_remove_after_s"});
    c.cert_lifetime_s = g->integer("cert_lifetime_s", 300, 365LL * 86400, 86400);
    c.ephemeral_remove_after_s = g->integer("ephemeral_remove_after_s", 1, 365LL * 86400, 600);
  }
  if (const auto s = section("storage")) {
    s->only({"synchronous"});
    const std::string sync = s->str("synchronous", "full");
    if (sync != "full" && sync != "normal") s->fail("synchronous", "must be \"full\" or \"normal\"");
    c.sync_full = sync == "full";
  }
  return c;
}

ControllerConfig ControllerConfig::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the configuration file");
  std::ostringstream text;
  text << in.rdbuf();
  return from_string(text.str(), path);
}

}  // namespace meshgw::controller
