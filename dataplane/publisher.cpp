// SPDX-License-Identifier: BSD-3-Clause
#include "publisher.hpp"

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <chrono>
#include <stdexcept>

namespace meshgw::dataplane {

namespace {
std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}
}  // namespace

SnapshotPublisher::SnapshotPublisher(unsigned workers) {
  const unsigned threads = workers == 0 ? 1 : workers;
  const std::size_t size = rte_rcu_qsbr_get_memsize(threads);
  source_.qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("meshgw_qsbr", size, RTE_CACHE_LINE_SIZE));
  if (source_.qsbr == nullptr || rte_rcu_qsbr_init(source_.qsbr, threads) != 0)
    throw std::runtime_error("cannot allocate the RCU state for " + std::to_string(threads) + " workers");
}

SnapshotPublisher::~SnapshotPublisher() {
  source_.current.store(nullptr, std::memory_order_release);
  retired_.clear();
  rte_free(source_.qsbr);
}

void SnapshotPublisher::publish(std::unique_ptr<Snapshot> next) {
  // Release: every write that built *next happens-before a worker's acquire
  // load that sees the pointer.
  source_.current.store(next.get(), std::memory_order_release);
  if (current_) {
    // The token orders after the store above (rte_rcu_qsbr_start is a
    // release on the token counter): a worker that reports quiescence with
    // it has finished every poll that could have loaded the old pointer.
    const std::uint64_t token = rte_rcu_qsbr_start(source_.qsbr);
    retired_.push_back({std::move(current_), token, now_ns()});
  }
  current_ = std::move(next);
  ++published_;
}

SnapshotPublisher::ReclaimStatus SnapshotPublisher::reclaim() {
  while (!retired_.empty() && rte_rcu_qsbr_check(source_.qsbr, retired_.front().token, false) == 1) {
    retired_.pop_front();  // frees the snapshot, and every piece no longer shared
    ++freed_;
  }
  ReclaimStatus st;
  st.waiting = retired_.size();
  if (!retired_.empty()) st.oldest_wait_ns = now_ns() - retired_.front().retired_ns;
  return st;
}

}  // namespace meshgw::dataplane
