// SPDX-License-Identifier: BSD-3-Clause
// A rise the fitted forecaster has not learnt yet. The methods of this
// folder are fitted on a link's history and then only updated, so on a link
// whose history is flat they forecast its mean (ARIMA(0,0,0)) or its level
// (Holt-Winters without trend) while a surge builds: no lead at all, which
// is what proactive rerouting needs most. LocalTrend is Holt's linear trend
// in its least-squares form: the line through the last `window` samples,
// trusted only when its slope is positive and significant (t statistic of
// the slope >= min_t) and the line fitting the window better than any single
// level shift (a step, such as flows moved onto the link at once or traffic
// starting, is no trend), extrapolated at most
// `window` samples ahead (no further than the evidence). LinkLoadPredictor prices the larger of the
// two forecasts. O(window) per forecast, no allocation after construction;
// one thread; time is the sample index.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace meshgw::routing::predict {

struct TrendConfig {
  std::size_t window = 20;  // samples in the fit (>= 3; 0 turns the trend off)
  double min_t = 4.0;       // slope / its standard error at least this
};

class LocalTrend {
 public:
  // Throws std::invalid_argument for window 1 or 2, or min_t not finite or < 0.
  explicit LocalTrend(TrendConfig config = {});

  // Non-finite samples are ignored (as Forecaster::update does).
  void update(double y) noexcept;
  // The line's value h samples after the last one (h capped at window), or
  // nullopt while the window is not full or the slope is not a significant rise.
  std::optional<double> forecast(int h) const noexcept;
  // Slope per sample of the last full window (0 while not full).
  double slope() const noexcept;
  const TrendConfig& config() const noexcept { return config_; }

 private:
  struct Fit {
    double slope = 0, last = 0, t = 0, sse = 0;
  };
  std::optional<Fit> fit() const noexcept;
  double step_sse() const noexcept;
  TrendConfig config_;
  std::vector<double> ring_;
  std::size_t next_ = 0;
  std::size_t count_ = 0;
};

}  // namespace meshgw::routing::predict
