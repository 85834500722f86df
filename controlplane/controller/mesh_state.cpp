// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_state.hpp"

#include <algorithm>
#include <cmath>

namespace meshgw::controller {

using nlohmann::json;

namespace {

std::string address_text(const api::BeaconAddress& a) {
  char buf[64];
  if (!a.v6) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", a.ip[0], a.ip[1], a.ip[2], a.ip[3], a.port);
    return buf;
  }
  std::string s = "[";
  for (int i = 0; i < 16; i += 2) {
    std::snprintf(buf, sizeof buf, "%s%x", i ? ":" : "", (a.ip[i] << 8) | a.ip[i + 1]);
    s += buf;
  }
  return s + "]:" + std::to_string(a.port);
}


bool on_path(const SpiRecord& s, const std::string& gateway) {
  for (const std::string& g : split_path(s.path))
    if (g == gateway) return true;
  return false;
}

// Whether a measurement moved by more than a fraction of its old value and
// at least by an absolute step.
bool differs(std::uint64_t old_value, std::uint64_t new_value, double fraction, std::uint64_t step) {
  const std::uint64_t d = old_value > new_value ? old_value - new_value : new_value - old_value;
  return d >= step && static_cast<double>(d) >= fraction * static_cast<double>(old_value);
}

}  // namespace

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= path.size()) {
    const auto gt = path.find('>', at);
    out.push_back(path.substr(at, gt == std::string::npos ? std::string::npos : gt - at));
    if (gt == std::string::npos) break;
    at = gt + 1;
  }
  return out;
}

void MeshState::push_delta(json delta) {
  delta["version"] = ++version_;
  log_.emplace_back(version_, std::move(delta));
  while (log_.size() > log_size_) log_.pop_front();
}

void MeshState::upsert_gateway(const GatewayRecord& record) {
  GatewayLive& g = gateways_[record.id];
  const bool new_key = !g.key || g.record.beacon_key != record.beacon_key;
  g.record = record;
  if (new_key) g.key = std::make_unique<api::BeaconKey>(record.beacon_key);
  if (record.status == GatewayStatus::revoked) revoked_serials_[record.cert_serial] = record.id;
  push_delta({{"op", "gateway"}, {"gateway", gateway_json(g)}});
}

void MeshState::remove_gateway(const std::string& id) {
  if (gateways_.erase(id) == 0) return;
  std::erase_if(links_, [&id](const auto& kv) { return kv.first.first == id || kv.first.second == id; });
  tunnel_rates_.erase(id);
  std::erase_if(path_choices_, [&id](const auto& kv) { return std::get<0>(kv.first) == id || std::get<1>(kv.first) == id; });
  recompute_link_load();
  push_delta({{"op", "gateway_removed"}, {"id", id}});
}

void MeshState::set_policy(api::MeshPolicy policy) {
  policy_ = std::move(policy);
  push_delta({{"op", "policy"}, {"policy", api::policy_to_json(policy_)}});
}

json MeshState::spi_json(const SpiRecord& s) const {
  const auto hops = split_path(s.path);
  // The relay entry each transit installs: this SPI from prev is sent to next.
  json relays = json::array();
  for (std::size_t i = 1; i + 1 < hops.size(); ++i)
    relays.push_back({{"gateway", hops[i]}, {"prev", hops[i - 1]}, {"next", hops[i + 1]}});
  return {{"spi", s.spi}, {"from", s.ingress}, {"to", s.egress}, {"path", hops}, {"relays", std::move(relays)},
          {"allocated_at", s.allocated_at}, {"requested_by", s.requested_by}};
}

void MeshState::add_spi(const SpiRecord& spi) {
  spis_[spi.spi] = spi;
  push_delta({{"op", "spi"}, {"spi", spi_json(spi)}});
}

void MeshState::remove_spi(std::uint32_t spi) {
  const auto it = spis_.find(spi);
  if (it == spis_.end()) return;
  json gone = {{"op", "spi_removed"}, {"spi", spi}, {"path", split_path(it->second.path)}};
  spis_.erase(it);
  recompute_link_load();
  push_delta(std::move(gone));
}

