// SPDX-License-Identifier: BSD-3-Clause
#include "topology_json.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace meshgw::common {

namespace {

using nlohmann::json;
using routing::Link;
using routing::Node;
using routing::Topology;

std::string line_col(const std::string& text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "a number";
  }
}

// Reads fields of one JSON object, naming the path in every error.
class Fields {
 public:
  Fields(const json& obj, std::string where, const std::string& source)
      : obj_(obj), where_(std::move(where)), source_(source) {
    if (!obj_.is_object()) fail("expected an object, got " + std::string(type_name(obj_)));
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw TopologyError(source_ + ": " + where_ + ": " + what);
  }
  bool has(const char* key) const { return obj_.contains(key) && !obj_.at(key).is_null(); }
  std::optional<double> number(const char* key, double min, double max) const {
    if (!has(key)) return std::nullopt;
    const json& v = obj_.at(key);
    if (!v.is_number()) field_fail(key, std::string("expected a number, got ") + type_name(v));
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < min || d > max) {
      std::ostringstream msg;
      msg << d << " is outside [" << min << ", " << max << "]";
      field_fail(key, msg.str());
    }
    return d;
  }
  std::string text(const char* key, bool required) const {
    if (!has(key)) {
      if (required) field_fail(key, "missing");
      return {};
    }
    const json& v = obj_.at(key);
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    field_fail(key, std::string("expected a string, got ") + type_name(v));
  }
  std::optional<bool> boolean(const char* key) const {
    if (!has(key)) return std::nullopt;
    if (!obj_.at(key).is_boolean()) field_fail(key, std::string("expected true or false"));
    return obj_.at(key).get<bool>();
  }
  [[noreturn]] void field_fail(const char* key, const std::string& what) const {
    throw TopologyError(source_ + ": " + where_ + "." + key + ": " + what);
  }

 private:
  const json& obj_;
  std::string where_;
  const std::string& source_;
};

constexpr double kBig = 1e15;

Node read_node(const Fields& f) {
  Node n;
  n.id = f.text("id", true);
  if (n.id.empty()) f.field_fail("id", "must not be empty");
  n.lat = f.number("lat", -90, 90);
  n.lon = f.number("lon", -180, 180);
  if (n.lat.has_value() != n.lon.has_value()) f.fail("lat and lon must be given together");
  if (const std::string role = f.text("role", false); !role.empty()) {
    const auto r = routing::role_from_string(role);
    if (!r) f.field_fail("role", "'" + role + "' is not core, edge or transit");
    n.role = *r;
  }
  n.site = f.text("site", false);
  n.region = f.text("region", false);
  n.capacity_mbps = f.number("capacity", 0, kBig).value_or(0);
  n.load = f.number("load", 0, 1).value_or(0);
  n.security_level = static_cast<int>(f.number("security_level", -1000, 1000).value_or(0));
  n.money_cost = f.number("money_cost", 0, kBig).value_or(0);
  n.up = f.boolean("up").value_or(true);
  return n;
}

Link read_link(const Fields& f, const Topology& topo) {
  Link l;
  const std::string src = f.text("src", true), dst = f.text("dst", true);
  const auto s = topo.find(src), d = topo.find(dst);
  if (!s) f.field_fail("src", "'" + src + "' is not a node id");
  if (!d) f.field_fail("dst", "'" + dst + "' is not a node id");
  l.src = *s;
  l.dst = *d;
  if (const auto lat = f.number("latency_ms", 0, kBig)) {
    l.latency_ms = *lat;
  } else {
    const Node& a = topo.nodes()[l.src];
    const Node& b = topo.nodes()[l.dst];
    if (!a.lat || !b.lat) f.field_fail("latency_ms", "missing, and an end has no coordinates to derive it");
    l.latency_ms = routing::great_circle_km(*a.lat, *a.lon, *b.lat, *b.lon) / routing::kFibreKmPerMs;
  }
  l.capacity_mbps = f.number("capacity", 0, kBig).value_or(0);
  l.jitter_ms = f.number("jitter_ms", 0, kBig).value_or(0);
  l.loss = f.number("loss", 0, 1).value_or(0);
  // Fractions of capacity (0.5 = 50%); above 1 is overload, above 10 surely a percentage.
  l.utilisation = f.number("utilisation", 0, 10).value_or(0);
  l.predicted_utilisation = f.number("predicted_utilisation", 0, 10);
  l.money_cost = f.number("money_cost", 0, kBig).value_or(0);
  l.weight = f.number("weight", 0, kBig);
  l.up = f.boolean("up").value_or(true);
  return l;
}

}  // namespace

Topology parse_topology_json(const std::string& text, const std::string& source) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    if (const auto pos = what.find("syntax error"); pos != std::string::npos) what = what.substr(pos);
    throw TopologyError(source + ":" + line_col(text, e.byte == 0 ? 0 : e.byte - 1) + ": invalid JSON: " + what);
  } catch (const json::exception& e) {
    // Not a syntax error but still unreadable, e.g. a number beyond double
    // range (found by the fuzzer): no position is known, the message says what.
    std::string what = e.what();
    if (const auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    throw TopologyError(source + ": invalid JSON: " + what);
  }
  const Fields top(doc, "(top level)", source);
  const bool directed = top.boolean("directed").value_or(false);
  if (!doc.contains("nodes") || !doc["nodes"].is_array()) top.field_fail("nodes", "missing or not an array");
  if (!doc.contains("links") || !doc["links"].is_array()) top.field_fail("links", "missing or not an array");
  Topology topo;
  const json& nodes = doc["nodes"];
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Fields f(nodes[i], "nodes[" + std::to_string(i) + "]", source);
    Node n = read_node(f);
    if (topo.find(n.id)) f.field_fail("id", "duplicate node id '" + n.id + "'");
    topo.add_node(std::move(n));
  }
  const json& links = doc["links"];
  for (std::size_t i = 0; i < links.size(); ++i) {
    const Fields f(links[i], "links[" + std::to_string(i) + "]", source);
    const Link l = read_link(f, topo);
    try {
      if (directed) topo.add_link(l);
      else topo.add_bidirectional(l);
    } catch (const std::invalid_argument& e) {
      f.fail(e.what());
    }
  }
  return topo;
}

Topology load_topology_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TopologyError(path + ": cannot open topology file");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in && !in.eof()) throw TopologyError(path + ": read failed");
  return parse_topology_json(buf.str(), path);
}

}  // namespace meshgw::common
