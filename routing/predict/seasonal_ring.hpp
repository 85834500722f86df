// SPDX-License-Identifier: BSD-3-Clause
// SeasonalRing: one value per position in the season (m samples), oldest
// first. Seasonal naive keeps the last m samples in it, Holt-Winters its m
// seasonal states; both read the oldest entry as "the same time one season
// ago" and overwrite it with the newest. Floats, because 100,000 series with
// a daily season of 288 five-minute samples must fit in well under 1 GiB and
// the series are scaled to about 1 first (see Forecaster), so float keeps 7
// significant digits of a value that is measured to far fewer.
// Threads: owned by one forecaster.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace meshgw::routing::predict {

class SeasonalRing {
 public:
  // Resets to m zeros (m == 0: an empty ring that reports size() == 0).
  void assign(std::size_t m) {
    values_.assign(m, 0.0F);
    values_.shrink_to_fit();
    oldest_ = 0;
  }
  std::size_t size() const noexcept { return values_.size(); }
  bool empty() const noexcept { return values_.empty(); }

  // i = 0 is the oldest entry; i is taken modulo size() (size() > 0).
  double from_oldest(std::size_t i) const noexcept {
    return static_cast<double>(values_[(oldest_ + i) % values_.size()]);
  }
  // Overwrites the oldest entry, which then becomes the newest (size() > 0).
  void replace_oldest(double v) noexcept {
    // Clamped: a double beyond the float range has no defined conversion.
    constexpr double kFloatMax = static_cast<double>(std::numeric_limits<float>::max());
    values_[oldest_] = static_cast<float>(std::clamp(v, -kFloatMax, kFloatMax));
    oldest_ = oldest_ + 1 == values_.size() ? 0 : oldest_ + 1;
  }
  // Moves the phase on by k positions without writing (samples that were
  // never measured keep the value of their position one season earlier).
  void advance(std::uint64_t k) noexcept {
    if (!values_.empty()) oldest_ = static_cast<std::uint32_t>((oldest_ + k % values_.size()) % values_.size());
  }
  std::size_t heap_bytes() const noexcept { return values_.capacity() * sizeof(float); }

 private:
  std::vector<float> values_;
  std::uint32_t oldest_ = 0;
};

}  // namespace meshgw::routing::predict
