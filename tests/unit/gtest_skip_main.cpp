// SPDX-License-Identifier: BSD-3-Clause
// gtest main for tests that depend on data outside the repository: exits 77
// (meson's "skipped") when every test skipped, so the suite summary counts
// them as skipped rather than passed.
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  const auto* unit = ::testing::UnitTest::GetInstance();
  if (rc == 0 && unit->test_to_run_count() > 0 && unit->skipped_test_count() == unit->test_to_run_count())
    return 77;
  return rc;
}
