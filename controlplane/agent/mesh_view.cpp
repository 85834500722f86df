// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_view.hpp"

#include <algorithm>
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

// Links (re)measured or aged out, and gateway loads: the deltas that come
// every few seconds.
void apply_measurements(json& links, json& gateways, const json& d) {
  json by_key = links_by_key(links);
  for (const auto& l : d.at("links")) by_key[l.at("from").get<std::string>() + ">" + l.at("to").get<std::string>()] = l;
  for (const auto& l : d.value("removed_links", json::array()))
    by_key.erase(l.at("from").get<std::string>() + ">" + l.at("to").get<std::string>());
  links = json::array();
  for (auto& [k, l] : by_key.items()) links.push_back(l);
  for (const auto& load : d.at("loads")) {
    const std::string id = load.at("id").get<std::string>();
    if (gateways.contains(id)) gateways[id]["load_permille"] = load.at("load_permille");
  }
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
    apply_measurements(links_, gateways_, d);
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

namespace {

// Whether apply_delta(d) can neither throw nor leave the view half changed:
// the ops whose fields are all read before anything is written, checked
// here first. Those (SPIs and gateways, most of a busy mesh's deltas) are
// applied in place; the rest on a copy of the view.
bool applies_in_place(const json& d) {
  if (!d.is_object()) return false;
  const auto op = d.find("op");
  if (op == d.end() || !op->is_string()) return false;
  const std::string& o = op->get_ref<const std::string&>();
  if (o == "spi") {
    const auto s = d.find("spi");
    return s != d.end() && s->is_object() && s->contains("spi") && s->at("spi").is_number_unsigned();
  }
  if (o == "spi_removed") {
    const auto s = d.find("spi");
    return s != d.end() && s->is_number_unsigned();
  }
  if (o == "gateway") {
    const auto g = d.find("gateway");
    return g != d.end() && g->is_object() && g->contains("id") && g->at("id").is_string();
  }
  return o == "policy" && d.contains("policy");
}

}  // namespace

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
    structural_ = true;
    return true;
  }
  if (epoch != epoch_) throw std::runtime_error("mesh state: deltas of epoch " + epoch + " on a view of epoch " + epoch_);
  const json& deltas = update.at("deltas");
  if (deltas.empty() && version == version_) return false;
  structural_ = false;
  for (const auto& d : deltas)
    if (d.value("op", "") != "measurements") structural_ = true;
  if (!structural_) {
    // Measurements only: applied to copies of the links and gateways, not
    // of the whole view (its SPIs may be thousands).
    json links = links_, gateways = gateways_;
    for (const auto& d : deltas) apply_measurements(links, gateways, d);
    links_ = std::move(links);
    gateways_ = std::move(gateways);
    version_ = version;
    return true;
  }
  // A copy of the whole view per delta cost more than the rest of a busy
  // gateway's control plane: deltas that cannot fail halfway go in place.
  if (std::all_of(deltas.begin(), deltas.end(), applies_in_place)) {
    for (const auto& d : deltas) apply_delta(d);
    version_ = version;
    structural_ = true;
    return true;
  }
  // Applied to a copy: a delta that does not parse leaves the view as it was.
  MeshView next = *this;
  for (const auto& d : deltas) next.apply_delta(d);
  next.version_ = version;
  *this = std::move(next);
  structural_ = true;
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

MeshView MeshView::measurements_only() const {
  MeshView m;
  m.epoch_ = epoch_;
  m.version_ = version_;
  m.gateways_ = gateways_;
  m.links_ = links_;
  return m;
}

void MeshView::take_measurements(MeshView&& part) {
  MeshView before;
  before.gateways_ = std::move(gateways_);
  gateways_ = std::move(part.gateways_);
  links_ = std::move(part.links_);
  version_ = part.version_;
  keep_addresses_from(before);
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
