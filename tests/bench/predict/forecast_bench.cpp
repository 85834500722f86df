// SPDX-License-Identifier: BSD-3-Clause
// Demand forecasters (routing/predict): cost of one update() per method after
// fitting on 1 day and on 12 days of 5-minute samples (it must not depend on
// the history: O(1)), cost of forecast(4) and of a fit, and the memory of
// 100,000 fitted AutoForecaster series against the 1 GiB budget.
//
// Data: the real Abilene top-10 series of ../shared/data when present
// (MESHGW_SHARED_DATA, default set by meson), else synthetic 5-minute traffic
// (daily cycle, AR(1) noise, bursts) -- the "data" counter says which.
// The 100,000 series are copies (clone()) of a pool of distinct fits --
// 4-day windows of every series at 12-hour offsets -- so that the benchmark
// takes seconds, not the hour 100,000 fits would; a copy owns exactly the
// memory of its original.
//
// Run: build/tests/bench/predict/forecast_bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numbers>
#include <random>
#include <vector>

#include "routing/predict/auto_forecaster.hpp"
#include "routing/predict/forecast_method.hpp"
#include "routing/predict/traffic_csv.hpp"

namespace predict = meshgw::routing::predict;

namespace {

constexpr std::size_t kDay = 288;  // 5-minute samples
constexpr std::size_t kSyntheticSamples = 17 * kDay;
constexpr std::array<predict::Method, 6> kMethods = {predict::Method::persistence, predict::Method::seasonal_naive,
                                                     predict::Method::holt_winters, predict::Method::arima,
                                                     predict::Method::ensemble,     predict::Method::automatic};

std::vector<double> synthetic_traffic(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::normal_distribution<double> gauss(0.0, 1.0);
  const double level = 20.0 + 200.0 * uniform(rng), swing = 0.2 + 0.5 * uniform(rng);
  const double phase = 2.0 * std::numbers::pi * uniform(rng);
  std::vector<double> y(kSyntheticSamples);
  double noise = 0.0;
  for (std::size_t t = 0; t < y.size(); ++t) {
    noise = 0.7 * noise + 0.08 * gauss(rng);
    const double daily = 1.0 + swing * std::sin(2.0 * std::numbers::pi * static_cast<double>(t % kDay) / kDay + phase);
    const double burst = uniform(rng) < 0.005 ? 2.0 + 3.0 * uniform(rng) : 1.0;
    y[t] = std::max(0.0, level * daily * (1.0 + noise) * burst);
  }
  return y;
}

struct Pool {
  std::vector<std::vector<double>> series;
  bool real = false;
};

const Pool& pool() {
  static const Pool p = [] {
    Pool out;
    const char* env = std::getenv("MESHGW_SHARED_DATA");
    const std::filesystem::path dir = env ? env : MESHGW_SHARED_DATA_DEFAULT;
    std::ifstream in(dir / "traffic" / "abilene" / "abilene_top10.csv");
    if (in) {
      for (auto& s : predict::read_traffic_csv(in)) out.series.push_back(std::move(s.values));
      out.real = true;
    } else {
      for (std::uint64_t seed = 1; seed <= 10; ++seed) out.series.push_back(synthetic_traffic(seed));
    }
    return out;
  }();
  return p;
}

std::unique_ptr<predict::Forecaster> make(predict::Method m) { return predict::make_forecaster(m, {kDay, 4}); }

void label(benchmark::State& state, predict::Method m) {
  state.SetLabel(std::string(predict::to_string(m)) + (pool().real ? " abilene" : " synthetic"));
}

// update() per sample, after fitting on range(1) days. The stream is the
// rest of the series, replayed cyclically.
void BM_Update(benchmark::State& state) {
  const predict::Method method = kMethods[static_cast<std::size_t>(state.range(0))];
  const auto& y = pool().series[0];
  const std::size_t fitted = static_cast<std::size_t>(state.range(1)) * kDay;
  auto f = make(method);
  f->fit(std::span(y).first(fitted));
  const std::span<const double> stream = std::span(y).subspan(fitted);
  const std::size_t bytes = f->memory_bytes();
  std::size_t i = 0;
  for (auto _ : state) {
    f->update(stream[i]);
    if (++i == stream.size()) i = 0;
  }
  benchmark::DoNotOptimize(f->forecast(1));
  state.SetItemsProcessed(state.iterations());
  state.counters["state_bytes"] = static_cast<double>(bytes);
  state.counters["bytes_after_updates"] = static_cast<double>(f->memory_bytes());
  label(state, method);
  if (const auto* a = dynamic_cast<const predict::AutoForecaster*>(f.get()))
    state.SetLabel(std::string("auto -> ") + std::string(predict::to_string(a->chosen())) +
                   (pool().real ? " abilene" : " synthetic"));
}

void BM_Forecast4(benchmark::State& state) {
  const predict::Method method = kMethods[static_cast<std::size_t>(state.range(0))];
  auto f = make(method);
  f->fit(std::span(pool().series[0]).first(4 * kDay));
  for (auto _ : state) benchmark::DoNotOptimize(f->forecast(4));
  label(state, method);
}

void BM_Fit4Days(benchmark::State& state) {
  const predict::Method method = kMethods[static_cast<std::size_t>(state.range(0))];
  const auto history = std::span(pool().series[0]).first(4 * kDay);
  for (auto _ : state) {
    auto f = make(method);
    f->fit(history);
    benchmark::DoNotOptimize(f->forecast(1));
  }
  label(state, method);
}

long max_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// range(0) AutoForecaster series: clones of fits on 4-day windows.
void BM_MemoryOfAutoSeries(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  std::vector<std::unique_ptr<predict::Forecaster>> fits;
  std::map<predict::Method, int> chosen;
  for (const auto& y : pool().series)
    for (std::size_t start = 0; start + 5 * kDay <= y.size(); start += kDay / 2) {
      auto f = std::make_unique<predict::AutoForecaster>(predict::ForecasterConfig{kDay, 4});
      f->fit(std::span(y).subspan(start, 4 * kDay));
      ++chosen[f->chosen()];
      fits.push_back(std::move(f));
    }
  std::size_t total = 0, largest = 0;
  for (const auto& f : fits) largest = std::max(largest, f->memory_bytes());
  const long rss_before = max_rss_kib();
  for (auto _ : state) {
    std::vector<std::unique_ptr<predict::Forecaster>> series;
    series.reserve(count);
    for (std::size_t i = 0; i < count; ++i) series.push_back(fits[i % fits.size()]->clone());
    total = 0;
    for (const auto& f : series) total += f->memory_bytes();
    benchmark::DoNotOptimize(series.data());
  }
  const double gib = static_cast<double>(total) / (1024.0 * 1024.0 * 1024.0);
  state.counters["series"] = static_cast<double>(count);
  state.counters["distinct_fits"] = static_cast<double>(fits.size());
  state.counters["bytes_per_series"] = static_cast<double>(total) / static_cast<double>(count);
  state.counters["largest_series_bytes"] = static_cast<double>(largest);
  state.counters["total_bytes"] = static_cast<double>(total);
  state.counters["total_gib"] = gib;
  state.counters["under_1_gib"] = gib < 1.0 ? 1.0 : 0.0;
  // Cross-check of the accounting: resident memory grown by the copies
  // (plus the pointer vector and allocator overhead).
  state.counters["max_rss_growth_bytes"] = static_cast<double>(max_rss_kib() - rss_before) * 1024.0;
  for (const auto& [method, n] : chosen) state.counters["chosen_" + std::string(predict::to_string(method))] = n;
  state.SetLabel(pool().real ? "abilene windows" : "synthetic");
}

void method_args(benchmark::internal::Benchmark* b) {
  for (int m = 0; m < static_cast<int>(kMethods.size()); ++m) b->Arg(m);
  b->ArgName("method");
}

}  // namespace

BENCHMARK(BM_Update)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {1, 12}})
    ->ArgNames({"method", "history_days"});
BENCHMARK(BM_Forecast4)->Apply(method_args);
BENCHMARK(BM_Fit4Days)->Apply(method_args)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MemoryOfAutoSeries)->Arg(100'000)->ArgName("series")->Iterations(1)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
