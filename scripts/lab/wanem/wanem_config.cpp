// SPDX-License-Identifier: BSD-3-Clause
#include "wanem_config.hpp"

#include <toml++/toml.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include "controlplane/common/toml_reader.hpp"

namespace meshgw::lab {

namespace {

using common::ConfigError;
using common::TomlReader;

constexpr const char* kLinkKeys[] = {"delay_ms", "jitter_ms", "loss", "rate_mbit", "queue_ms"};

double* param_field(LinkParams& p, std::string_view key) {
  if (key == "delay_ms") return &p.delay_ms;
  if (key == "jitter_ms") return &p.jitter_ms;
  if (key == "loss") return &p.loss;
  if (key == "rate_mbit") return &p.rate_mbit;
  if (key == "queue_ms") return &p.queue_ms;
  return nullptr;
}

// A number (integer or float) at key, or fallback.
double number(const TomlReader& r, const toml::table& t, const std::string& key, double fallback) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return fallback;
  if (n->is_integer()) return static_cast<double>(*n->value<std::int64_t>());
  if (n->is_floating_point()) return *n->value<double>();
  r.fail(key, "must be a number");
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  return true;
}

}  // namespace

EmulatorConfig load_emulator_config(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  EmulatorConfig cfg;
  const TomlReader top(path, root, "");
  top.only({"emulator", "port", "link"});
  const toml::table* em = top.table("emulator");
  if (em == nullptr) throw ConfigError(path + ": [emulator] is required (control_socket)");
  const TomlReader e(path, *em, "[emulator]");
  e.only({"control_socket", "seed", "frames"});
  cfg.control_socket = e.str("control_socket");
  if (cfg.control_socket.size() >= 100) e.fail("control_socket", "must be shorter than 100 bytes (a UNIX socket path)");
  cfg.seed = static_cast<std::uint64_t>(e.integer("seed", 0, INT64_MAX, 1));
  cfg.frames = static_cast<std::uint32_t>(e.integer("frames", 64, 1 << 20, 32768));

  std::set<std::string> names, ifaces;
  for (const toml::table* t : top.tables("port")) {
    const TomlReader r(path, *t, "[[port]]");
    r.only({"name", "iface"});
    PortConfig p{r.str("name"), r.str("iface")};
    if (!valid_name(p.name)) r.fail("name", "must be 1-32 letters, digits, '_' or '.'");
    if (p.iface.empty() || p.iface.size() > 15) r.fail("iface", "must be an interface name (1-15 bytes)");
    if (!names.insert(p.name).second) r.fail("name", "is used by another [[port]]");
    if (!ifaces.insert(p.iface).second) r.fail("iface", "is used by another [[port]]");
    cfg.ports.push_back(std::move(p));
  }
  if (cfg.ports.size() < 2) throw ConfigError(path + ": at least two [[port]] entries are needed");
  if (cfg.ports.size() > 256) throw ConfigError(path + ": at most 256 [[port]] entries");

  std::set<std::pair<std::string, std::string>> pairs;
  for (const toml::table* t : top.tables("link")) {
    const std::string a = t->contains("a") && (*t)["a"].is_string() ? *(*t)["a"].value<std::string>() : "?";
    const std::string b = t->contains("b") && (*t)["b"].is_string() ? *(*t)["b"].value<std::string>() : "?";
    const TomlReader r(path, *t, "[[link]] '" + a + "-" + b + "'");
    r.only({"a", "b", "delay_ms", "jitter_ms", "loss", "rate_mbit", "queue_ms"});
    LinkConfig l{r.str("a"), r.str("b"), {}};
    if (names.count(l.a) == 0) r.fail("a", "is not the name of a [[port]]");
    if (names.count(l.b) == 0) r.fail("b", "is not the name of a [[port]]");
    if (l.a == l.b) r.fail("b", "must differ from a");
    if (!pairs.insert(std::minmax(l.a, l.b)).second) r.fail("b", "this pair already has a [[link]]");
    for (const char* key : kLinkKeys) *param_field(l.params, key) = number(r, *t, key, *param_field(l.params, key));
    const std::string why = check_link_params(l.params);
    if (!why.empty()) r.fail(why.substr(0, why.find(' ')), why.substr(why.find(": ") + 2));
    cfg.links.push_back(std::move(l));
  }
  return cfg;
}

ParsedCommand parse_command(std::string_view line) {
  ParsedCommand out;
  std::vector<std::string> words;
  std::istringstream in{std::string(line)};
  for (std::string w; in >> w;) words.push_back(w);
  auto error = [&out](std::string msg) {
    out.error = std::move(msg);
    return out;
  };
  if (words.empty()) return error("empty command (try 'help')");
  const std::string& verb = words[0];
  Command& c = out.command;
  if (verb == "stats" || verb == "reset" || verb == "help") {
    if (words.size() != 1) return error("'" + verb + "' takes no arguments");
    c.kind = verb == "stats" ? Command::Kind::stats : verb == "reset" ? Command::Kind::reset : Command::Kind::help;
    return out;
  }
  if (verb == "cut") {
    c.kind = Command::Kind::cut;
  } else if (verb == "restore") {
    c.kind = Command::Kind::restore;
  } else if (verb == "set") {
    c.kind = Command::Kind::set;
  } else {
    return error("unknown command '" + verb + "' (commands: cut, restore, set, stats, reset, help)");
  }
  if (words.size() < 2) return error("'" + verb + "' needs a link: A-B (both directions) or A>B (one)");
  const std::string& link = words[1];
  const std::size_t sep = link.find_first_of("->");
  if (sep == std::string::npos || sep == 0 || sep + 1 >= link.size() ||
      link.find_first_of("->", sep + 1) != std::string::npos)
    return error("link '" + link + "': must be A-B (both directions) or A>B (one direction)");
  c.from = link.substr(0, sep);
  c.to = link.substr(sep + 1);
  c.both_directions = link[sep] == '-';
  if (c.kind != Command::Kind::set) {
    if (words.size() != 2) return error("'" + verb + "' takes only the link");
    return out;
  }
  if (words.size() < 3) return error("'set' needs key=value (delay_ms, jitter_ms, loss, rate_mbit, queue_ms)");
  for (std::size_t i = 2; i < words.size(); ++i) {
    const std::string& w = words[i];
    const std::size_t eq = w.find('=');
    const std::string key = w.substr(0, eq);
    LinkParams probe;
    if (eq == std::string::npos || param_field(probe, key) == nullptr)
      return error("'" + w + "': expected key=value with key one of delay_ms, jitter_ms, loss, rate_mbit, queue_ms");
    const std::string text = w.substr(eq + 1);
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
      return error("'" + w + "': the value is not a number");
    c.changes.emplace_back(key, v);
  }
  return out;
}

std::string apply_changes(LinkParams& params, const std::vector<std::pair<std::string, double>>& changes) {
  LinkParams next = params;
  for (const auto& [key, v] : changes) {
    double* f = param_field(next, key);
    if (f == nullptr) return "unknown key '" + key + "'";
    *f = v;
  }
  std::string why = check_link_params(next);
  if (why.empty()) params = next;
  return why;
}

}  // namespace meshgw::lab
