// SPDX-License-Identifier: BSD-3-Clause
// Snapshot compilation and publication at scale: 100,000 routes, 1,000
// tunnels and 10,000 relay entries compiled from nothing, and a path switch
// (one active tunnel changed: only the destination map is rebuilt) compiled
// and published. Counters: snapshot_bytes (what the snapshot holds),
// pieces_rebuilt. The EAL runs without hugepages (rte_fib needs it).
#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <unistd.h>

#include "dataplane/publisher.hpp"
#include "dataplane/snapshot_compiler.hpp"

using namespace meshgw;

namespace {

// prefix + n (not "literal" + std::to_string: GCC 12 warns falsely, -Wrestrict).
std::string numbered(const char* prefix, std::size_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

routing::ForwardingPlan big_plan(std::size_t routes, std::size_t tunnels, std::size_t relays) {
  routing::ForwardingPlan p;
  p.gateway_id = "gw-0";
  for (std::size_t i = 0; i < routes; ++i) {
    routing::IpPrefix pfx;
    pfx.bytes[0] = static_cast<std::uint8_t>(10 + (i >> 16));
    pfx.bytes[1] = static_cast<std::uint8_t>(i >> 8);
    pfx.bytes[2] = static_cast<std::uint8_t>(i);
    pfx.length = 24;
    p.routes.push_back({pfx, numbered("gw-", 1 + i % tunnels), "default"});
  }
  for (std::size_t t = 0; t < tunnels; ++t) {
    routing::PlanTunnel tun;
    tun.id = numbered("t", t);
    tun.egress = numbered("gw-", 1 + t);
    tun.out_spi = static_cast<std::uint32_t>(0x10000 + t);
    tun.in_spi = static_cast<std::uint32_t>(0x20000 + t);
    tun.local = {0xc6120001, 4500};
    tun.next_hop = {static_cast<std::uint32_t>(0xc6130000 + t), 4500};
    tun.remote_sites = {routing::IpPrefix::parse("198.51.100.0/24").value()};
    p.tunnels.push_back(tun);
    // A second tunnel to the first egress, so a path switch has somewhere to go.
    if (t == 0) {
      tun.id = "t0-alt";
      tun.out_spi = 0x30000;
      tun.in_spi = 0x30001;
      p.tunnels.push_back(tun);
    }
  }
  for (std::size_t r = 0; r < relays; ++r)
    p.relays.push_back({static_cast<std::uint32_t>(0x100000 + r), {0xc6140001, 4500}, std::nullopt});
  p.active.push_back({"gw-1", "default", "t0"});
  return p;
}

dataplane::SaStore& store_for(const routing::ForwardingPlan& plan) {
  static dataplane::SaStore store(crypto::Backend::ipsec_mb, 1024);
  crypto::SaKeyMaterial k;
  k.key.fill(7);
  for (const auto& t : plan.tunnels) {
    for (std::uint32_t spi : {t.out_spi, t.in_spi}) {
      if (!store.has_key(spi)) store.add_key(spi, k);
    }
  }
  return store;
}

void BM_CompileFromNothing(benchmark::State& state) {
  const auto plan = big_plan(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)),
                             static_cast<std::size_t>(state.range(2)));
  auto& store = store_for(plan);
  std::size_t bytes = 0;
  for (auto _ : state) {
    dataplane::SnapshotCompiler compiler(store);
    auto result = compiler.compile(plan, nullptr);
    if (!result.snapshot) {
      state.SkipWithError(result.errors.front().c_str());
      return;
    }
    bytes = dataplane::snapshot_bytes(*result.snapshot);
    benchmark::DoNotOptimize(result.snapshot.get());
  }
  state.counters["snapshot_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_CompileFromNothing)
    ->ArgNames({"routes", "tunnels", "relays"})
    ->Args({100000, 1000, 10000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

void BM_PathSwitchPublish(benchmark::State& state) {
  auto plan = big_plan(100000, 1000, 10000);
  auto& store = store_for(plan);
  dataplane::SnapshotCompiler compiler(store);
  dataplane::SnapshotPublisher publisher(1);
  publisher.publish(compiler.compile(plan, nullptr).snapshot);
  bool alt = false;
  std::size_t rebuilt = 0;
  for (auto _ : state) {
    alt = !alt;
    plan.active[0].tunnel = alt ? "t0-alt" : "t0";
    auto result = compiler.compile(plan, nullptr);
    rebuilt = result.rebuilt.routes + result.rebuilt.tunnels + result.rebuilt.active +
              result.rebuilt.relays + result.rebuilt.policies;
    publisher.publish(std::move(result.snapshot));
    publisher.reclaim();  // no reader registered: frees at once
  }
  state.counters["pieces_rebuilt"] = static_cast<double>(rebuilt);
  state.counters["snapshots_alive"] = static_cast<double>(publisher.published() - publisher.freed());
}
BENCHMARK(BM_PathSwitchPublish)->Unit(benchmark::kMicrosecond);

// The same switch through switch_path(): no whole-plan diff.
void BM_SwitchPathPublish(benchmark::State& state) {
  auto plan = big_plan(100000, 1000, 10000);
  auto& store = store_for(plan);
  dataplane::SnapshotCompiler compiler(store);
  dataplane::SnapshotPublisher publisher(1);
  publisher.publish(compiler.compile(plan, nullptr).snapshot);
  bool alt = false;
  for (auto _ : state) {
    alt = !alt;
    auto result = compiler.switch_path("gw-1", "default", alt ? "t0-alt" : "t0");
    if (!result.snapshot) {
      state.SkipWithError(result.errors.front().c_str());
      return;
    }
    publisher.publish(std::move(result.snapshot));
    publisher.reclaim();
  }
  state.counters["snapshots_alive"] = static_cast<double>(publisher.published() - publisher.freed());
}
BENCHMARK(BM_SwitchPathPublish)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  const std::string prefix = numbered("mgwbench", static_cast<std::size_t>(getpid()));
  const char* eal[] = {"snapshot_bench", "--no-huge", "-m", "1024", "--no-shconf", "--no-pci", "--no-telemetry",
                       "-l", "0", "--log-level", "*:error", "--file-prefix", prefix.c_str()};
  if (rte_eal_init(13, const_cast<char**>(eal)) < 0) return 1;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  rte_eal_cleanup();
  return 0;
}
