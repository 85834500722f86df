// SPDX-License-Identifier: BSD-3-Clause
#include "replay_window.hpp"

#include <algorithm>

namespace meshgw::crypto {

namespace {
constexpr std::uint64_t kBlockMask = ReplayWindow::kBlocks - 1;
}

ReplayWindow::ReplayWindow(std::uint32_t size, bool esn) noexcept
    : size_(std::clamp<std::uint32_t>(size, 64, kMaxSize)), esn_(esn) {}

std::uint64_t ReplayWindow::infer(std::uint32_t seq_low) const noexcept {
  if (!esn_) return seq_low;
  const auto top_low = static_cast<std::uint32_t>(top_);
  const auto top_high = static_cast<std::uint32_t>(top_ >> 32);
  const std::uint32_t bottom_low = top_low - size_ + 1;  // wraps on purpose
  std::uint32_t high;
  if (top_low >= size_ - 1) {
    // Case A: the window lies within one 2^32 subspace.
    high = seq_low >= bottom_low ? top_high : top_high + 1;
  } else {
    // Case B: the window spans two subspaces; its bottom is in the previous one.
    high = seq_low >= bottom_low ? top_high - 1 : top_high;
    if (seq_low >= bottom_low && top_high == 0) return seq_low;  // nothing below 0
  }
  return (std::uint64_t{high} << 32) | seq_low;
}

EspStatus ReplayWindow::check(std::uint64_t seq) const noexcept {
  if (seq == 0) return EspStatus::too_old;  // sequence numbers start at 1
  if (seq > top_) return EspStatus::ok;
  if (seq + size_ <= top_) return EspStatus::too_old;
  const std::uint64_t block = (seq >> 6) & kBlockMask;
  const std::uint64_t bit = std::uint64_t{1} << (seq & 63);
  return (bitmap_[block] & bit) != 0 ? EspStatus::replayed : EspStatus::ok;
}

void ReplayWindow::accept(std::uint64_t seq) noexcept {
  if (seq > top_) {
    const std::uint64_t old_block = top_ >> 6;
    const std::uint64_t new_block = seq >> 6;
    // Clear the blocks the window slides over; at most every block once.
    const std::uint64_t to_clear = std::min<std::uint64_t>(new_block - old_block, kBlocks);
    for (std::uint64_t i = 1; i <= to_clear; ++i) bitmap_[(old_block + i) & kBlockMask] = 0;
    top_ = seq;
  }
  bitmap_[(seq >> 6) & kBlockMask] |= std::uint64_t{1} << (seq & 63);
}

}  // namespace meshgw::crypto