void MeshState::set_tunnel_rates(const std::string& gateway, std::map<std::uint32_t, double> tx_bps) {
  tunnel_rates_[gateway] = std::move(tx_bps);
  recompute_link_load();
}

void MeshState::set_path_choice(const std::string& gateway, const std::string& egress,
                                const std::string& traffic_class, std::vector<std::string> path) {
  const PathChoiceKey key{gateway, egress, traffic_class};
  if (path.empty()) path_choices_.erase(key);
  else path_choices_[key] = std::move(path);
}

void MeshState::recompute_link_load() {
  link_load_.clear();
  for (const auto& [gw, rates] : tunnel_rates_) {
    for (const auto& [spi, bps] : rates) {
      const auto it = spis_.find(spi);
      if (it == spis_.end() || it->second.ingress != gw) continue;  // only the sender's own tunnels count
      const auto hops = split_path(it->second.path);
      for (std::size_t i = 0; i + 1 < hops.size(); ++i) link_load_[{hops[i], hops[i + 1]}] += bps;
    }
  }
  // A load that moved makes a delta of its link, as a moved RTT does: the
  // gateways price (and forecast) link loads, and a link whose RTT holds
  // still while its load climbs must not look idle to them. Significant:
  // 2 % of the link's capacity, or with no capacity known 5 % and 10 kbit/s.
  for (const auto& [key, view] : links_) {
    const double now = link_load_bps(key.first, key.second);
    const auto p = published_load_.find(key);
    const double before = p == published_load_.end() ? 0.0 : p->second;
    const auto cap = static_cast<double>(link_capacity_bps(key.first, key.second));
    const double d = std::abs(now - before);
    if (cap > 0 ? d >= 0.02 * cap : d >= 10'000 && d >= 0.05 * before) dirty_links_.push_back(key);
  }
}

std::uint64_t MeshState::link_capacity_bps(const std::string& from, const std::string& to) const {
  const GatewayLive* a = gateway(from);
  const GatewayLive* b = gateway(to);
  return a && b ? std::min(a->declared_bps, b->declared_bps) : 0;
}

double MeshState::link_load_bps(const std::string& from, const std::string& to) const {
  const auto it = link_load_.find({from, to});
  return it == link_load_.end() ? 0.0 : it->second;
}

BeaconResult MeshState::ingest(std::span<const std::uint8_t> datagram, std::uint64_t now_ms,
                               std::uint64_t max_skew_ms, const api::BeaconAddress* source) {
  BeaconResult r;
  api::Beacon b;
  r.outcome = api::parse_beacon(datagram, b);
  if (r.outcome != api::BeaconOutcome::accepted) return r;
  const auto it = gateways_.find(b.gateway_id);
  if (it == gateways_.end()) {
    r.outcome = api::BeaconOutcome::unknown_gateway;
    return r;
  }
  GatewayLive& g = it->second;
  r.gateway = g.record.id;
  if (g.record.status == GatewayStatus::revoked) {
    r.outcome = api::BeaconOutcome::revoked_gateway;
    return r;
  }
  // The tag before anything the sender claims is believed (replay state included).
  if (!g.key->verify(datagram)) {
    r.outcome = api::BeaconOutcome::bad_tag;
    return r;
  }
  r.outcome = g.guard.check(b, now_ms, max_skew_ms);
  if (r.outcome != api::BeaconOutcome::accepted) return r;
  g.guard.accept(b);
  g.last_beacon_ms = now_ms;
  g.behind_nat = b.addresses.empty() && source != nullptr;
  if (g.behind_nat) b.addresses.push_back(*source);
  const bool moved = g.addresses != b.addresses || g.latitude_e6 != b.latitude_e6 ||
                     g.longitude_e6 != b.longitude_e6 || g.declared_bps != b.declared_bps;
  g.addresses = std::move(b.addresses);
  g.latitude_e6 = b.latitude_e6;
  g.longitude_e6 = b.longitude_e6;
  g.declared_bps = b.declared_bps;
  // Only a significant change makes a delta: a mesh of thousands of
  // gateways beaconing every few seconds must not flood every subscriber
  // with jitter in the third digit.
  if (differs(g.load_permille, b.load_permille, 0.0, 50)) {
    g.load_permille = b.load_permille;
    dirty_loads_.push_back(g.record.id);
  }
  for (const api::BeaconNeighbour& n : b.neighbours) {
    if (n.id == g.record.id || !gateways_.contains(n.id)) continue;  // only links between members
    auto [slot, added] = links_.try_emplace({g.record.id, n.id});
    LinkView& v = slot->second;
    const bool significant = added || differs(v.rtt_us, n.rtt_us, 0.10, 500) ||
                             differs(v.jitter_us, n.jitter_us, 0.20, 500) || differs(v.loss_ppm, n.loss_ppm, 0.0, 1000);
    v.updated_ms = now_ms;
    if (!significant) continue;
    v.rtt_us = n.rtt_us;
    v.jitter_us = n.jitter_us;
    v.loss_ppm = n.loss_ppm;
    dirty_links_.emplace_back(g.record.id, n.id);
  }
  if (g.record.status != GatewayStatus::up) {
    g.record.status = GatewayStatus::up;
    g.record.status_since = static_cast<std::int64_t>(now_ms / 1000);
    r.new_status = GatewayStatus::up;
    push_delta({{"op", "gateway"}, {"gateway", gateway_json(g)}});
  } else if (moved) {
    push_delta({{"op", "gateway"}, {"gateway", gateway_json(g)}});
  }
  return r;
}

std::vector<std::string> MeshState::expire(std::uint64_t now_ms, std::uint64_t down_after_ms) {
  std::vector<std::string> down;
  for (auto& [id, g] : gateways_) {
    if (g.record.status != GatewayStatus::up) continue;
    if (now_ms - std::min(now_ms, g.last_beacon_ms) <= down_after_ms) continue;
    g.record.status = GatewayStatus::down;
    g.record.status_since = static_cast<std::int64_t>(now_ms / 1000);
    push_delta({{"op", "gateway"}, {"gateway", gateway_json(g)}});
    down.push_back(id);
  }
  // A link its measuring end stopped reporting (the neighbour vanished from
  // its beacons, or the gateway went quiet) is gone after three times the
  // down time: a stale RTT must not keep attracting traffic.
  const std::uint64_t link_ttl = 3 * down_after_ms;
  for (auto it = links_.begin(); it != links_.end();) {
    if (now_ms - std::min(now_ms, it->second.updated_ms) > link_ttl) {
      removed_links_.push_back(it->first);
      published_load_.erase(it->first);
      it = links_.erase(it);
    } else {
      ++it;
    }
  }
  return down;
}

std::vector<std::string> MeshState::expired_ephemeral(std::int64_t now_s, std::int64_t remove_after_s) const {
  std::vector<std::string> out;
  for (const auto& [id, g] : gateways_)
    if (g.record.ephemeral && g.record.status == GatewayStatus::down && now_s - g.record.status_since > remove_after_s)
      out.push_back(id);
  return out;
}

bool MeshState::flush_measurements() {
  if (dirty_links_.empty() && dirty_loads_.empty() && removed_links_.empty()) return false;
  std::sort(dirty_links_.begin(), dirty_links_.end());
  dirty_links_.erase(std::unique(dirty_links_.begin(), dirty_links_.end()), dirty_links_.end());
  std::sort(dirty_loads_.begin(), dirty_loads_.end());
  dirty_loads_.erase(std::unique(dirty_loads_.begin(), dirty_loads_.end()), dirty_loads_.end());
  json links = json::array(), loads = json::array();
  for (const auto& key : dirty_links_)
    if (const auto it = links_.find(key); it != links_.end()) {
      links.push_back(link_json(key.first, key.second, it->second));
      published_load_[key] = link_load_bps(key.first, key.second);
    }
  for (const auto& id : dirty_loads_)
    if (const auto it = gateways_.find(id); it != gateways_.end())
      loads.push_back({{"id", id}, {"load_permille", it->second.load_permille}});
  json removed = json::array();
  for (const auto& [from, to] : removed_links_) removed.push_back({{"from", from}, {"to", to}});
  dirty_links_.clear();
  dirty_loads_.clear();
  removed_links_.clear();
  push_delta({{"op", "measurements"}, {"links", std::move(links)}, {"loads", std::move(loads)},
              {"removed_links", std::move(removed)}});
  return true;
}

const GatewayLive* MeshState::gateway(const std::string& id) const {
  const auto it = gateways_.find(id);
  return it == gateways_.end() ? nullptr : &it->second;
}

bool MeshState::is_revoked_serial(const std::string& serial) const { return revoked_serials_.contains(serial); }

json MeshState::gateway_json(const GatewayLive& g) const {
  json addresses = json::array();
  for (const auto& a : g.addresses) addresses.push_back(address_text(a));
  return {{"id", g.record.id},
          {"role", to_string(g.record.role)},
          {"status", to_string(g.record.status)},
          {"status_since", g.record.status_since},
          {"ephemeral", g.record.ephemeral},
          {"site", g.record.site},
          {"region", g.record.region},
          {"registered_at", g.record.registered_at},
          {"cert_serial", g.record.cert_serial},
          {"cert_not_after", g.record.cert_not_after},
          {"addresses", std::move(addresses)},
          {"behind_nat", g.behind_nat},
          {"sites", g.record.sites},
          {"declared_bps", g.declared_bps},
          {"load_permille", g.load_permille},
          {"latitude", g.latitude_e6 / 1e6},
          {"longitude", g.longitude_e6 / 1e6},
          {"last_beacon_ms", g.last_beacon_ms}};
}

json MeshState::link_json(const std::string& from, const std::string& to, const LinkView& v) const {
  json j = {{"from", from}, {"to", to}, {"rtt_us", v.rtt_us}, {"jitter_us", v.jitter_us},
            {"loss_ppm", v.loss_ppm}, {"updated_ms", v.updated_ms}};
  const double load = link_load_bps(from, to);
  j["load_bps"] = load;
  const std::uint64_t cap = link_capacity_bps(from, to);  // 0: unknown, no utilisation
  j["capacity_bps"] = cap;
  j["utilisation"] = cap ? load / static_cast<double>(cap) : 0.0;
  return j;
}

json MeshState::links_json() const {
  json links = json::array();
  for (const auto& [key, v] : links_) links.push_back(link_json(key.first, key.second, v));
  return links;
}

json MeshState::snapshot_json(const std::string& for_gateway) const {
  json gws = json::array();
  for (const auto& [id, g] : gateways_) gws.push_back(gateway_json(g));
  json spis = json::array();
  for (const auto& [n, s] : spis_)
    if (for_gateway.empty() || on_path(s, for_gateway)) spis.push_back(spi_json(s));
  return {{"epoch", epoch_}, {"version", version_}, {"gateways", std::move(gws)}, {"links", links_json()},
          {"policy", api::policy_to_json(policy_)}, {"spis", std::move(spis)}};
}

std::optional<std::vector<json>> MeshState::deltas_since(const std::string& epoch, std::uint64_t since,
                                                         const std::string& for_gateway) const {
  if (epoch != epoch_ || since > version_) return std::nullopt;  // another history: start over
  if (since == version_) return std::vector<json>{};
  if (log_.empty() || log_.front().first > since + 1) return std::nullopt;
  std::vector<json> out;
  for (const auto& [v, d] : log_) {
    if (v <= since) continue;
    if (!for_gateway.empty() && (d["op"] == "spi" || d["op"] == "spi_removed")) {
      const json& path = d["op"] == "spi" ? d["spi"]["path"] : d["path"];
      if (std::find(path.begin(), path.end(), for_gateway) == path.end()) continue;
    }
    out.push_back(d);
  }
  return out;
}

}  // namespace meshgw::controller
