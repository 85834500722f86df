// SPDX-License-Identifier: BSD-3-Clause
#include "link_demand.hpp"

#include <chrono>
#include <cmath>
#include <vector>

#include "routing/predict/auto_forecaster.hpp"

namespace meshgw::common {

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
    : config_(config), predictor_(forecaster_config(config), config.horizon, config.trend) {}

// A finished background refit replaces the link's forecaster, after the
// samples taken since its history was copied are fed to it.
void LinkDemand::collect_refit(bool wait) {
  if (!refit_) return;
  if (!wait && refit_->result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
  std::unique_ptr<routing::predict::Forecaster> f;
  try {
    f = refit_->result.get();
  } catch (const std::exception&) {
    // A series the methods cannot fit keeps its forecaster until its next turn.
  }
  const auto s = series_.find(refit_->link);
  if (f && s != series_.end()) {
    const std::uint64_t missed = s->second.samples - refit_->samples_at_start;
    const auto& h = s->second.load_mbps;
    for (std::size_t i = h.size() - std::min<std::size_t>(h.size(), missed); i < h.size(); ++i) f->update(h[i]);
    predictor_.install(refit_->link.first, refit_->link.second, std::move(f));
    ++refits_;
  }
  refit_.reset();
}

bool LinkDemand::sample(const json& links, std::uint64_t now_ns) {
  if (now_ns < next_sample_ns_) return false;
  next_sample_ns_ = now_ns + config_.sample_interval_ns;
  collect_refit(false);
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
    ++s.samples;
    predictor_.update(from, to, mbps);
    if (s.since_fit >= config_.refit_every && s.since_fit > most_behind) {
      most_behind = s.since_fit;
      refit = {from, to};
    }
  }
  if (most_behind != 0 && !refit_) {
    Series& s = series_[refit];
    std::vector<double> history(s.load_mbps.begin(), s.load_mbps.end());
    s.since_fit = 0;
    if (config_.background_refits) {
      refit_ = Refit{refit, s.samples,
                     std::async(std::launch::async, [config = predictor_.config(), h = std::move(history)] {
                       return routing::predict::LinkLoadPredictor::fitted(config, h);
                     })};
    } else {
      predictor_.fit(refit.first, refit.second, history);
      ++refits_;
    }
  }
  return true;
}

std::optional<double> LinkDemand::forecast_mbps(const std::string& src, const std::string& dst) const {
  const auto p = predictor_.predicted(src, dst);
  if (!p) return std::nullopt;
  return p->mbps;
}

std::string LinkDemand::method(const std::string& src, const std::string& dst) const {
  const auto* f = predictor_.forecaster(src, dst);
  if (f == nullptr) return "";
  const std::string d = f->describe();  // "auto: holt-winters (...); persistence score 1; ..." : the choice only
  const auto p = predictor_.predicted(src, dst);
  return d.substr(0, d.find(';')) + (p && p->rising ? "; rising: local trend" : "");
}

}  // namespace meshgw::common
