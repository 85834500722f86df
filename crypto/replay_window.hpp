// SPDX-License-Identifier: BSD-3-Clause
// Anti-replay window for inbound ESP (RFC 4303 3.4.3), bitmap as in RFC 6479:
// a ring of 64-bit blocks with one spare block, so advancing the window clears
// whole blocks and every operation is O(1) (at most kBlocks words touched).
// With extended sequence numbers the high 32 bits, which are not on the wire,
// are inferred as in RFC 4303 appendix A2.2.
//
// Use: seq = infer(low32) -> check(seq) before decrypting -> accept(seq) only
// after the ICV verified. Threads: one worker owns an inbound SA's window.
#pragma once

#include <cstdint>

#include "esp_status.hpp"

namespace meshgw::crypto {

class ReplayWindow {
 public:
  static constexpr std::uint32_t kBlocks = 32;  // power of two
  static constexpr std::uint32_t kMaxSize = (kBlocks - 1) * 64;  // 1984 packets
  static constexpr std::uint32_t kDefaultSize = 1024;

  // size: packets the window covers, 64..kMaxSize (clamped). esn: whether the
  // SA uses 64-bit extended sequence numbers.
  explicit ReplayWindow(std::uint32_t size = kDefaultSize, bool esn = true) noexcept;

  // The full sequence number a packet carrying low 32 bits seq_low most
  // likely has (RFC 4303 A2.2); without ESN, seq_low itself.
  std::uint64_t infer(std::uint32_t seq_low) const noexcept;

  // ok, replayed or too_old. Does not change the window.
  EspStatus check(std::uint64_t seq) const noexcept;

  // Records seq as received; call only after check() == ok and the ICV verified.
  void accept(std::uint64_t seq) noexcept;

  std::uint64_t top() const noexcept { return top_; }
  std::uint32_t size() const noexcept { return size_; }
  bool esn() const noexcept { return esn_; }

 private:
  std::uint64_t top_ = 0;  // highest sequence number accepted; 0 = none yet
  std::uint32_t size_;
  bool esn_;
  std::uint64_t bitmap_[kBlocks] = {};
};

}  // namespace meshgw::crypto
