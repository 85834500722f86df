// SPDX-License-Identifier: BSD-3-Clause
// One direction of an emulated WAN link, as a model with no I/O: each frame
// that arrives is dropped (link cut, random loss, queue full) or given the
// time it leaves the far end: it waits behind the frames before it at the
// link's rate (a bounded FIFO, its limit in milliseconds of queueing), then
// takes the propagation delay plus jitter, and never overtakes an earlier
// frame (jitter without reordering, as on a real link).
// Network control (IPv4 DSCP CS6 or CS7: the gateways' TWAMP probes) has a
// strict-priority queue of its own, as WAN carriers give it: such a frame
// waits only behind other network-control frames and its serialisation
// time is taken from the data behind it, so a link congested by data still
// carries its probes (loss and cuts hit them like any frame). Without it a
// full queue drops the probes too and the gateways see the link go down.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace meshgw::lab {

struct LinkParams {
  double delay_ms = 0;    // one-way propagation delay
  double jitter_ms = 0;   // standard deviation of a normal variation of the delay
  double loss = 0;        // probability that a frame is lost, 0..1
  double rate_mbit = 0;   // line rate in Mbit/s; 0: unlimited
  double queue_ms = 50;   // longest wait behind the rate limiter before frames are dropped
  bool up = true;         // false: cut, every frame dropped
};

// Checks params; returns an empty string or the first rule broken ("loss = 1.5: must be in 0..1").
std::string check_link_params(const LinkParams& p);

enum class LinkDrop : std::uint8_t { none, cut, loss, queue_full };
inline constexpr std::size_t kLinkDropKinds = 4;
const char* link_drop_name(LinkDrop d) noexcept;

class LinkShaper {
 public:
  LinkShaper(const LinkParams& params, std::uint64_t seed) : params_(params), rng_(seed) {}

  struct Verdict {
    LinkDrop drop = LinkDrop::none;
    std::uint64_t release_ns = 0;  // when the frame leaves the link (drop == none)
    std::uint64_t queued_ns = 0;   // how long it waits behind the rate limiter
  };
  // A frame of `bytes` (Ethernet, without FCS) arriving at now_ns;
  // network_control: in the priority queue.
  Verdict admit(std::uint64_t now_ns, std::uint32_t bytes, bool network_control = false) noexcept;

  // New parameters apply to frames arriving from now on; the queue already
  // formed drains at the old rate.
  void set(const LinkParams& params) noexcept { params_ = params; }
  const LinkParams& params() const noexcept { return params_; }
  // Bytes waiting behind the rate limiter at now_ns.
  std::uint64_t queued_bytes(std::uint64_t now_ns) const noexcept;

 private:
  LinkParams params_;
  std::mt19937_64 rng_;
  std::uint64_t busy_until_ns_ = 0;    // when the last admitted frame has been serialised
  std::uint64_t last_release_ns_ = 0;  // FIFO order
  std::uint64_t priority_busy_until_ns_ = 0, priority_last_release_ns_ = 0;  // the same, network control
};

// Whether an Ethernet frame is IPv4 network control (DSCP CS6 or CS7).
bool is_network_control(const std::uint8_t* frame, std::uint32_t len) noexcept;

// Queueing delays of one link direction in 0.1 ms bins up to 2 s (the last
// bin holds everything longer): percentiles and the maximum since reset.
class DelayHistogram {
 public:
  DelayHistogram() : bins_(kBins, 0) {}
  void record(std::uint64_t ns) noexcept;
  std::uint64_t count() const noexcept { return count_; }
  // The q-quantile (0..1) in milliseconds, at bin resolution; 0 when empty.
  double quantile_ms(double q) const noexcept;
  double max_ms() const noexcept { return static_cast<double>(max_ns_) / 1e6; }
  void reset() noexcept;

 private:
  static constexpr std::size_t kBins = 20000;
  std::vector<std::uint32_t> bins_;
  std::uint64_t count_ = 0, max_ns_ = 0;
};

}  // namespace meshgw::lab
