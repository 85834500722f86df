// SPDX-License-Identifier: BSD-3-Clause
// Snapshot swaps under load (run under ASan in the clang build): two
// workers forward a known packet stream from ring ports while the control
// thread publishes 1,000 snapshots a second: path switches between two
// tunnels to gw-b, and every 50th publication a route for 203.0.113.0/24
// (to gw-c) added or removed. Checks: no use-after-free (ASan), every packet
// accounted for (sent = encrypted out + counted drops, and the only drops
// are no_route while the route is absent), none misrouted (each packet left
// through a tunnel to its own destination), no sequence number used twice
// under one key, and retired snapshots are all freed at the end.
// Exit 0 on success, 1 with a message otherwise, 77 when the machine has
// fewer than 2 CPUs.
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "crypto/aead.hpp"
#include "crypto/bytes.hpp"
#include "dataplane/runtime.hpp"

using namespace meshgw;
using crypto::load_be16;
using crypto::load_be32;
using crypto::load_be64;

namespace {

constexpr std::uint32_t kGwA = 0xc6120001, kGwB = 0xc6120002, kGwC = 0xc6120003;
constexpr std::uint32_t kSpiB1 = 0x1001, kSpiB2 = 0x1002, kSpiC = 0x1003;

int fail(const std::string& why) {
  std::fprintf(stderr, "swap stress: FAIL: %s\n", why.c_str());
  return 1;
}

crypto::SaKeyMaterial key_for(std::uint32_t spi) {
  crypto::SaKeyMaterial k;
  for (std::size_t i = 0; i < k.key.size(); ++i) k.key[i] = static_cast<std::uint8_t>(spi * 31 + i);
  for (std::size_t i = 0; i < 4; ++i) k.salt[i] = static_cast<std::uint8_t>(spi + i);
  return k;
}

routing::IpPrefix prefix(const char* t) { return routing::IpPrefix::parse(t).value(); }

routing::ForwardingPlan plan(bool second_path, bool route_c) {
  routing::ForwardingPlan p;
  p.gateway_id = "gw-a";
  p.routes.push_back({prefix("198.51.100.0/24"), "gw-b", "default"});
  if (route_c) p.routes.push_back({prefix("203.0.113.0/24"), "gw-c", "default"});
  auto tunnel = [](const char* id, const char* egress, std::uint32_t out, std::uint32_t in, std::uint32_t hop,
                   const char* site) {
    routing::PlanTunnel t;
    t.id = id;
    t.egress = egress;
    t.out_spi = out;
    t.in_spi = in;
    t.local = {kGwA, 4500};
    t.next_hop = {hop, 4500};
    t.remote_sites = {prefix(site)};
    return t;
  };
  p.tunnels = {tunnel("b1", "gw-b", kSpiB1, 0x2001, kGwB, "198.51.100.0/24"),
               tunnel("b2", "gw-b", kSpiB2, 0x2002, kGwB, "198.51.100.0/24"),
               tunnel("c", "gw-c", kSpiC, 0x2003, kGwC, "203.0.113.0/24")};
  p.active = {{"gw-b", "default", second_path ? "b2" : "b1"}, {"gw-c", "default", "c"}};
  return p;
}

// An Ethernet + IPv4 + UDP frame carrying id, to 198.51.100.x or 203.0.113.x.
rte_mbuf* make_packet(rte_mempool* pool, std::uint64_t id) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  const std::uint16_t payload = 8 + 16 + static_cast<std::uint16_t>(id % 200);
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(14 + 20 + payload)));
  std::memset(p, 0, 14 + 20 + payload);
  const std::uint8_t lan_mac[6] = {2, 0, 0, 0, 0, 1};
  std::memcpy(p, lan_mac, 6);
  crypto::store_be16(p + 12, 0x0800);
  std::uint8_t* ip = p + 14;
  ip[0] = 0x45;
  crypto::store_be16(ip + 2, static_cast<std::uint16_t>(20 + payload));
  ip[8] = 64;
  ip[9] = 17;
  crypto::store_be32(ip + 12, 0xc000020a);  // 192.0.2.10
  const bool to_c = id % 3 == 0;
  crypto::store_be32(ip + 16, (to_c ? 0xcb007100u : 0xc6336400u) | static_cast<std::uint32_t>(1 + id % 200));
  crypto::store_be16(ip + 10, crypto::internet_checksum(ip, 20));
  std::uint8_t* udp = ip + 20;
  crypto::store_be16(udp, static_cast<std::uint16_t>(1000 + id % 1000));
  crypto::store_be16(udp + 2, 5000);
  crypto::store_be16(udp + 4, payload);
  crypto::store_be64(udp + 8, id);
  return m;
}

}  // namespace

