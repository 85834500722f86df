// SPDX-License-Identifier: BSD-3-Clause
// Feeds the forecasters into the cost function: one AutoForecaster per link
// over its measured load (Mbit/s, one sample per measurement interval), and
// Link::predicted_utilisation = max(load now, forecast h steps ahead, local
// trend h steps ahead) / capacity, which the queueing term of cost.hpp then
// prices. Taking the max keeps a falling forecast from hiding a link that is
// busy now; the local trend (local_trend.hpp) sees a surge building that a
// forecaster fitted on a flat history cannot.
//
// Links are named by (source id, destination id), so forecasters survive
// topology rebuilds. Threads: the agent's control thread; time is the sample
// index (no clock).
#pragma once

#include <map>
#include <optional>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "routing/predict/forecast_method.hpp"
#include "routing/predict/forecaster.hpp"
#include "routing/predict/local_trend.hpp"
#include "routing/topology.hpp"

namespace meshgw::routing::predict {

class LinkLoadPredictor {
 public:
  // horizon: how many samples ahead the routing should plan for (>= 1).
  LinkLoadPredictor(ForecasterConfig config, int horizon, TrendConfig trend = {});

  // Fits the link's forecaster on its history (oldest first); throws
  // std::invalid_argument on a non-finite value.
  void fit(const std::string& src, const std::string& dst, std::span<const double> load_mbps);
  // The same in two halves, so the fit can run on another thread: fitted()
  // is pure (no state of this object), install() puts its result in place.
  static std::unique_ptr<Forecaster> fitted(const ForecasterConfig& config, std::span<const double> load_mbps);
  void install(const std::string& src, const std::string& dst, std::unique_ptr<Forecaster> forecaster);
  const ForecasterConfig& config() const noexcept { return config_; }
  // One new measurement; creates a persistence-like forecaster on first sight.
  void update(const std::string& src, const std::string& dst, double load_mbps);
  // Writes predicted_utilisation on every link of topology that has a
  // forecaster and a known capacity; returns how many it set.
  std::size_t apply(Topology& topology) const;

  // What apply() prices for a link, h = horizon samples ahead (nullopt: no
  // data), and whether the local trend set it.
  struct Prediction {
    double mbps = 0;
    bool rising = false;  // the local trend's forecast is the larger
  };
  std::optional<Prediction> predicted(const std::string& src, const std::string& dst) const;

  std::size_t series() const noexcept { return forecasters_.size(); }
  const Forecaster* forecaster(const std::string& src, const std::string& dst) const;

 private:
  struct Series {
    std::unique_ptr<Forecaster> model;  // refitted now and then (install)
    LocalTrend trend;                   // every update, never refitted
  };
  ForecasterConfig config_;
  int horizon_;
  Series& series_of(const std::string& src, const std::string& dst);  // created on first sight
  TrendConfig trend_;
  std::map<std::pair<std::string, std::string>, Series> forecasters_;
};

}  // namespace meshgw::routing::predict
