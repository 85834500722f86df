// SPDX-License-Identifier: BSD-3-Clause
// What the data-plane fuzzers share: an EAL without hugepages or devices, a
// mempool, a compiled snapshot (a tunnel to gw-b with IPv4 and IPv6 sites, a
// relay, a deny policy, static neighbours) and one worker's context whose
// TX buffers are emptied by the fuzzer instead of a port.
#pragma once

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <memory>

#include "dataplane/sa_store.hpp"
#include "dataplane/snapshot_compiler.hpp"
#include "dataplane/stages.hpp"

namespace meshgw::dataplane::fuzz {

inline crypto::SaKeyMaterial fuzz_key(std::uint32_t spi) {
  crypto::SaKeyMaterial k;
  for (std::size_t i = 0; i < k.key.size(); ++i) k.key[i] = static_cast<std::uint8_t>(spi * 13 + i);
  for (std::size_t i = 0; i < 4; ++i) k.salt[i] = static_cast<std::uint8_t>(0xa0 + i);
  return k;
}

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

struct Fixture {
  static constexpr std::uint32_t kGwA = 0xc6120001, kGwB = 0xc6120002;
  static constexpr std::uint32_t kOutSpi = 0x1001, kInSpi = 0x2001, kRelaySpi = 0x3001;

  rte_mempool* pool = nullptr;
  std::unique_ptr<SaStore> store;
  std::unique_ptr<SnapshotCompiler> compiler;
  std::unique_ptr<Snapshot> snap;
  std::unique_ptr<WorkerCounters> counters = std::make_unique<WorkerCounters>();
  EventQueue events;
  std::atomic<bool> stop{false};
  WorkerContext ctx;

  Fixture() {
    std::string prefix = "mgwfuzz" + std::to_string(getpid());
    const char* args[] = {"fuzz", "--no-huge", "-m", "256", "--no-shconf", "--no-pci", "--no-telemetry",
                          "-l", "0", "--log-level", "*:error", "--file-prefix", prefix.c_str()};
    if (rte_eal_init(13, const_cast<char**>(args)) < 0) std::abort();
    // libFuzzer ends with exit(): remove the EAL's runtime directory then.
    static std::string runtime_dir = "/var/run/dpdk/" + prefix;
    std::atexit([] {
      rte_eal_cleanup();
      std::error_code ec;
      std::filesystem::remove_all(runtime_dir, ec);
    });
    pool = rte_pktmbuf_pool_create("fuzz", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    store = std::make_unique<SaStore>(crypto::Backend::ipsec_mb, 1024);
    for (std::uint32_t spi : {kOutSpi, kInSpi}) store->add_key(spi, fuzz_key(spi));
    compiler = std::make_unique<SnapshotCompiler>(*store);
    routing::ForwardingPlan plan;
    plan.gateway_id = "gw-a";
    auto pfx = [](const char* t) { return routing::IpPrefix::parse(t).value(); };
    plan.routes = {{pfx("198.51.100.0/24"), "gw-b", "default"}, {pfx("fd00:2::/64"), "gw-b", "default"},
                   {pfx("203.0.113.0/25"), "gw-c", "default"}};
    routing::PlanTunnel t;
    t.id = "a-b";
    t.egress = "gw-b";
    t.out_spi = kOutSpi;
    t.in_spi = kInSpi;
    t.local = {kGwA, 4500};
    t.next_hop = {kGwB, 4500};
    t.mtu = 1500;
    t.remote_sites = {pfx("198.51.100.0/24"), pfx("fd00:2::/64")};
    plan.tunnels = {t};
    plan.relays = {{kRelaySpi, {0xc6120103, 4500}, kGwB}};
    routing::PolicyRule deny;
    deny.name = "no-telnet";
    deny.protocol = 6;
    deny.dst_ports = {23, 23};
    deny.action = routing::PolicyAction::deny;
    plan.policies = {deny};
    auto neighbours = std::make_shared<NeighbourTable>();
    neighbours->v4.resize(2);
    neighbours->v4[1].insert(kGwB, {{2, 0, 0, 0, 1, 2}});
    neighbours->v4[0].insert(0xc000020a, {{2, 0, 0, 0, 0xaa, 1}});  // 192.0.2.10
    NeighbourTable::V6 host6{0, {}, {2, 0, 0, 0, 0xaa, 1}};
    std::memcpy(host6.ip.data(), "\xfd\x00\x00\x01\0\0\0\0\0\0\0\0\0\0\0\x10", 16);  // fd00:1::10
    neighbours->v6.push_back(host6);
    auto result = compiler->compile(plan, neighbours);
    if (!result.snapshot) std::abort();
    snap = std::move(result.snapshot);

    PortRuntime lan;
    lan.port_id = 0;
    lan.role = PortRole::lan;
    lan.mac = {2, 0, 0, 0, 0, 1};
    lan.address.ipv4 = 0xc0000201;
    lan.address.has_ipv6 = true;
    std::memcpy(lan.address.ipv6.data(), "\xfd\x00\x00\x01\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    PortRuntime wan = lan;
    wan.port_id = 1;
    wan.role = PortRole::wan;
    wan.mac = {2, 0, 0, 0, 0, 2};
    wan.address.ipv4 = kGwA;
    wan.address.has_ipv6 = false;
    ctx.ports = {lan, wan};
    ctx.lan = 0;
    ctx.wan = 1;
    ctx.pool = pool;
    ctx.counters = counters.get();
    ctx.events = &events;
    ctx.stop = &stop;
    ctx.tsc_hz = 1000000000;
    ctx.icmp_max_tokens = ctx.icmp_tokens = 1000000;
    ctx.icmp_tsc_per_token = 1;
    ctx.ws = std::make_unique<crypto::CryptoWorkspace>();
  }

  rte_mbuf* frame(const std::uint8_t* data, std::size_t size) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) std::abort();
    const std::size_t room = rte_pktmbuf_tailroom(m);
    const auto len = static_cast<std::uint16_t>(size < room ? size : room);
    std::memcpy(rte_pktmbuf_append(m, len), data, len);
    return m;
  }

