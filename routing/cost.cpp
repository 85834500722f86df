// SPDX-License-Identifier: BSD-3-Clause
#include "cost.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <stdexcept>

namespace meshgw::routing {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}

const char* to_string(CostKind kind) noexcept {
  switch (kind) {
    case CostKind::weighted: return "default";
    case CostKind::latency: return "latency";
    case CostKind::hops: return "hops";
    case CostKind::weight: return "weight";
  }
  return "default";
}

std::optional<CostKind> cost_kind_from_string(const std::string& name) noexcept {
  if (name == "default" || name == "weighted") return CostKind::weighted;
  if (name == "latency") return CostKind::latency;
  if (name == "hops") return CostKind::hops;
  if (name == "weight") return CostKind::weight;
  return std::nullopt;
}

std::optional<CostWeights> class_weights(const std::string& traffic_class) {
  CostWeights w;
  if (traffic_class == "default" || traffic_class == "best-effort") return w;
  if (traffic_class == "realtime") {
    w.jitter = 2.0;
    w.headroom = 3.0;
    w.loss = 3000.0;
    w.load = 20.0;
    return w;
  }
  if (traffic_class == "bulk") {
    w.latency = 0.2;
    w.loss = 300.0;
    w.money = 1.0;
    w.headroom = 0.5;
    w.load = 30.0;
    return w;
  }
  if (traffic_class == "secure") {
    w.security = 50.0;
    return w;
  }
  return std::nullopt;
}

double queue_delay_ms(const Link& link, const CostParams& params) noexcept {
  if (link.capacity_mbps <= 0) return 0;
  const double rho_raw = link.predicted_utilisation.value_or(link.utilisation);
  const double rho = std::clamp(rho_raw, 0.0, params.max_utilisation);
  const double mu = link.capacity_mbps * 1e6 / (8.0 * params.mean_packet_bytes);  // packets/s
  const double sojourn_ms = 1000.0 / (mu * (1.0 - rho));
  return std::min(sojourn_ms, params.max_queue_ms);
}

void validate(const CostModel& model) {
  const auto& w = model.weights;
  const std::pair<const char*, double> weights[] = {{"latency", w.latency}, {"jitter", w.jitter},   {"loss", w.loss},
                                                    {"money", w.money},     {"headroom", w.headroom}, {"security", w.security},
                                                    {"load", w.load},       {"hop", w.hop}};
  for (const auto& [name, v] : weights)
    if (!std::isfinite(v) || v < 0)
      throw std::invalid_argument(std::string("cost weight ") + name + " must be a finite number >= 0");
  const auto& p = model.params;
  if (!std::isfinite(p.mean_packet_bytes) || p.mean_packet_bytes <= 0)
    throw std::invalid_argument("cost parameter mean_packet_bytes must be > 0");
  if (!std::isfinite(p.max_utilisation) || p.max_utilisation <= 0 || p.max_utilisation >= 1)
    throw std::invalid_argument("cost parameter max_utilisation must be in (0, 1)");
  for (const auto& [name, v] : {std::pair<const char*, double>{"max_queue_ms", p.max_queue_ms},
                                {"max_load_penalty", p.max_load_penalty},
                                {"max_headroom_penalty", p.max_headroom_penalty}})
    if (!std::isfinite(v) || v < 0) throw std::invalid_argument(std::string("cost parameter ") + name + " must be >= 0");
  if (p.max_security_level < 0) throw std::invalid_argument("cost parameter max_security_level must be >= 0");
}

LinkCostBreakdown explain_link(const Link& link, const CostModel& model) noexcept {
  LinkCostBreakdown b;
  b.latency_ms = link.latency_ms;
  switch (model.kind) {
    case CostKind::latency:
      b.link_cost = link.latency_ms;
      return b;
    case CostKind::hops:
      b.link_cost = 1.0;
      return b;
    case CostKind::weight:
      b.link_cost = link.weight.value_or(1.0);
      return b;
    case CostKind::weighted:
      break;
  }
  const CostWeights& w = model.weights;
  b.queue_ms = queue_delay_ms(link, model.params);
  b.jitter_term = w.jitter * link.jitter_ms;
  b.loss_term = link.loss >= 1.0 ? kInf : w.loss * -std::log1p(-link.loss);
  b.money_term = w.money * link.money_cost;
  if (link.capacity_mbps > 0) {
    const double rho = std::clamp(link.predicted_utilisation.value_or(link.utilisation), 0.0, 1.0);
    b.headroom_term = w.headroom * (rho >= 1.0 ? model.params.max_headroom_penalty
                                               : std::min(rho / (1.0 - rho), model.params.max_headroom_penalty));
  }
  b.link_cost = w.latency * (b.latency_ms + b.queue_ms) + b.jitter_term + b.loss_term + b.money_term +
                b.headroom_term;
  return b;
}

double link_cost(const Link& link, const CostModel& model) noexcept {
  if (!link.up) return kInf;
  return explain_link(link, model).link_cost;
}

double node_cost(const Node& node, const CostModel& model) noexcept {
  if (model.kind != CostKind::weighted) return 0;
  const CostWeights& w = model.weights;
  const double below = std::max(0, model.params.max_security_level - node.security_level);
  const double load = std::clamp(node.load, 0.0, 1.0);
  const double load_penalty =
      load >= 1.0 ? model.params.max_load_penalty
                  : std::min(load / (1.0 - load), model.params.max_load_penalty);
  return w.security * below + w.money * node.money_cost + w.load * load_penalty + w.hop;
}

bool transit_allowed(const Node& node, const Constraints& c) noexcept {
  if (!node.up) return false;
  if (c.avoid_roles.count(node.role)) return false;
  if (c.avoid_nodes.count(node.id)) return false;
  if (!node.region.empty() && c.avoid_regions.count(node.region)) return false;
  return node.security_level >= c.min_security_level;
}

}  // namespace meshgw::routing
