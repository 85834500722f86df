// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_state.hpp"

#include <algorithm>

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

json link_json(const std::string& from, const std::string& to, const LinkView& v) {
  return {{"from", from}, {"to", to}, {"rtt_us", v.rtt_us}, {"jitter_us", v.jitter_us},
          {"loss_ppm", v.loss_ppm}, {"updated_ms", v.updated_ms}};
}

}  // namespace

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
  push_delta({{"op", "gateway_removed"}, {"id", id}});
}

BeaconResult MeshState::ingest(std::span<const std::uint8_t> datagram, std::uint64_t now_ms,
                               std::uint64_t max_skew_ms) {
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
  const bool moved = g.addresses != b.addresses || g.latitude_e6 != b.latitude_e6 ||
                     g.longitude_e6 != b.longitude_e6 || g.declared_bps != b.declared_bps;
  g.addresses = std::move(b.addresses);
  g.latitude_e6 = b.latitude_e6;
  g.longitude_e6 = b.longitude_e6;
  g.declared_bps = b.declared_bps;
  if (g.load_permille != b.load_permille) dirty_loads_.push_back(g.record.id);
  g.load_permille = b.load_permille;
  for (const api::BeaconNeighbour& n : b.neighbours) {
    if (n.id == g.record.id || !gateways_.contains(n.id)) continue;  // only links between members
    LinkView& v = links_[{g.record.id, n.id}];
    v = {n.rtt_us, n.jitter_us, n.loss_ppm, now_ms};
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
  if (dirty_links_.empty() && dirty_loads_.empty()) return false;
  std::sort(dirty_links_.begin(), dirty_links_.end());
  dirty_links_.erase(std::unique(dirty_links_.begin(), dirty_links_.end()), dirty_links_.end());
  std::sort(dirty_loads_.begin(), dirty_loads_.end());
  dirty_loads_.erase(std::unique(dirty_loads_.begin(), dirty_loads_.end()), dirty_loads_.end());
  json links = json::array(), loads = json::array();
  for (const auto& key : dirty_links_)
    if (const auto it = links_.find(key); it != links_.end()) links.push_back(link_json(key.first, key.second, it->second));
  for (const auto& id : dirty_loads_)
    if (const auto it = gateways_.find(id); it != gateways_.end())
      loads.push_back({{"id", id}, {"load_permille", it->second.load_permille}});
  dirty_links_.clear();
  dirty_loads_.clear();
  push_delta({{"op", "measurements"}, {"links", std::move(links)}, {"loads", std::move(loads)}});
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
          {"declared_bps", g.declared_bps},
          {"load_permille", g.load_permille},
          {"latitude", g.latitude_e6 / 1e6},
          {"longitude", g.longitude_e6 / 1e6},
          {"last_beacon_ms", g.last_beacon_ms}};
}

json MeshState::links_json() const {
  json links = json::array();
  for (const auto& [key, v] : links_) links.push_back(link_json(key.first, key.second, v));
  return links;
}

json MeshState::snapshot_json() const {
  json gws = json::array();
  for (const auto& [id, g] : gateways_) gws.push_back(gateway_json(g));
  return {{"epoch", epoch_}, {"version", version_}, {"gateways", std::move(gws)}, {"links", links_json()}};
}

std::optional<std::vector<json>> MeshState::deltas_since(const std::string& epoch, std::uint64_t since) const {
  if (epoch != epoch_ || since > version_) return std::nullopt;  // another history: start over
  if (since == version_) return std::vector<json>{};
  if (log_.empty() || log_.front().first > since + 1) return std::nullopt;
  std::vector<json> out;
  for (const auto& [v, d] : log_)
    if (v > since) out.push_back(d);
  return out;
}

}  // namespace meshgw::controller
