// SPDX-License-Identifier: BSD-3-Clause
// ESP encap+encrypt and decap+decrypt per packet at 64, 512 and 1420-byte
// inner packets on both backends, plus the bare AES-256-GCM seal of the same
// bytes (the floor ESP cannot beat). scripts/bench/crypto.py runs this next to
// dpdk-test-crypto-perf and reports ratios.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "crypto/esp.hpp"

using namespace meshgw::crypto;

namespace {

constexpr std::uint32_t kRoom = 128;
constexpr std::uint32_t kSpi = 0x1001;
constexpr std::size_t kPackets = 1024;  // distinct buffers, like an mbuf pool slice

SaKeyMaterial bench_keys() {
  SaKeyMaterial k;
  for (std::size_t i = 0; i < k.key.size(); ++i) k.key[i] = static_cast<std::uint8_t>(i * 13 + 5);
  k.salt = {1, 2, 3, 4};
  return k;
}

std::vector<std::uint8_t> inner_packet(std::uint32_t len) {
  std::vector<std::uint8_t> p(len);
  std::mt19937 rng(len);
  for (auto& b : p) b = static_cast<std::uint8_t>(rng());
  p[0] = 0x45;
  p[1] = 0;
  store_be16(&p[2], static_cast<std::uint16_t>(len));
  return p;
}

Backend backend_arg(const benchmark::State& state) {
  return state.range(1) == 0 ? Backend::ipsec_mb : Backend::openssl;
}

void label(benchmark::State& state, std::uint32_t len) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * len);
  state.SetLabel(std::string(to_string(backend_arg(state))));
}

// Seal of the same number of bytes ESP encrypts (inner + padding + trailer), in place.
void BM_GcmSeal(benchmark::State& state) {
  const auto len = static_cast<std::uint32_t>(state.range(0));
  const std::uint32_t text = (len + 2 + 3) & ~3u;
  CryptoWorkspace ws;
  const SaKeyMaterial keys = bench_keys();
  Aes256Gcm gcm(backend_arg(state), keys.key, ws);
  std::vector<std::uint8_t> buf(text + 16);
  std::uint8_t nonce[12] = {1, 2, 3, 4}, aad[12] = {};
  std::uint64_t seq = 0;
  for (auto _ : state) {
    ++seq;
    std::memcpy(nonce + 4, &seq, 8);
    gcm.seal(ws, nonce, aad, 12, buf.data(), buf.data(), text, buf.data() + text);
    benchmark::DoNotOptimize(buf.data());
  }
  label(state, len);
}

void BM_EspEncap(benchmark::State& state) {
  const auto len = static_cast<std::uint32_t>(state.range(0));
  CryptoWorkspace ws;
  OutboundSa sa({kSpi, true, bench_keys(), {0xc6120001, 0xc6120002}, backend_arg(state), 1}, ws);
  const auto inner = inner_packet(len);
  const std::uint32_t stride = (kRoom + len + kRoom + 63) & ~63u;
  std::vector<std::uint8_t> pool(stride * kPackets);
  for (std::size_t i = 0; i < kPackets; ++i) std::memcpy(&pool[i * stride + kRoom], inner.data(), len);
  std::size_t i = 0;
  for (auto _ : state) {
    std::uint8_t* data = &pool[i * stride + kRoom];
    // Encryption overwrote the last packet in this slot; only its IP header is
    // read by encap, so restoring 20 bytes keeps the work identical.
    std::memcpy(data, inner.data(), 20);
    PacketView view{data, len, kRoom, kRoom};
    if (sa.encap(ws, view) != EspStatus::ok) state.SkipWithError("encap failed");
    benchmark::DoNotOptimize(view.data);
    i = (i + 1) % kPackets;
  }
  label(state, len);
}

void BM_EspDecap(benchmark::State& state) {
  const auto len = static_cast<std::uint32_t>(state.range(0));
  CryptoWorkspace ws;
  const auto inner = inner_packet(len);
  const std::uint32_t stride = (kRoom + len + kRoom + 63) & ~63u;
  std::vector<std::uint8_t> wire(stride * kPackets), pool(stride * kPackets);
  std::vector<PacketView> views(kPackets);
  {
    OutboundSa out({kSpi, true, bench_keys(), {0xc6120001, 0xc6120002}, Backend::ipsec_mb, 1}, ws);
    for (std::size_t i = 0; i < kPackets; ++i) {
      std::memcpy(&wire[i * stride + kRoom], inner.data(), len);
      views[i] = {&wire[i * stride + kRoom], len, kRoom, kRoom};
      out.encap(ws, views[i]);
      views[i].data = views[i].data - wire.data() + pool.data();  // same offsets in pool
    }
  }
  std::unique_ptr<InboundSa> sa;
  std::size_t i = kPackets;
  for (auto _ : state) {
    if (i == kPackets) {
      // A new pass: fresh ciphertext and a fresh window (out of the timing).
      state.PauseTiming();
      std::memcpy(pool.data(), wire.data(), pool.size());
      sa = std::make_unique<InboundSa>(InboundSaConfig{kSpi, true, bench_keys(), 1024, backend_arg(state)}, ws);
      i = 0;
      state.ResumeTiming();
    }
    PacketView view = views[i];
    OuterUdpInfo info;
    if (decap_udp_ipv4(ws, [&](std::uint32_t spi) { return spi == kSpi ? sa.get() : nullptr; }, view, info) !=
        EspStatus::ok)
      state.SkipWithError("decap failed");
    benchmark::DoNotOptimize(view.data);
    ++i;
  }
  label(state, len);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int backend : {0, 1})
    for (int len : {64, 512, 1420}) b->Args({len, backend});
  b->ArgNames({"size_bytes", "openssl"});
}

}  // namespace

BENCHMARK(BM_GcmSeal)->Apply(sizes);
BENCHMARK(BM_EspEncap)->Apply(sizes);
BENCHMARK(BM_EspDecap)->Apply(sizes);
BENCHMARK_MAIN();
