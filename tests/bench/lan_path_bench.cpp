// SPDX-License-Identifier: BSD-3-Clause
// The LAN -> mesh stage on one core without a packet source: bursts of 32
// frames (rebuilt from a template each time, as a port would deliver them)
// through frame checks, route lookup, tunnel choice, ESP encryption and
// next-hop resolution, next to the bare ESP encapsulation of the same
// packets. The difference is the stage's own work per packet.
#include <benchmark/benchmark.h>

#include <cstring>

#include "../fuzz/dataplane_fixture.hpp"

using namespace meshgw;
using namespace meshgw::dataplane;

namespace {

std::vector<std::uint8_t> frame_of(std::size_t size) {
  std::vector<std::uint8_t> f(size, 0);
  const std::uint8_t lan_mac[6] = {2, 0, 0, 0, 0, 1};
  std::memcpy(f.data(), lan_mac, 6);
  crypto::store_be16(f.data() + 12, 0x0800);
  std::uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  crypto::store_be16(ip + 2, static_cast<std::uint16_t>(size - 14));
  ip[8] = 64;
  ip[9] = 17;
  crypto::store_be32(ip + 12, 0xc000020a);
  crypto::store_be32(ip + 16, 0xc6336414);
  crypto::store_be16(ip + 10, crypto::internet_checksum(ip, 20));
  crypto::store_be16(ip + 20, 1234);
  crypto::store_be16(ip + 22, 5000);
  crypto::store_be16(ip + 24, static_cast<std::uint16_t>(size - 34));
  return f;
}

void fill(fuzz::Fixture& f, rte_mbuf** pkts, const std::vector<std::uint8_t>& frame) {
  for (int i = 0; i < 32; ++i) pkts[i] = f.frame(frame.data(), frame.size());
}

void BM_LanToMesh(benchmark::State& state) {
  fuzz::Fixture& f = fuzz::fixture();
  const auto frame = frame_of(static_cast<std::size_t>(state.range(0)));
  rte_mbuf* pkts[32];
  Egress egress[32];
  DropReason reasons[32];
  for (auto _ : state) {
    state.PauseTiming();
    fill(f, pkts, frame);
    state.ResumeTiming();
    const std::uint16_t transit = take_local(f.ctx, 0, pkts, 32);
    const std::uint16_t good = lan_to_mesh_burst(*f.snap, f.ctx, pkts, transit, egress, reasons);
    send_all_to_next_hops(*f.snap, f.ctx, pkts, egress, good);
    state.PauseTiming();
    if (good != 32) state.SkipWithError("packets refused");
    f.drain();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 32);
}
BENCHMARK(BM_LanToMesh)->ArgName("size_bytes")->Arg(64)->Arg(512)->Arg(1420);

void BM_EspEncapOnly(benchmark::State& state) {
  fuzz::Fixture& f = fuzz::fixture();
  const auto frame = frame_of(static_cast<std::size_t>(state.range(0)));
  rte_mbuf* pkts[32];
  crypto::PacketView views[32];
  crypto::EspStatus status[32];
  crypto::OutboundSa* sa = f.snap->tunnels->tunnels[0].sa;
  for (auto _ : state) {
    state.PauseTiming();
    fill(f, pkts, frame);
    for (int i = 0; i < 32; ++i) views[i] = view_after_ethernet(pkts[i]);
    state.ResumeTiming();
    sa->encap_burst(*f.ctx.ws, views, 32, status);
    state.PauseTiming();
    for (auto* m : pkts) rte_pktmbuf_free(m);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 32);
}
BENCHMARK(BM_EspEncapOnly)->ArgName("size_bytes")->Arg(64)->Arg(512)->Arg(1420);

}  // namespace

BENCHMARK_MAIN();
