// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_view.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "controlplane/common/secret_file.hpp"

namespace meshgw::agent {

using nlohmann::json;

namespace {

json links_by_key(const json& links) {
  json out = json::object();
  for (const auto& l : links) out[l.at("from").get<std::string>() + ">" + l.at("to").get<std::string>()] = l;
  return out;
}

}  // namespace

void MeshView::apply_delta(const json& d) {
  const std::string op = d.at("op").get<std::string>();
  if (op == "gateway") {
    const json& g = d.at("gateway");
    gateways_[g.at("id").get<std::string>()] = g;
  } else if (op == "gateway_removed") {
    const std::string id = d.at("id").get<std::string>();
    gateways_.erase(id);
    json kept = json::array();
    for (const auto& l : links_)
      if (l.at("from") != id && l.at("to") != id) kept.push_back(l);
    links_ = std::move(kept);
  } else if (op == "measurements") {
    json by_key = links_by_key(links_);
    for (const auto& l : d.at("links")) by_key[l.at("from").get<std::string>() + ">" + l.at("to").get<std::string>()] = l;
    for (const auto& l : d.value("removed_links", json::array()))
      by_key.erase(l.at("from").get<std::string>() + ">" + l.at("to").get<std::string>());
    links_ = json::array();
    for (auto& [k, l] : by_key.items()) links_.push_back(l);
    for (const auto& load : d.at("loads")) {
      const std::string id = load.at("id").get<std::string>();
      if (gateways_.contains(id)) gateways_[id]["load_permille"] = load.at("load_permille");
    }
  } else if (op == "policy") {
    policy_ = d.at("policy");
  } else if (op == "spi") {
    const json& s = d.at("spi");
    spis_[std::to_string(s.at("spi").get<std::uint64_t>())] = s;
  } else if (op == "spi_removed") {
    spis_.erase(std::to_string(d.at("spi").get<std::uint64_t>()));
  } else {
    throw std::runtime_error("mesh state: unknown delta op '" + op + "'");
  }
}

bool MeshView::apply(const json& update) {
  if (update.contains("heartbeat")) return false;
  const std::string epoch = update.at("epoch").get<std::string>();
  const std::uint64_t version = update.at("version").get<std::uint64_t>();
  if (update.contains("snapshot")) {
    const json& s = update.at("snapshot");
    MeshView next;
    next.epoch_ = epoch;
    next.version_ = version;
    for (const auto& g : s.at("gateways")) next.gateways_[g.at("id").get<std::string>()] = g;
    next.links_ = s.at("links");
    next.policy_ = s.value("policy", json::object());
    for (const auto& sp : s.value("spis", json::array())) next.spis_[std::to_string(sp.at("spi").get<std::uint64_t>())] = sp;
    *this = std::move(next);
    return true;
  }
  if (epoch != epoch_) throw std::runtime_error("mesh state: deltas of epoch " + epoch + " on a view of epoch " + epoch_);
  const json& deltas = update.at("deltas");
  if (deltas.empty() && version == version_) return false;
  // Applied to a copy: a delta that does not parse leaves the view as it was.
  MeshView next = *this;
  for (const auto& d : deltas) next.apply_delta(d);
  next.version_ = version;
  *this = std::move(next);
  return true;
}

void MeshView::keep_addresses_from(const MeshView& before) {
  for (auto& [id, g] : gateways_.items()) {
    const auto a = g.find("addresses");
    if (a != g.end() && a->is_array() && !a->empty()) continue;
    const auto old = before.gateways_.find(id);
    if (old == before.gateways_.end()) continue;
    const auto b = old->find("addresses");
    if (b != old->end() && b->is_array() && !b->empty()) g["addresses"] = *b;
  }
}

json MeshView::to_json() const {
  return {{"epoch", epoch_}, {"version", version_}, {"gateways", gateways_}, {"links", links_}, {"policy", policy_},
          {"spis", spis_}};
}

MeshView MeshView::from_json(const json& j) {
  MeshView v;
  v.epoch_ = j.at("epoch").get<std::string>();
  v.version_ = j.at("version").get<std::uint64_t>();
  v.gateways_ = j.at("gateways");
  v.links_ = j.at("links");
  v.policy_ = j.at("policy");
  v.spis_ = j.at("spis");
  if (!v.gateways_.is_object() || !v.links_.is_array() || !v.spis_.is_object())
    throw std::runtime_error("mesh state: malformed");
  return v;
}

void MeshView::save(const std::string& path) const {
  common::write_secret_text(path, to_json().dump() + "\n", true);
}

std::optional<MeshView> MeshView::load(const std::string& path) {
  std::ifstream probe(path);
  if (!probe) return std::nullopt;
  const std::string text = common::read_secret_text(path, 256u << 20);
  try {
    return from_json(json::parse(text));
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": not a mesh state file: " + e.what());
  }
}

}  // namespace meshgw::agent