  // What a poll does with one frame on a port, without a device: answers,
  // forwards into the TX buffers or the neighbour queue, or drops.
  void run(std::uint16_t port, rte_mbuf* m) {
    rte_mbuf* pkts[1] = {m};
    Egress egress[1];
    DropReason reasons[1];
    const std::uint16_t transit = take_local(ctx, port, pkts, 1);
    if (transit == 1) {
      std::uint16_t refused = 0;
      const std::uint16_t good = ctx.ports[port].role == PortRole::lan
                                     ? lan_to_mesh_burst(*snap, ctx, pkts, 1, egress, reasons)
                                     : mesh_to_lan_burst(*snap, ctx, pkts, 1, egress, reasons, &refused);
      if (good == 1) {
        send_to_next_hop(*snap, ctx, pkts[0], egress[0]);
      } else if (ctx.ports[port].role == PortRole::lan || refused == 1) {
        drop(ctx, pkts[0], reasons[0]);
      }  // else the stage took it (a tunnel probe's reply)
    }
  }

  // Frees what a poll left in the TX buffers and the neighbour queue, and
  // checks that every mbuf came back (nothing leaked, nothing freed twice).
  std::size_t drain() {
    std::size_t sent = 0;
    for (auto& b : ctx.tx) {
      for (std::uint16_t i = 0; i < b.count; ++i) {
        check(b.pkts[i]->nb_segs == 1 && b.pkts[i]->data_len == b.pkts[i]->pkt_len, "TX frame is whole");
        rte_pktmbuf_free(b.pkts[i]);
      }
      sent += b.count;
      b.count = 0;
    }
    for (unsigned i = 0; i < ctx.pending.count; ++i) rte_pktmbuf_free(ctx.pending.entries[i].m);
    ctx.pending.count = 0;
    WorkerEvent ev;
    while (events.pop(ev)) {
    }
    check(rte_mempool_in_use_count(pool) == 0, "every mbuf returned to the pool");
    return sent;
  }
};

inline Fixture& fixture() {
  static Fixture f;
  return f;
}

}  // namespace meshgw::dataplane::fuzz
