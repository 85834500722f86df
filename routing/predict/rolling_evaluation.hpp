// SPDX-License-Identifier: BSD-3-Clause
// Rolling-origin evaluation: a forecaster fitted on series[0, start) is run
// online over the rest; at every origin o >= start it forecasts 1..H steps
// ahead from what it has seen (series[0, o)), and only then sees series[o].
// Each forecast is scored against the value it predicts when that value
// exists. Used by AutoForecaster (on its fitting history), meshctl forecast
// and the backtests, so all of them measure the same thing.
//   MAE   = mean |F - A|
//   sMAPE = mean 200 |F - A| / (|F| + |A|)  (0 when both are 0), in percent
// Threads: pure function of its arguments (it advances the forecaster).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "forecaster.hpp"

namespace meshgw::routing::predict {

struct HorizonErrors {
  int horizon = 0;             // steps ahead
  std::size_t forecasts = 0;   // scored forecasts
  double mae = 0.0;
  double smape_pct = 0.0;
};

// Accumulates absolute and symmetric percentage errors per horizon 1..H.
class ErrorAccumulator {
 public:
  explicit ErrorAccumulator(int max_horizon);
  void add(int horizon, double forecast, double actual) noexcept;
  std::vector<HorizonErrors> result() const;

 private:
  struct Sums {  // running means, not sums, so huge values cannot overflow
    double absolute = 0.0;
    double symmetric_pct = 0.0;
    std::size_t count = 0;
  };
  std::vector<Sums> sums_;
};

// Runs forecaster (already fitted on series[0, start)) over series[start, n)
// as described above and returns errors per horizon 1..max_horizon. The
// forecaster ends having seen the whole series. time_index, if not empty,
// holds each sample's interval index (the CSV's t, increasing): where it
// jumps by k > 1, forecaster.skip(k - 1) is called before the sample (the
// rows are still scored in order: a forecast across a hole is scored
// against the row h - 1 rows on). Throws std::invalid_argument if
// max_horizon < 1, start > series.size() or time_index has another size.
std::vector<HorizonErrors> evaluate_rolling(Forecaster& forecaster, std::span<const double> series,
                                            std::size_t start, int max_horizon,
                                            std::span<const std::int64_t> time_index = {});

// Errors (forecast - actual) per origin at h = 1 and h = horizon, for paired
// comparisons of two methods: entry i belongs to origin start + i, NaN where
// that forecast could not be scored (target beyond the series or not finite).
struct PairedErrors {
  std::vector<double> one_step;
  std::vector<double> multi_step;
};
PairedErrors rolling_errors(Forecaster& forecaster, std::span<const double> series, std::size_t start,
                                     int horizon, std::span<const std::int64_t> time_index = {});

}  // namespace meshgw::routing::predict
