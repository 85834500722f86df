// SPDX-License-Identifier: BSD-3-Clause
// Debounced recomputation with min/max backoff (as openr's AsyncDebounce):
// the first event after a run schedules one `min` later; each further event
// while one is pending doubles the wait (from `min`), but never past `max`
// after the first, so a flapping input cannot postpone the work forever.
// Time is passed in (nanoseconds, any monotonic origin). Pure; one thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>

namespace meshgw::agent {

class Debouncer {
 public:
  Debouncer(std::uint64_t min_ns, std::uint64_t max_ns) : min_(min_ns), max_(max_ns) {
    if (min_ns == 0 || max_ns < min_ns) throw std::invalid_argument("debounce: need 0 < min <= max");
  }

  void trigger(std::uint64_t now) noexcept {
    if (!pending_) {
      pending_ = true;
      first_ = now;
      backoff_ = min_;
    } else {
      backoff_ = std::min(max_, backoff_ * 2);
    }
    deadline_ = std::min(first_ + max_, now + backoff_);
  }
  bool due(std::uint64_t now) const noexcept { return pending_ && now >= deadline_; }
  // The work ran: nothing is pending until the next event.
  void ran() noexcept { pending_ = false; }
  std::optional<std::uint64_t> deadline() const noexcept {
    return pending_ ? std::optional<std::uint64_t>(deadline_) : std::nullopt;
  }

 private:
  std::uint64_t min_, max_;
  bool pending_ = false;
  std::uint64_t first_ = 0, backoff_ = 0, deadline_ = 0;
};

}  // namespace meshgw::agent
