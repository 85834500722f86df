// SPDX-License-Identifier: BSD-3-Clause
#include "stats_report.hpp"

#include "controlplane/common/metric_family.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace meshgw::agent {

namespace {

using dataplane::DataplaneStats;
using dataplane::kDropReasonCount;
using dataplane::kDropReasonInfo;

struct EventInfo {
  const char* name;
  const char* help;
  std::uint64_t DataplaneStats::*field;
};

constexpr EventInfo kEvents[] = {
#define MESHGW_X(name, help) {#name, help, &DataplaneStats::name},
    MESHGW_WORKER_EVENTS(MESHGW_X)
#undef MESHGW_X
};

using common::add_sample;
using common::metric_family;

std::string metrics_text(const DataplaneStats& s) {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const char* port_fields[] = {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes"};
  for (int k = 0; k < 4; ++k) {
    auto f = metric_family(std::string("meshgw_port_") + port_fields[k] + "_total",
                    std::string("frames/bytes the workers ") + (k < 2 ? "received on" : "sent on") + " the port",
                    MetricType::Counter);
    for (const auto& p : s.ports) {
      const std::uint64_t v[] = {p.rx_packets, p.rx_bytes, p.tx_packets, p.tx_bytes};
      add_sample(f, static_cast<double>(v[k]), {{"port", p.name}});
    }
    out.push_back(std::move(f));
  }
  auto missed = metric_family("meshgw_port_rx_missed_total", "frames the device dropped for lack of RX descriptors",
                       MetricType::Counter);
  for (const auto& p : s.ports) add_sample(missed, static_cast<double>(p.hw_rx_missed), {{"port", p.name}});
  out.push_back(std::move(missed));
  const char* tunnel_fields[] = {"tx_packets", "tx_bytes", "rx_packets", "rx_bytes"};
  for (int k = 0; k < 4; ++k) {
    auto f = metric_family(std::string("meshgw_tunnel_") + tunnel_fields[k] + "_total",
                    k < 2 ? "inner packets/bytes encrypted into the tunnel (bytes: ESP packets)"
                          : "packets/bytes decrypted from the tunnel (bytes: inner packets)",
                    MetricType::Counter);
    for (const auto& t : s.tunnels) {
      const std::uint64_t v[] = {t.tx_packets, t.tx_bytes, t.rx_packets, t.rx_bytes};
      add_sample(f, static_cast<double>(v[k]), {{"tunnel", t.id}});
    }
    out.push_back(std::move(f));
  }
  // One family per drop reason, so each keeps its own help text.
  for (std::size_t r = 0; r < kDropReasonCount; ++r) {
    if (r == 0) continue;  // esp_ok is not a drop
    auto f = metric_family("meshgw_drop_" + std::string(kDropReasonInfo[r].metric) + "_total",
                    std::string(kDropReasonInfo[r].help), MetricType::Counter);
    for (std::size_t w = 0; w < s.per_worker_drops.size(); ++w)
      add_sample(f, static_cast<double>(s.per_worker_drops[w][r]), {{"worker", std::to_string(w)}});
    out.push_back(std::move(f));
  }
  for (const auto& e : kEvents) {
    auto f = metric_family(std::string("meshgw_") + e.name + "_total", e.help, MetricType::Counter);
    add_sample(f, static_cast<double>(s.*(e.field)));
    out.push_back(std::move(f));
  }
  auto version = metric_family("meshgw_snapshot_version", "version of the snapshot the workers forward by", MetricType::Gauge);
  add_sample(version, static_cast<double>(s.snapshot_version));
  out.push_back(std::move(version));
  auto published = metric_family("meshgw_snapshots_published_total", "snapshots published to the workers", MetricType::Counter);
  add_sample(published, static_cast<double>(s.snapshots_published));
  out.push_back(std::move(published));
  auto waiting = metric_family("meshgw_snapshots_retired_waiting", "retired snapshots waiting for their grace period", MetricType::Gauge);
  add_sample(waiting, static_cast<double>(s.snapshots_waiting));
  out.push_back(std::move(waiting));
  return prometheus::TextSerializer().Serialize(out);
}

}  // namespace

StatsReport make_report(const std::string& gateway_id, const DataplaneStats& s, double uptime_s) {
  nlohmann::json j;
  j["gateway"] = gateway_id;
  j["uptime_s"] = uptime_s;
  j["snapshot"] = {{"version", s.snapshot_version},
                   {"policy_rules", s.snapshot_policy_rules},
                   {"published", s.snapshots_published},
                   {"freed", s.snapshots_freed},
                   {"retired_waiting", s.snapshots_waiting}};
  j["ports"] = nlohmann::json::array();
  for (const auto& p : s.ports) {
    j["ports"].push_back({{"name", p.name}, {"rx_packets", p.rx_packets}, {"rx_bytes", p.rx_bytes},
                          {"tx_packets", p.tx_packets}, {"tx_bytes", p.tx_bytes},
                          {"rx_missed", p.hw_rx_missed}, {"rx_errors", p.hw_rx_errors},
                          {"tx_errors", p.hw_tx_errors}});
  }
  j["tunnels"] = nlohmann::json::array();
  for (const auto& t : s.tunnels) {
    j["tunnels"].push_back({{"id", t.id}, {"tx_packets", t.tx_packets}, {"tx_bytes", t.tx_bytes},
                            {"rx_packets", t.rx_packets}, {"rx_bytes", t.rx_bytes}});
  }
  nlohmann::json drops = nlohmann::json::object();
  std::uint64_t total = 0;
  for (std::size_t r = 1; r < kDropReasonCount; ++r) {
    drops[std::string(kDropReasonInfo[r].metric)] = s.drops[r];
    total += s.drops[r];
  }
  j["drops"] = drops;
  j["drops_total"] = total;
  nlohmann::json events = nlohmann::json::object();
  for (const auto& e : kEvents) events[e.name] = s.*(e.field);
  j["events"] = events;
  j["neighbours"] = s.neighbours;
  return {j.dump(2) + "\n", metrics_text(s)};
}

std::string summary_text(const DataplaneStats& s) {
  std::ostringstream out;
  for (const auto& p : s.ports) {
    out << "  port " << p.name << ": rx " << p.rx_packets << " frames / " << p.rx_bytes << " bytes, tx "
        << p.tx_packets << " / " << p.tx_bytes;
    if (p.hw_rx_missed != 0) out << ", device missed " << p.hw_rx_missed;
    out << "\n";
  }
  for (const auto& t : s.tunnels) {
    out << "  tunnel " << t.id << ": out " << t.tx_packets << " packets / " << t.tx_bytes << " bytes, in "
        << t.rx_packets << " / " << t.rx_bytes << "\n";
  }
  for (const auto& e : kEvents) {
    if (s.*(e.field) != 0 && std::string(e.name) != "empty_polls" && std::string(e.name) != "bursts")
      out << "  " << e.name << ": " << s.*(e.field) << "\n";
  }
  std::uint64_t total = 0;
  for (std::size_t r = 1; r < kDropReasonCount; ++r) total += s.drops[r];
  out << "  dropped: " << total;
  for (std::size_t r = 1; r < kDropReasonCount; ++r) {
    if (s.drops[r] != 0) out << ", " << kDropReasonInfo[r].metric << " " << s.drops[r];
  }
  out << "\n";
  return out.str();
}

}  // namespace meshgw::agent
