// SPDX-License-Identifier: BSD-3-Clause
// A GoogleTest environment that starts the EAL the way every test here may:
// no hugepages, no shared config files and a per-process file prefix (so
// tests run side by side), no PCI.
#pragma once

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace meshgw::dataplane::test {

class EalEnvironment : public ::testing::Environment {
 public:
  explicit EalEnvironment(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {}
  void SetUp() override {
    std::vector<std::string> args = {"test", "--no-huge", "-m", "512", "--no-shconf", "--no-pci",
                                     "--no-telemetry", "--file-prefix", "mgwtest" + std::to_string(getpid()),
                                     "--log-level", "*:error", "-l", "0"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    // The same tests once more on the widest vector paths (meson runs them
    // with MESHGW_TEST_SIMD_BITWIDTH=512 too).
    if (const char* bits = std::getenv("MESHGW_TEST_SIMD_BITWIDTH"))
      args.push_back(std::string("--force-max-simd-bitwidth=") + bits);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0) << "EAL init failed";
  }
  void TearDown() override {
    rte_eal_cleanup();
    std::error_code ec;  // the EAL leaves its runtime directory behind
    std::filesystem::remove_all("/var/run/dpdk/mgwtest" + std::to_string(getpid()), ec);
  }

 private:
  std::vector<std::string> extra_;
};

}  // namespace meshgw::dataplane::test
