// SPDX-License-Identifier: BSD-3-Clause
#include "link_load_predictor.hpp"

#include <algorithm>
#include <stdexcept>

#include "auto_forecaster.hpp"

namespace meshgw::routing::predict {

LinkLoadPredictor::LinkLoadPredictor(ForecasterConfig config, int horizon, TrendConfig trend)
    : config_(config), horizon_(horizon), trend_(trend) {
  if (horizon < 1) throw std::invalid_argument("LinkLoadPredictor: horizon must be >= 1");
  LocalTrend check(trend_);  // refuse a bad trend config now, not at the first sample
  config_.selection_horizon = horizon;
}

void LinkLoadPredictor::fit(const std::string& src, const std::string& dst, std::span<const double> load_mbps) {
  install(src, dst, fitted(config_, load_mbps));
}

std::unique_ptr<Forecaster> LinkLoadPredictor::fitted(const ForecasterConfig& config, std::span<const double> load_mbps) {
  auto f = std::make_unique<AutoForecaster>(config);
  f->fit(load_mbps);
  return f;
}

void LinkLoadPredictor::install(const std::string& src, const std::string& dst, std::unique_ptr<Forecaster> forecaster) {
  if (forecaster) series_of(src, dst).model = std::move(forecaster);
}

LinkLoadPredictor::Series& LinkLoadPredictor::series_of(const std::string& src, const std::string& dst) {
  auto it = forecasters_.find({src, dst});
  if (it == forecasters_.end()) it = forecasters_.emplace(std::pair{src, dst}, Series{nullptr, LocalTrend(trend_)}).first;
  return it->second;
}

void LinkLoadPredictor::update(const std::string& src, const std::string& dst, double load_mbps) {
  Series& s = series_of(src, dst);
  if (!s.model) s.model = std::make_unique<AutoForecaster>(config_);  // too short to choose: persistence until refitted
  s.model->update(load_mbps);
  s.trend.update(load_mbps);
}

const Forecaster* LinkLoadPredictor::forecaster(const std::string& src, const std::string& dst) const {
  const auto it = forecasters_.find({src, dst});
  return it == forecasters_.end() ? nullptr : it->second.model.get();
}

std::optional<LinkLoadPredictor::Prediction> LinkLoadPredictor::predicted(const std::string& src,
                                                                          const std::string& dst) const {
  const auto it = forecasters_.find({src, dst});
  if (it == forecasters_.end() || !it->second.model || !it->second.model->has_data()) return std::nullopt;
  Prediction p{std::max(0.0, it->second.model->forecast(horizon_)), false};
  if (const auto rise = it->second.trend.forecast(horizon_); rise && *rise > p.mbps) p = {*rise, true};
  return p;
}

std::size_t LinkLoadPredictor::apply(Topology& topology) const {
  std::size_t set = 0;
  for (LinkIndex l = 0; l < topology.link_count(); ++l) {
    Link& link = topology.link(l);
    if (link.capacity_mbps <= 0) continue;
    const auto p = predicted(topology.nodes()[link.src].id, topology.nodes()[link.dst].id);
    if (!p) continue;
    link.predicted_utilisation = std::max(link.utilisation, p->mbps / link.capacity_mbps);
    ++set;
  }
  return set;
}

}  // namespace meshgw::routing::predict
