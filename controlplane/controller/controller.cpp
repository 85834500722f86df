// SPDX-License-Identifier: BSD-3-Clause
#include "controller.hpp"

#include <prometheus/text_serializer.h>

#include "controlplane/common/metric_family.hpp"

namespace meshgw::controller {

Controller::Controller(const ControllerConfig& config, std::unique_ptr<Storage> storage, const MeshCa& ca,
                       std::string epoch)
    : config_(config),
      storage_(std::move(storage)),
      ca_(ca),
      epoch_(std::move(epoch)),
      registry_(*storage_, ca_, {config.cert_lifetime_s}),
      state_(epoch_, config.delta_log) {
  beacon_port_ = config.beacons.port;
  // A gateway that was up before the restart has to beacon again to be up:
  // until then it is down (it keeps forwarding on its own state meanwhile).
  for (GatewayRecord g : storage_->gateways()) {
    if (g.status == GatewayStatus::up) g.status = GatewayStatus::down;
    state_.upsert_gateway(g);
  }
  if (const auto policy = storage_->setting("policy")) state_.set_policy(api::policy_from_json(nlohmann::json::parse(*policy)));
  for (const SpiRecord& s : storage_->spis()) state_.add_spi(s);
}

void Controller::drop_paths_through(const std::string& id) {
  std::vector<std::uint32_t> crossing;
  for (const auto& [spi, rec] : state_.spis()) {
    const std::string p = ">" + rec.path + ">";
    if (p.find(">" + id + ">") != std::string::npos) crossing.push_back(spi);
  }
  for (std::uint32_t spi : crossing) {
    storage_->release_spi(spi);
    state_.remove_spi(spi);
  }
}

std::vector<EventRecord> Controller::events_after(std::uint64_t seq, std::size_t limit) {
  std::lock_guard lock(mutex_);
  return storage_->events(seq, limit);
}

void Controller::set_change_listener(std::function<void()> listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

void Controller::changed() {
  std::function<void()> l;
  {
    std::lock_guard lock(mutex_);
    l = listener_;
  }
  if (l) l();
}

void Controller::queue_status(const std::string& id, std::uint64_t now_ms, const char* event_kind) {
  pending_statuses_.emplace_back(id, EventRecord{0, static_cast<std::int64_t>(now_ms), event_kind, id, ""});
}

void Controller::persist_statuses() {
  std::vector<std::pair<GatewayRecord, EventRecord>> batch;
  for (auto& [id, event] : pending_statuses_)
    if (const GatewayLive* g = state_.gateway(id)) batch.emplace_back(g->record, std::move(event));
  pending_statuses_.clear();
  storage_->put_gateways_with_events(batch);
}

api::BeaconOutcome Controller::ingest_beacon(std::span<const std::uint8_t> datagram, std::uint64_t now_ms,
                                             const api::BeaconAddress* source) {
  bool announce = false;
  api::BeaconOutcome outcome;
  {
    std::lock_guard lock(mutex_);
    const BeaconResult r = state_.ingest(datagram, now_ms, config_.max_skew_ms, source);
    outcome = r.outcome;
    if (r.new_status) {
      // Only a change of state reaches the disk, never a routine beacon; it
      // is written with the next tick (subscribers are told at once).
      queue_status(r.gateway, now_ms, "up");
      announce = true;
    }
  }
  beacon_outcomes_[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
  if (announce) changed();
  return outcome;
}

void Controller::tick(std::uint64_t now_ms) {
  bool announce = false;
  {
    std::lock_guard lock(mutex_);
    for (const std::string& id : state_.expire(now_ms, config_.down_after_ms)) {
      queue_status(id, now_ms, "down");
      announce = true;
    }
    persist_statuses();
    const auto now_s = static_cast<std::int64_t>(now_ms / 1000);
    for (const std::string& id : state_.expired_ephemeral(now_s, config_.ephemeral_remove_after_s)) {
      registry_.evict(id, now_s, "ephemeral gateway down for longer than ephemeral_remove_after_s");
      drop_paths_through(id);
      state_.remove_gateway(id);
      announce = true;
    }
    announce = state_.flush_measurements() || announce;
    demand_.sample(state_.links_json(), now_ms * 1'000'000);
  }
  if (announce) changed();
}

bool Controller::client_allowed(const std::string& gateway_id, const std::string& serial) {
  std::lock_guard lock(mutex_);
  const GatewayLive* g = state_.gateway(gateway_id);
  return g != nullptr && g->record.status != GatewayStatus::revoked && !state_.is_revoked_serial(serial);
}

std::optional<nlohmann::json> Controller::updates_for(const std::string& epoch, std::uint64_t since,
                                                     const std::string& gateway) {
  std::lock_guard lock(mutex_);
  if (epoch == epoch_ && since == state_.version()) return std::nullopt;
  if (auto d = state_.deltas_since(epoch, since, gateway))
    return nlohmann::json{{"epoch", epoch_}, {"version", state_.version()}, {"deltas", std::move(*d)}};
  return nlohmann::json{{"epoch", epoch_}, {"version", state_.version()}, {"snapshot", state_.snapshot_json(gateway)}};
}

std::uint64_t Controller::version() {
  std::lock_guard lock(mutex_);
  return state_.version();
}

void Controller::count_http(int status) {
  const int c = status / 100;
  if (c >= 1 && c <= 5) http_by_class_[static_cast<std::size_t>(c)].fetch_add(1, std::memory_order_relaxed);
}

std::string Controller::metrics_text() {
  using common::add_sample;
  using common::metric_family;
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  for (std::size_t o = 0; o < api::kBeaconOutcomeCount; ++o) {
    const auto outcome = static_cast<api::BeaconOutcome>(o);
    auto f = metric_family("meshctld_beacons_" + std::string(api::metric_name(outcome)) + "_total",
                           std::string(api::help_text(outcome)), MetricType::Counter);
    add_sample(f, static_cast<double>(beacon_count(outcome)));
    out.push_back(std::move(f));
  }
  auto drops = metric_family("meshctld_beacon_socket_drops_total",
                             "beacon datagrams dropped by the kernel: the socket buffer was full", MetricType::Counter);
  add_sample(drops, static_cast<double>(socket_drops_.load(std::memory_order_relaxed)));
  out.push_back(std::move(drops));
  auto http = metric_family("meshctld_http_responses_total", "HTTP responses by status class", MetricType::Counter);
  for (int c = 2; c <= 5; ++c)
    add_sample(http, static_cast<double>(http_by_class_[static_cast<std::size_t>(c)].load(std::memory_order_relaxed)),
               {{"class", std::to_string(c) + "xx"}});
  out.push_back(std::move(http));
  auto gws = metric_family("meshctld_gateways", "registered gateways by status", MetricType::Gauge);
  auto version = metric_family("meshctld_mesh_version", "version of the mesh state", MetricType::Gauge);
  {
    std::lock_guard lock(mutex_);
    std::size_t by_status[4] = {};
    for (const auto& [id, g] : state_.gateways()) ++by_status[static_cast<std::size_t>(g.record.status)];
    for (std::size_t s = 0; s < 4; ++s)
      add_sample(gws, static_cast<double>(by_status[s]),
                 {{"status", std::string(to_string(static_cast<GatewayStatus>(s)))}});
    add_sample(version, static_cast<double>(state_.version()));
  }
  out.push_back(std::move(gws));
  out.push_back(std::move(version));
  return prometheus::TextSerializer().Serialize(out);
}

}  // namespace meshgw::controller