int main() {
  if (std::thread::hardware_concurrency() < 2) {
    std::puts("SKIP: needs 2 CPUs (two workers and a control thread)");
    return 77;
  }
  std::string prefix_arg = "mgwswap" + std::to_string(getpid());
  std::vector<std::string> args = {"swap_stress", "--no-huge", "-m", "1024", "--no-shconf", "--no-pci",
                                   "--no-telemetry", "--file-prefix", prefix_arg, "--log-level", "*:error",
                                   "--lcores=0@0,1@1,2@1"};  // the two workers share a CPU
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) return fail("EAL init");
  int status = 0;
  {
    rte_ring* lan_rx[2];
    rte_ring* lan_tx[2];
    rte_ring* wan_rx[2];
    rte_ring* wan_tx[2];
    for (int q = 0; q < 2; ++q) {
      auto ring = [](const std::string& name) {
        return rte_ring_create(name.c_str(), 8192, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      };
      lan_rx[q] = ring("lrx" + std::to_string(q));
      lan_tx[q] = ring("ltx" + std::to_string(q));
      wan_rx[q] = ring("wrx" + std::to_string(q));
      wan_tx[q] = ring("wtx" + std::to_string(q));
    }
    if (rte_eth_from_rings("ring_lan", lan_rx, 2, lan_tx, 2, SOCKET_ID_ANY) < 0 ||
        rte_eth_from_rings("ring_wan", wan_rx, 2, wan_tx, 2, SOCKET_ID_ANY) < 0)
      return fail("ring ports");

    dataplane::DataplaneSettings settings;
    settings.workers = 2;
    settings.mbufs = 32767;
    dataplane::PortSettings lan;
    lan.name = "lan";
    lan.device = "net_ring_ring_lan";  // rte_eth_from_rings names it so
    lan.role = dataplane::PortRole::lan;
    lan.mac = std::array<std::uint8_t, 6>{2, 0, 0, 0, 0, 1};
    lan.address.ipv4 = 0xc0000201;
    dataplane::PortSettings wan = lan;
    wan.name = "wan";
    wan.device = "net_ring_ring_wan";
    wan.role = dataplane::PortRole::wan;
    wan.mac = std::array<std::uint8_t, 6>{2, 0, 0, 0, 0, 2};
    wan.address.ipv4 = kGwA;
    settings.ports = {lan, wan};
    for (std::uint32_t hop : {kGwB, kGwC}) {
      dataplane::StaticNeighbour n;
      n.port = "wan";
      crypto::store_be32(n.ip.data(), hop);
      n.mac = {2, 0, 0, 0, 1, static_cast<std::uint8_t>(hop & 0xff)};
      settings.neighbours.push_back(n);
    }
    dataplane::SaStore store(crypto::Backend::ipsec_mb, 1024);
    for (std::uint32_t spi : {kSpiB1, kSpiB2, kSpiC, 0x2001u, 0x2002u, 0x2003u}) store.add_key(spi, key_for(spi));
    dataplane::Dataplane dp(settings, store);
    if (!dp.apply(plan(false, true)).empty()) return fail("first plan refused");
    dp.start_workers();

    rte_mempool* pool = rte_pktmbuf_pool_create("gen", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (pool == nullptr) return fail("generator pool");
    constexpr std::uint64_t kPackets = 120000;
    std::atomic<bool> sending_done{false};
    std::uint64_t sent = 0;
    // Paced (a burst of 32 every 0.5 ms, ~64 kpps) so that the stream spans
    // about two seconds of swaps.
    std::thread sender([&] {
      auto tick = std::chrono::steady_clock::now();
      for (std::uint64_t id = 0; id < kPackets;) {
        if (id % 32 == 0) {
          tick += std::chrono::microseconds(500);
          std::this_thread::sleep_until(tick);
        }
        rte_mbuf* m = make_packet(pool, id);
        if (m == nullptr) {
          std::this_thread::yield();
          continue;
        }
        if (rte_ring_enqueue(lan_rx[id % 2], m) != 0) {
          rte_pktmbuf_free(m);
          std::this_thread::yield();
          continue;
        }
        ++id;
        ++sent;
      }
      sending_done = true;
    });
    // The drain: everything the workers put on the WAN.
    std::vector<std::vector<std::uint8_t>> out;
    std::atomic<bool> drain_stop{false};
    std::thread drainer([&] {
      void* objs[64];
      while (!drain_stop) {
        unsigned got = 0;
        for (int q = 0; q < 2; ++q) {
          const unsigned n = rte_ring_dequeue_burst(wan_tx[q], objs, 64, nullptr);
          for (unsigned i = 0; i < n; ++i) {
            auto* m = static_cast<rte_mbuf*>(objs[i]);
            const auto* b = rte_pktmbuf_mtod(m, const std::uint8_t*);
            out.emplace_back(b, b + m->data_len);
            rte_pktmbuf_free(m);
          }
          got += n;
        }
        if (got == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    });

    // 1,000 publications a second while the stream runs.
    std::uint64_t publications = 0, route_changes = 0;
    bool second = false, route_c = true;
    auto next = std::chrono::steady_clock::now();
    std::string stuck;
    while (!sending_done) {
      next += std::chrono::microseconds(1000);
      std::this_thread::sleep_until(next);
      second = !second;
      if (++publications % 50 == 0) {
        route_c = !route_c;
        ++route_changes;
      }
      const auto errors = dp.apply(plan(second, route_c));
      if (!errors.empty()) return fail("plan refused: " + errors.front());
      const std::string s = dp.service();
      if (!s.empty()) stuck = s;
    }
    // Let the workers drain their rings.
    for (int i = 0; i < 200; ++i) {
      dp.service();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (rte_ring_count(lan_rx[0]) + rte_ring_count(lan_rx[1]) == 0 && i > 20) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    dp.stop_workers();
    sender.join();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    drain_stop = true;
    drainer.join();
    for (int i = 0; i < 100 && dp.publisher().freed() + 1 < dp.publisher().published(); ++i) {
      dp.service();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const auto stats = dp.stats();

    // Accounting.
    std::uint64_t drops = 0, no_route = 0;
    for (std::size_t r = 1; r < dataplane::kDropReasonCount; ++r) drops += stats.drops[r];
    no_route = stats.drops[static_cast<std::size_t>(dataplane::DropReason::no_route)];
    std::printf("swap stress: %llu packets sent, %zu encrypted out, %llu dropped (no_route %llu), "
                "%llu publications (%llu route changes), %llu snapshots freed, workers saw %llu changes\n",
                static_cast<unsigned long long>(sent), out.size(), static_cast<unsigned long long>(drops),
                static_cast<unsigned long long>(no_route), static_cast<unsigned long long>(publications),
                static_cast<unsigned long long>(route_changes),
                static_cast<unsigned long long>(dp.publisher().freed()),
                static_cast<unsigned long long>(stats.snapshot_changes));
    if (!stuck.empty()) std::printf("swap stress: note: %s\n", stuck.c_str());
    for (std::size_t r = 1; r < dataplane::kDropReasonCount; ++r) {
      if (stats.drops[r] != 0)
        std::printf("swap stress: dropped %s: %llu\n", std::string(dataplane::kDropReasonInfo[r].metric).c_str(),
                    static_cast<unsigned long long>(stats.drops[r]));
    }
    if (sent != out.size() + drops) status = fail("sent != out + drops");
    if (drops != no_route) status = fail("drops other than no_route");
    if (publications < 500) status = fail("too few publications");
    if (dp.publisher().freed() + 1 != dp.publisher().published()) status = fail("retired snapshots not all freed");

    // Nothing misrouted, no nonce reused, no packet twice.
    crypto::CryptoWorkspace ws;
    std::map<std::uint32_t, std::unique_ptr<crypto::Aes256Gcm>> aead;
    for (std::uint32_t spi : {kSpiB1, kSpiB2, kSpiC}) {
      const auto k = key_for(spi);
      aead[spi] = std::make_unique<crypto::Aes256Gcm>(crypto::Backend::ipsec_mb, k.key, ws);
    }
    std::set<std::pair<std::uint32_t, std::uint64_t>> seqs;
    std::set<std::uint64_t> ids;
    std::uint64_t via[2] = {0, 0};
    for (auto& f : out) {
      std::uint8_t* ip = f.data() + 14;
      std::uint8_t* esp = ip + 28;
      const std::uint32_t spi = load_be32(esp);
      const std::uint64_t seq = load_be64(esp + 8);
      if (aead.count(spi) == 0) return fail("unknown SPI out");
      if (!seqs.insert({spi, seq}).second) return fail("sequence number used twice under one key");
      const std::uint32_t dst = load_be32(ip + 16);
      if (dst != (spi == kSpiC ? kGwC : kGwB)) return fail("outer destination is not the tunnel's next hop");
      const auto k = key_for(spi);
      std::uint8_t nonce[12];
      std::memcpy(nonce, k.salt.data(), 4);
      std::memcpy(nonce + 4, esp + 8, 8);
      std::uint8_t aad[12];
      crypto::store_be32(aad, spi);
      crypto::store_be32(aad + 4, static_cast<std::uint32_t>(seq >> 32));
      crypto::store_be32(aad + 8, static_cast<std::uint32_t>(seq));
      std::uint8_t* text = esp + 16;
      const std::size_t len = f.size() - 14 - 28 - 16 - 16;
      if (!aead[spi]->open(ws, nonce, aad, 12, text, text, len, text + len)) return fail("ICV");
      const std::uint32_t inner_dst = load_be32(text + 16);
      const bool to_c = (inner_dst >> 8) == 0xcb0071;
      if (to_c != (spi == kSpiC)) return fail("misrouted: inner destination and tunnel disagree");
      if (!to_c) ++via[spi == kSpiB2];
      if (!ids.insert(load_be64(text + 28)).second) return fail("a packet left twice");
    }
    if (via[0] == 0 || via[1] == 0) status = fail("both paths should have carried traffic");
    std::printf("swap stress: gw-b via b1 %llu, via b2 %llu; every sequence number unique\n",
                static_cast<unsigned long long>(via[0]), static_cast<unsigned long long>(via[1]));
  }
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + prefix_arg, ec);  // the EAL leaves it behind
  if (status == 0) std::puts("swap stress: OK");
  return status;
}
