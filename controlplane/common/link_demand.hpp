// SPDX-License-Identifier: BSD-3-Clause
// Passive telemetry turned into predicted link utilisation for the cost
// function. Every sample interval the caller (the agent; meshctld for
// what-if queries) hands in the mesh state's links (whose load the
// controller adds up from every gateway's reported tunnel rates); each link keeps a bounded history of its load and a forecaster
// (routing/predict's LinkLoadPredictor: AutoForecaster per series, chosen by
// backtest, as `meshctl forecast` does), refitted on its history every
// refit_every samples, one link at a time, on a thread of its own (a refit
// over a long history runs the backtests of every method and takes tens of
// milliseconds, which the control loop cannot spare: its probes and
// failover wait meanwhile); the fitted forecaster is installed at a later
// sample and catches up on the samples that came during the fit. It is
// updated with each sample in between. apply() writes
// predicted_utilisation h samples ahead on the topology before the paths
// are computed.
// Pure (time is the caller's); one thread (the agent's control thread, meshctld's tick).
#pragma once

#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "routing/predict/link_load_predictor.hpp"
#include "routing/topology.hpp"

namespace meshgw::common {

struct LinkDemandConfig {
  std::uint64_t sample_interval_ns = 1'000'000'000;
  int horizon = 5;               // samples ahead the paths plan for
  std::size_t season = 0;        // samples per season (0: none)
  std::size_t history = 2048;    // samples kept per link
  std::size_t refit_every = 64;  // samples between refits of a link
  bool background_refits = true;  // false: refits run inside sample() (tests, benchmarks)
  routing::predict::TrendConfig trend;  // a surge the fitted forecaster has not learnt
  // How far ahead the forecast looks, in seconds.
  double horizon_seconds() const noexcept {
    return static_cast<double>(horizon) * static_cast<double>(sample_interval_ns) / 1e9;
  }
};

class LinkDemand {
 public:
  explicit LinkDemand(LinkDemandConfig config);

  // links: the view's [{"from", "to", "capacity_bps", "utilisation", ...}].
  // Takes a sample when one is due at now_ns; returns whether it did.
  bool sample(const nlohmann::json& links, std::uint64_t now_ns);
  // predicted_utilisation on every link with a forecaster and a capacity.
  std::size_t apply(routing::Topology& topology) const { return predictor_.apply(topology); }
  // The forecast for a link h samples ahead in Mbit/s (nullopt: no data), and
  // the method its forecaster runs (for explain).
  std::optional<double> forecast_mbps(const std::string& src, const std::string& dst) const;
  std::string method(const std::string& src, const std::string& dst) const;
  std::size_t series() const noexcept { return predictor_.series(); }
  std::uint64_t refits() const noexcept { return refits_; }
  // Waits for a refit running in the background and installs it.
  void finish_refit() { collect_refit(true); }
  const LinkDemandConfig& config() const noexcept { return config_; }

 private:
  struct Series {
    std::deque<double> load_mbps;
    std::size_t since_fit = 0;
    std::uint64_t samples = 0;  // ever taken
  };
  struct Refit {
    std::pair<std::string, std::string> link;
    std::uint64_t samples_at_start = 0;
    std::future<std::unique_ptr<routing::predict::Forecaster>> result;
  };
  void collect_refit(bool wait);
  LinkDemandConfig config_;
  routing::predict::LinkLoadPredictor predictor_;
  std::map<std::pair<std::string, std::string>, Series> series_;
  std::uint64_t next_sample_ns_ = 0;
  std::uint64_t refits_ = 0;
  std::optional<Refit> refit_;  // the one in the background; declared last: joined first
};

}  // namespace meshgw::common
