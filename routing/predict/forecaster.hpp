// SPDX-License-Identifier: BSD-3-Clause
// Forecaster: the interface every per-series demand forecaster implements
// (persistence, seasonal naive, Holt-Winters, ARIMA, and the AutoForecaster
// that picks one of them). Fit once on a batch of history, then feed one
// sample per interval with update() -- O(1), no refit -- and ask forecast(h).
//
// The base class owns what every method shares, so no method repeats it:
//  * input checks: fit() rejects non-finite history with std::invalid_argument
//    naming the index; update() ignores non-finite samples and counts them;
//  * scaling: the series is divided by a power of two near its largest
//    magnitude before the method sees it (exact in binary floating point, so
//    no rounding is added), which keeps squares and sums far from overflow for
//    huge values and keeps float seasonal states precise;
//  * the last finite sample, the fallback whenever a method's forecast is not
//    finite or it has too little history (persistence).
//
// Threads: a Forecaster is a plain value owned by one thread (the agent's
// telemetry/prediction thread); it takes no locks and reads no clock -- one
// update() per measurement interval, time is the sample index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace meshgw::routing::predict {

class Forecaster {
 public:
  Forecaster() = default;
  Forecaster(const Forecaster&) = default;
  Forecaster& operator=(const Forecaster&) = default;
  virtual ~Forecaster() = default;

  // Fits the method on history (oldest first) and replaces all state; the
  // next update() is the sample after history.back(). An empty or very short
  // history is allowed: the method then behaves as persistence until it has
  // seen enough samples to be refitted. Throws std::invalid_argument if a
  // value is NaN or infinite (the message names its index).
  void fit(std::span<const double> history);

  // Feeds the next sample. O(1) in the length of the history. A non-finite y
  // is ignored and counted in rejected_samples(); it never throws.
  void update(double y) noexcept;

  // Tells the forecaster that `missing` samples were never measured before
  // the next update() (a hole in the telemetry, a jump in the CSV's t).
  // Seasonal methods advance their phase by `missing`; level-tracking methods
  // restart their level at the next sample instead of treating the jump as
  // a forecast error to be absorbed slowly. O(1); missing == 0 does nothing.
  void skip(std::uint64_t missing) noexcept;

  // Forecast of the value h >= 1 samples after the last one seen. Always
  // finite. Throws std::invalid_argument if h < 1 and std::logic_error if no
  // sample has been seen yet (neither in fit() nor in update()).
  double forecast(int h) const;
  // forecast(1) .. forecast(out.size()) in one pass: O(out.size()) for every
  // method (calling forecast(h) for each h is O(H^2) for ARIMA). Same
  // preconditions and guarantees as forecast().
  void forecast_path(std::span<double> out) const;

  // Short method name as used on the command line ("holt-winters").
  virtual std::string_view name() const = 0;
  // Human-readable fitted model, e.g. "ARIMA(2,1,1) phi=[0.41,-0.12] ...".
  virtual std::string describe() const = 0;
  // Bytes this object owns (itself plus heap), for the per-series budget.
  virtual std::size_t memory_bytes() const = 0;
  // An independent copy of the whole state (fitted parameters included).
  virtual std::unique_ptr<Forecaster> clone() const = 0;

  std::uint64_t samples_seen() const noexcept { return samples_seen_; }
  std::uint64_t rejected_samples() const noexcept { return rejected_samples_; }
  bool has_data() const noexcept { return samples_seen_ != 0; }

 protected:
  // The hooks see the series already divided by scale(). fit_scaled() gets a
  // finite history (possibly empty); update_scaled() a finite sample.
  virtual void fit_scaled(std::span<const double> history) = 0;
  virtual void update_scaled(double y) noexcept = 0;
  // May return a non-finite value; the caller then falls back to the last sample.
  virtual double forecast_scaled(int h) const = 0;
  // out[k] = forecast_scaled(k + 1). The default calls forecast_scaled per
  // step; methods whose forecast(h) costs O(h) override it.
  virtual void forecast_path_scaled(std::span<double> out) const {
    for (std::size_t k = 0; k < out.size(); ++k) out[k] = forecast_scaled(static_cast<int>(k + 1));
  }
  // See skip(); missing >= 1. The default (persistence) has nothing to do.
  virtual void skip_scaled(std::uint64_t /*missing*/) noexcept {}

  double scale() const noexcept { return scale_; }
  double last_scaled() const noexcept { return last_scaled_; }

 private:
  double scale_ = 1.0;
  double inverse_scale_ = 1.0;
  double last_scaled_ = 0.0;
  std::uint64_t samples_seen_ = 0;
  std::uint64_t rejected_samples_ = 0;
};

// The usual clone() of a copyable forecaster: Derived copies itself.
template <typename Derived>
class CopyableForecaster : public Forecaster {
 public:
  std::unique_ptr<Forecaster> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
};

// Throws std::invalid_argument naming the first non-finite value of series
// ("history[12] is nan"). what: the name used in the message.
void require_finite(std::span<const double> series, std::string_view what = "history");

// A power of two close to the largest |value| (1 for an all-zero series), so
// that dividing by it is exact and leaves the values in [0.5, 1) or below.
double power_of_two_scale(std::span<const double> series) noexcept;

}  // namespace meshgw::routing::predict
