// SPDX-License-Identifier: BSD-3-Clause
#include "link_shaper.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace meshgw::lab {

std::string check_link_params(const LinkParams& p) {
  auto bad = [](const char* key, double v, const char* rule) {
    std::ostringstream s;
    s << key << " = " << v << ": " << rule;
    return s.str();
  };
  if (!(p.delay_ms >= 0 && p.delay_ms <= 10000)) return bad("delay_ms", p.delay_ms, "must be in 0..10000");
  if (!(p.jitter_ms >= 0 && p.jitter_ms <= 1000)) return bad("jitter_ms", p.jitter_ms, "must be in 0..1000");
  if (!(p.loss >= 0 && p.loss <= 1)) return bad("loss", p.loss, "must be in 0..1 (a probability)");
  if (!(p.rate_mbit >= 0 && p.rate_mbit <= 100000))
    return bad("rate_mbit", p.rate_mbit, "must be in 0..100000 (0: unlimited)");
  if (!(p.queue_ms >= 0 && p.queue_ms <= 10000)) return bad("queue_ms", p.queue_ms, "must be in 0..10000");
  return {};
}

const char* link_drop_name(LinkDrop d) noexcept {
  switch (d) {
    case LinkDrop::none: return "none";
    case LinkDrop::cut: return "cut";
    case LinkDrop::loss: return "loss";
    case LinkDrop::queue_full: return "queue_full";
  }
  return "?";
}

bool is_network_control(const std::uint8_t* frame, std::uint32_t len) noexcept {
  return len >= 14 + 20 && frame[12] == 0x08 && frame[13] == 0x00 && (frame[14 + 1] >> 2) >= 48;
}

LinkShaper::Verdict LinkShaper::admit(std::uint64_t now_ns, std::uint32_t bytes, bool network_control) noexcept {
  Verdict v;
  if (!params_.up) {
    v.drop = LinkDrop::cut;
    return v;
  }
  if (params_.loss > 0 && std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < params_.loss) {
    v.drop = LinkDrop::loss;
    return v;
  }
  std::uint64_t departure = now_ns;
  std::uint64_t& last_release = network_control ? priority_last_release_ns_ : last_release_ns_;
  if (params_.rate_mbit > 0) {
    std::uint64_t& busy_until = network_control ? priority_busy_until_ns_ : busy_until_ns_;
    const std::uint64_t start = std::max(now_ns, busy_until);
    v.queued_ns = start - now_ns;
    if (static_cast<double>(v.queued_ns) > params_.queue_ms * 1e6) {
      v.drop = LinkDrop::queue_full;
      return v;
    }
    // bits / (Mbit/s) = microseconds; * 1000 for nanoseconds.
    const auto serialise = static_cast<std::uint64_t>(std::llround(bytes * 8.0 * 1000.0 / params_.rate_mbit));
    busy_until = start + serialise;
    departure = busy_until;
    // The line time it took is the data's loss: what waits behind starts later.
    if (network_control) busy_until_ns_ = std::max(busy_until_ns_, now_ns) + serialise;
  }
  double delay_ns = params_.delay_ms * 1e6;
  if (params_.jitter_ms > 0) {
    const double j = std::normal_distribution<double>(0.0, params_.jitter_ms * 1e6)(rng_);
    delay_ns = std::max(0.0, delay_ns + std::clamp(j, -3 * params_.jitter_ms * 1e6, 3 * params_.jitter_ms * 1e6));
  }
  v.release_ns = std::max(last_release, departure + static_cast<std::uint64_t>(delay_ns));
  last_release = v.release_ns;
  return v;
}

std::uint64_t LinkShaper::queued_bytes(std::uint64_t now_ns) const noexcept {
  if (params_.rate_mbit <= 0 || busy_until_ns_ <= now_ns) return 0;
  return static_cast<std::uint64_t>(static_cast<double>(busy_until_ns_ - now_ns) * params_.rate_mbit / 8000.0);
}

void DelayHistogram::record(std::uint64_t ns) noexcept {
  const std::size_t bin = std::min<std::uint64_t>(ns / 100000, kBins - 1);
  ++bins_[bin];
  ++count_;
  max_ns_ = std::max(max_ns_, ns);
}

double DelayHistogram::quantile_ms(double q) const noexcept {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBins; ++i) {
    seen += bins_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return static_cast<double>(i) * 0.1;
  }
  return static_cast<double>(kBins - 1) * 0.1;
}

void DelayHistogram::reset() noexcept {
  std::fill(bins_.begin(), bins_.end(), 0);
  count_ = 0;
  max_ns_ = 0;
}

}  // namespace meshgw::lab
