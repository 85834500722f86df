// SPDX-License-Identifier: BSD-3-Clause
#include "link_demand.hpp"

#include <cmath>
#include <vector>

#include "routing/predict/auto_forecaster.hpp"

namespace meshgw::agent {

using nlohmann::json;

namespace {

routing::predict::ForecasterConfig forecaster_config(const LinkDemandConfig& c) {
  routing::predict::ForecasterConfig f;
  f.season = c.season;
  f.selection_horizon = c.horizon;
  return f;
}

}  // namespace

LinkDemand::LinkDemand(LinkDemandConfig config)
    : config_(config), predictor_(forecaster_config(config), config.horizon) {}

bool LinkDemand::sample(const json& links, std::uint64_t now_ns) {
  if (now_ns < next_sample_ns_) return false;
  next_sample_ns_ = now_ns + config_.sample_interval_ns;
  std::pair<std::string, std::string> refit;
  std::size_t most_behind = 0;
  for (const auto& l : links) {
    if (!l.is_object()) continue;
    const std::string from = l.value("from", ""), to = l.value("to", "");
    const double bps = l.value("load_bps", 0.0);
    if (from.empty() || to.empty() || !std::isfinite(bps) || bps < 0) continue;
    const double mbps = bps / 1e6;
    Series& s = series_[{from, to}];
    s.load_mbps.push_back(mbps);
    if (s.load_mbps.size() > config_.history) s.load_mbps.pop_front();
    ++s.since_fit;
    predictor_.update(from, to, mbps);
    if (s.since_fit >= config_.refit_every && s.since_fit > most_behind) {
      most_behind = s.since_fit;
      refit = {from, to};
    }
  }
  if (most_behind != 0) {
    Series& s = series_[refit];
    const std::vector<double> history(s.load_mbps.begin(), s.load_mbps.end());
    predictor_.fit(refit.first, refit.second, history);
    s.since_fit = 0;
    ++refits_;
  }
  return true;
}

std::optional<double> LinkDemand::forecast_mbps(const std::string& src, const std::string& dst) const {
  const auto* f = predictor_.forecaster(src, dst);
  if (f == nullptr || !f->has_data()) return std::nullopt;
  return std::max(0.0, f->forecast(config_.horizon));
}

std::string LinkDemand::method(const std::string& src, const std::string& dst) const {
  const auto* f = predictor_.forecaster(src, dst);
  if (f == nullptr) return "";
  const std::string d = f->describe();  // "auto: holt-winters (...); persistence score 1; ..." : the choice only
  return d.substr(0, d.find(';'));
}

}  // namespace meshgw::agent
