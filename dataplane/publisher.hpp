// SPDX-License-Identifier: BSD-3-Clause
// Lock-free snapshot publication (DESIGN.md "Threads and the lock-free table
// swap"): the control thread stores the new snapshot's pointer with release;
// each worker loads it with acquire once per poll and reports quiescence to
// rte_rcu_qsbr after it; a retired snapshot is freed once every worker has
// passed a quiescent state since it was retired. The control thread never
// blocks on a worker: reclaim() frees what it can and reports how long the
// oldest retired snapshot has waited, so a stuck worker is reported, not
// waited on forever. Threads: everything here runs on the control thread,
// except what workers read through source().
#pragma once

#include <cstdint>
#include <deque>
#include <memory>

#include "snapshot.hpp"
#include "worker.hpp"

namespace meshgw::dataplane {

class SnapshotPublisher {
 public:
  explicit SnapshotPublisher(unsigned workers);  // throws std::runtime_error
  ~SnapshotPublisher();
  SnapshotPublisher(const SnapshotPublisher&) = delete;
  SnapshotPublisher& operator=(const SnapshotPublisher&) = delete;

  SnapshotSource& source() noexcept { return source_; }
  const Snapshot* current() const noexcept { return current_.get(); }

  // Makes next the snapshot workers read from their next poll on.
  void publish(std::unique_ptr<Snapshot> next);

  struct ReclaimStatus {
    std::size_t waiting = 0;           // retired snapshots not yet freed
    std::uint64_t oldest_wait_ns = 0;  // how long the oldest has waited
  };
  // Frees every retired snapshot whose grace period is over. Never blocks.
  ReclaimStatus reclaim();

  std::uint64_t published() const noexcept { return published_; }
  std::uint64_t freed() const noexcept { return freed_; }

 private:
  struct Retired {
    std::unique_ptr<Snapshot> snapshot;
    std::uint64_t token;
    std::uint64_t retired_ns;
  };
  SnapshotSource source_;
  std::unique_ptr<Snapshot> current_;
  std::deque<Retired> retired_;
  std::uint64_t published_ = 0, freed_ = 0;
};

}  // namespace meshgw::dataplane
