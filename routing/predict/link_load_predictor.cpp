// SPDX-License-Identifier: BSD-3-Clause
#include "link_load_predictor.hpp"

#include <algorithm>
#include <stdexcept>

#include "auto_forecaster.hpp"

namespace meshgw::routing::predict {

LinkLoadPredictor::LinkLoadPredictor(ForecasterConfig config, int horizon)
    : config_(config), horizon_(horizon) {
  if (horizon < 1) throw std::invalid_argument("LinkLoadPredictor: horizon must be >= 1");
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
  if (forecaster) forecasters_[{src, dst}] = std::move(forecaster);
}

void LinkLoadPredictor::update(const std::string& src, const std::string& dst, double load_mbps) {
  auto& f = forecasters_[{src, dst}];
  if (!f) f = std::make_unique<AutoForecaster>(config_);  // too short to choose: persistence until refitted
  f->update(load_mbps);
}

const Forecaster* LinkLoadPredictor::forecaster(const std::string& src, const std::string& dst) const {
  const auto it = forecasters_.find({src, dst});
  return it == forecasters_.end() ? nullptr : it->second.get();
}

std::size_t LinkLoadPredictor::apply(Topology& topology) const {
  std::size_t set = 0;
  for (LinkIndex l = 0; l < topology.link_count(); ++l) {
    Link& link = topology.link(l);
    if (link.capacity_mbps <= 0) continue;
    const Forecaster* f = forecaster(topology.nodes()[link.src].id, topology.nodes()[link.dst].id);
    if (f == nullptr || !f->has_data()) continue;
    const double predicted_mbps = std::max(0.0, f->forecast(horizon_));
    link.predicted_utilisation = std::max(link.utilisation, predicted_mbps / link.capacity_mbps);
    ++set;
  }
  return set;
}

}  // namespace meshgw::routing::predict
