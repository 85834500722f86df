// SPDX-License-Identifier: BSD-3-Clause
// The snapshot publisher: a retired snapshot is freed only after every
// registered worker has passed a quiescent state, a worker that never does
// is reported (the wait grows) without blocking the control thread, and an
// offline (sleeping) worker never holds a grace period up.
#include "dataplane/publisher.hpp"

#include <gtest/gtest.h>
#include <rte_rcu_qsbr.h>

#include <chrono>
#include <thread>

#include "eal_env.hpp"

namespace meshgw::dataplane {
namespace {

std::unique_ptr<Snapshot> snapshot(std::uint64_t version) {
  auto s = std::make_unique<Snapshot>();
  s->version = version;
  return s;
}

TEST(SnapshotPublisher, FreesAfterTheGracePeriodAndReportsAStuckWorker) {
  SnapshotPublisher pub(2);
  rte_rcu_qsbr* qs = pub.source().qsbr;
  ASSERT_EQ(rte_rcu_qsbr_thread_register(qs, 0), 0);
  ASSERT_EQ(rte_rcu_qsbr_thread_register(qs, 1), 0);
  rte_rcu_qsbr_thread_online(qs, 0);
  rte_rcu_qsbr_thread_online(qs, 1);
  pub.publish(snapshot(1));
  EXPECT_EQ(pub.source().current.load(std::memory_order_acquire)->version, 1u);
  pub.publish(snapshot(2));  // 1 is retired; neither worker has moved on
  auto st = pub.reclaim();
  EXPECT_EQ(st.waiting, 1u);
  rte_rcu_qsbr_quiescent(qs, 0);
  EXPECT_EQ(pub.reclaim().waiting, 1u) << "worker 1 may still read snapshot 1";
  // Worker 1 is stuck: reclaim never blocks, and the wait it reports grows.
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  st = pub.reclaim();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(200));
  EXPECT_EQ(st.waiting, 1u);
  EXPECT_GE(st.oldest_wait_ns, 20'000'000u);
  rte_rcu_qsbr_quiescent(qs, 1);
  EXPECT_EQ(pub.reclaim().waiting, 0u);
  EXPECT_EQ(pub.freed(), 1u);
  // A worker gone offline (idle sleep) holds nothing up.
  rte_rcu_qsbr_thread_offline(qs, 1);
  pub.publish(snapshot(3));
  rte_rcu_qsbr_quiescent(qs, 0);
  EXPECT_EQ(pub.reclaim().waiting, 0u);
  EXPECT_EQ(pub.source().current.load(std::memory_order_acquire)->version, 3u);
  rte_rcu_qsbr_thread_offline(qs, 0);
}

}  // namespace
}  // namespace meshgw::dataplane

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new meshgw::dataplane::test::EalEnvironment());
  return RUN_ALL_TESTS();
}
