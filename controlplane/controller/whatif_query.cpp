// SPDX-License-Identifier: BSD-3-Clause
#include "whatif_query.hpp"

#include <cmath>
#include <set>
#include <stdexcept>

#include "mesh_paths.hpp"
#include "rest_request.hpp"

namespace meshgw::controller {

using nlohmann::json;
using rest::refuse;

std::vector<routing::DemandFlow> flows_of(const MeshState& state) {
  std::vector<routing::DemandFlow> flows;
  std::map<std::pair<std::string, std::string>, std::size_t> by_path;  // (ingress, "a>b>c") -> flow
  std::set<std::pair<std::string, std::string>> carried;               // (ingress, egress) with traffic
  for (const auto& [gw, rates] : state.tunnel_rates()) {
    for (const auto& [spi, bps] : rates) {
      const auto it = state.spis().find(spi);
      if (it == state.spis().end() || it->second.ingress != gw || bps <= 0) continue;
      const auto [slot, fresh] = by_path.try_emplace({gw, it->second.path}, flows.size());
      if (fresh) flows.push_back({.from = gw, .to = it->second.egress, .path = split_path(it->second.path)});
      flows[slot->second].rate_bps += bps;
      carried.insert({gw, it->second.egress});
    }
  }
  // The class of a carried flow is the one whose choice it is; choices that
  // carry nothing yet are flows of no rate (they may still move).
  for (const auto& [key, path] : state.path_choices()) {
    const auto& [gw, egress, cls] = key;
    std::string joined;
    for (const std::string& hop : path) joined += (joined.empty() ? "" : ">") + hop;
    if (const auto it = by_path.find({gw, joined}); it != by_path.end()) {
      flows[it->second].traffic_class = cls;
    } else if (!carried.contains({gw, egress}) && path.size() >= 2) {
      flows.push_back({.from = gw, .to = egress, .traffic_class = cls, .path = path});
    }
  }
  return flows;
}

namespace {

// A gateway by ID, else by a site only it has.
std::optional<std::string> resolve(const MeshState& state, const std::string& name) {
  if (state.gateway(name) != nullptr) return name;
  std::optional<std::string> found;
  for (const auto& [id, g] : state.gateways()) {
    if (g.record.site != name) continue;
    if (found) return std::nullopt;  // a site two gateways share names neither
    found = id;
  }
  return found;
}

std::string gateway_field(const MeshState& state, const json& v, const std::string& field) {
  if (!v.is_string() || v.get<std::string>().empty()) refuse(400, "must be a gateway ID or site", field);
  const auto id = resolve(state, v.get<std::string>());
  if (!id) refuse(400, v.get<std::string>() + " is not a gateway of the mesh (nor the site of exactly one)", field);
  return *id;
}

std::pair<std::string, std::string> link_field(const MeshState& state, const json& v, const std::string& field) {
  if (v.is_array()) {
    if (v.size() != 2) refuse(400, "must be [\"A\", \"B\"]", field);
    return {gateway_field(state, v[0], field + "[0]"), gateway_field(state, v[1], field + "[1]")};
  }
  if (!v.is_string()) refuse(400, "must be \"A-B\" or [\"A\", \"B\"]", field);
  // IDs hold '-' themselves (gw-3): every split that names two gateways counts.
  const std::string s = v.get<std::string>();
  std::vector<std::pair<std::string, std::string>> matches;
  for (std::size_t at = s.find('-'); at != std::string::npos; at = s.find('-', at + 1)) {
    const auto a = resolve(state, s.substr(0, at)), b = resolve(state, s.substr(at + 1));
    if (a && b) matches.emplace_back(*a, *b);
  }
  if (matches.empty()) refuse(400, s + " is not two gateways (IDs or sites) joined by '-'", field);
  if (matches.size() > 1) refuse(400, s + " reads more than one way: give it as [\"A\", \"B\"]", field);
  return matches.front();
}

json named_json(const std::optional<routing::NamedPath>& p) {
  if (!p) return nullptr;
  return {{"nodes", p->nodes}, {"cost", p->cost}};
}

}  // namespace

json what_if_json(const MeshState& state, const std::string& text, const common::LinkDemand* forecasts) {
  const rest::Body b(text);
  b.only({"fail_links", "fail_gateways", "add_demand", "hot_utilisation"});
  const json doc = json::parse(text);
  routing::WhatIfChange change;
  routing::WhatIfConfig config;
  config.edge_transit = state.policy().edge_transit;
  auto array = [&](const char* key) -> const json* {
    if (!doc.contains(key)) return nullptr;
    if (!doc[key].is_array() || doc[key].size() > 1000) refuse(400, "must be an array (at most 1000)", key);
    return &doc[key];
  };
  if (const json* links = array("fail_links"))
    for (std::size_t i = 0; i < links->size(); ++i)
      change.fail_links.push_back(link_field(state, (*links)[i], "fail_links[" + std::to_string(i) + "]"));
  if (const json* gws = array("fail_gateways"))
    for (std::size_t i = 0; i < gws->size(); ++i)
      change.fail_gateways.push_back(gateway_field(state, (*gws)[i], "fail_gateways[" + std::to_string(i) + "]"));
  if (const json* demand = array("add_demand")) {
    for (std::size_t i = 0; i < demand->size(); ++i) {
      const std::string f = "add_demand[" + std::to_string(i) + "]";
      const json& d = (*demand)[i];
      if (!d.is_object()) refuse(400, "must be {\"from\", \"to\", \"rate_bps\", \"class\"}", f);
      for (const auto& [k, v] : d.items())
        if (k != "from" && k != "to" && k != "rate_bps" && k != "class") refuse(400, "unknown field", f + "." + k);
      if (!d.contains("from") || !d.contains("to") || !d.contains("rate_bps"))
        refuse(400, "needs from, to and rate_bps", f);
      routing::DemandFlow flow{.from = gateway_field(state, d["from"], f + ".from"),
                               .to = gateway_field(state, d["to"], f + ".to")};
      if (!d["rate_bps"].is_number() || !std::isfinite(d["rate_bps"].get<double>()) || d["rate_bps"].get<double>() <= 0)
        refuse(400, "must be a positive number of bits/s", f + ".rate_bps");
      flow.rate_bps = d["rate_bps"].get<double>();
      if (d.contains("class")) {
        if (!d["class"].is_string() || !routing::class_weights(d["class"].get<std::string>()))
          refuse(400, "must be default, realtime, bulk or secure", f + ".class");
        flow.traffic_class = d["class"].get<std::string>();
      }
      if (flow.from == flow.to) refuse(400, "from and to are the same gateway", f);
      change.add_demand.push_back(std::move(flow));
    }
  }
  if (doc.contains("hot_utilisation")) {
    const json& h = doc["hot_utilisation"];
    if (!h.is_number() || !(h.get<double>() > 0) || h.get<double>() > 10) refuse(400, "must be in (0, 10]", "hot_utilisation");
    config.hot_utilisation = h.get<double>();
  }
  if (change.fail_links.empty() && change.fail_gateways.empty() && change.add_demand.empty())
    refuse(400, "name a link or gateway to fail, or demand to add (fail_links, fail_gateways, add_demand)");
  routing::WhatIfResult r;
  try {
    routing::Topology topology = topology_of(state);
    if (forecasts != nullptr) forecasts->apply(topology);
    r = routing::what_if(topology, flows_of(state), change, config);
  } catch (const std::invalid_argument& e) {
    refuse(400, e.what(), "change");  // e.g. a link that does not exist
  }
  json flows = json::array();
  std::size_t unchanged = 0;
  for (const routing::FlowOutcome& o : r.flows) {
    if (o.verdict == routing::FlowVerdict::stays) {
      ++unchanged;
      continue;
    }
    flows.push_back({{"from", o.flow.from}, {"to", o.flow.to}, {"class", o.flow.traffic_class},
                     {"rate_bps", o.flow.rate_bps}, {"verdict", routing::to_string(o.verdict)},
                     {"before", named_json(o.before)}, {"after", named_json(o.after)}});
  }
  json links = json::array();
  std::size_t hot = 0;
  for (const routing::LinkOutcome& l : r.links) {
    hot += l.hot_after;
    if (!l.failed && !l.hot_after && std::abs(l.load_after_bps - l.load_before_bps) < 1) continue;
    links.push_back({{"from", l.from}, {"to", l.to}, {"capacity_bps", l.capacity_bps},
                     {"load_before_bps", l.load_before_bps}, {"load_after_bps", l.load_after_bps},
                     {"utilisation_before", l.utilisation_before}, {"utilisation_after", l.utilisation_after},
                     {"failed", l.failed}, {"hot_before", l.hot_before}, {"hot_after", l.hot_after}});
  }
  json fail_links = json::array();
  for (const auto& [a, z] : change.fail_links) fail_links.push_back({a, z});
  json added = json::array();
  for (const auto& d : change.add_demand)
    added.push_back({{"from", d.from}, {"to", d.to}, {"rate_bps", d.rate_bps}, {"class", d.traffic_class}});
  return {{"change", {{"fail_links", fail_links}, {"fail_gateways", change.fail_gateways}, {"add_demand", added}}},
          {"hot_utilisation", config.hot_utilisation},
          {"flows", std::move(flows)},
          {"flows_unchanged", unchanged},
          {"links", std::move(links)},
          {"hot_links", hot},
          {"forecast", forecasts == nullptr ? json(nullptr)
                                         : json{{"horizon_s", forecasts->config().horizon_seconds()},
                                                {"series", forecasts->series()}}},
          {"version", state.version()}};
}

}  // namespace meshgw::controller
