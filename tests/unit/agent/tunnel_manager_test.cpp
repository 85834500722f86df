// SPDX-License-Identifier: BSD-3-Clause
// The tunnel manager with a fake controller and key exchange, on an
// injected clock: primary and backups set up ahead, the active choice
// following usable links, retries with backoff that release what a failed
// setup allocated, rekey by time and by volume (make before break: the
// successor is active before the predecessor goes, which drains and is
// released), unwanted paths lingering, revoked gateways' tunnels dropped at
// once, peers' tunnels accepted and removed when released, the key
// server's check against the mesh state, an earlier run's tunnels taken up
// again on their SPIs (the rest released), a tunnel whose end-to-end probes
// stopped used last and set up again, on the same SPIs with new keys when
// the controller is away.
#include "controlplane/agent/tunnel_manager.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace meshgw;
using namespace meshgw::agent;
using nlohmann::json;

namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;

struct FakeMesh {
  std::mutex mutex;
  std::uint32_t next_spi = 0x1000;
  std::vector<std::uint32_t> released;
  std::map<std::uint32_t, std::uint8_t> keys;  // SPI -> first key byte
  std::atomic<int> fail_exchanges{0};
  std::atomic<int> exchanges{0};
  std::atomic<int> fail_releases{0};
  std::atomic<int> fail_allocations{0};
  std::atomic<int> replaced{0};
  std::vector<std::string> logs;

  TunnelOps ops() {
    TunnelOps o;
    o.allocate = [this](const std::vector<std::string>&) {
      if (fail_allocations > 0) {
        --fail_allocations;
        throw std::runtime_error("controller away");
      }
      std::lock_guard lock(mutex);
      next_spi += 2;
      return std::make_pair(next_spi, next_spi + 1);
    };
    o.exchange = [this](const TunnelRequest& r) {
      ++exchanges;
      if (fail_exchanges > 0) {
        --fail_exchanges;
        throw std::runtime_error("connection refused");
      }
      TunnelKeys k;
      k.tunnel = r;
      k.peer = r.path.back();
      k.forward.key.fill(static_cast<std::uint8_t>(r.forward_spi));
      k.reverse.key.fill(static_cast<std::uint8_t>(r.reverse_spi));
      return k;
    };
    o.release = [this](std::uint32_t spi) {
      if (fail_releases > 0) {
        --fail_releases;
        throw std::runtime_error("controller away");
      }
      std::lock_guard lock(mutex);
      released.push_back(spi);
    };
    o.install_key = [this](std::uint32_t spi, const crypto::SaKeyMaterial& k) {
      std::lock_guard lock(mutex);
      keys[spi] = k.key[0];
    };
    o.forget_key = [this](std::uint32_t spi) {
      std::lock_guard lock(mutex);
      keys.erase(spi);
    };
    o.replace_key = [this](std::uint32_t spi, const crypto::SaKeyMaterial& k) {
      std::lock_guard lock(mutex);
      ++replaced;
      keys[spi] = k.key[0];
    };
    o.log = [this](const std::string& line) {
      std::lock_guard lock(mutex);
      logs.push_back(line);
    };
    return o;
  }
  std::vector<std::uint32_t> released_spis() {
    std::lock_guard lock(mutex);
    return released;
  }
};

// Polls until every job has finished and its result is taken.
void settle(TunnelManager& m, std::uint64_t now, const std::map<std::string, std::uint64_t>& tx = {}) {
  for (int i = 0; i < 2000; ++i) {
    m.poll(now, tx);
    if (m.pending_jobs() == 0) {
      m.poll(now, tx);
      if (m.pending_jobs() == 0) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  FAIL() << "jobs did not finish";
}

const std::vector<std::string> kDirect = {"gw-1", "gw-2"};
const std::vector<std::string> kVia3 = {"gw-1", "gw-3", "gw-2"};

TunnelManagerConfig config() {
  TunnelManagerConfig c;
  c.self = "gw-1";
  c.rekey_after_ns = 100 * kSecond;
  c.linger_ns = 10 * kSecond;
  c.drain_ns = 2 * kSecond;
  c.retry_min_ns = kSecond;
  c.retry_max_ns = 4 * kSecond;
  c.check_wait_ms = 50;
  return c;
}

json gateways(std::initializer_list<std::pair<const char*, const char*>> list) {
  json g = json::object();
  for (const auto& [id, status] : list) g[id] = {{"id", id}, {"status", status}};
  return g;
}

const ReadyTunnel* find(const TunnelManager& m, const std::vector<std::string>& path, bool newest = true) {
  const ReadyTunnel* out = nullptr;
  for (const auto& t : m.tunnels())
    if (t.path == path && (out == nullptr || newest)) out = &t;
  return out;
}

TEST(TunnelManager, PrimaryAndBackupAreSetUpAheadAndActiveFollowsUsableLinks) {
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}, {"gw-3", "up"}}), json::object(), 0);
  m.want({{"gw-2", "default", {kDirect, kVia3}}}, 0);
  settle(m, 0);
  ASSERT_EQ(m.tunnels().size(), 2u);
  EXPECT_EQ(m.setups(), 2u);
  EXPECT_EQ(fake.keys.size(), 4u);  // both SAs of both tunnels
  const ReadyTunnel* direct = find(m, kDirect);
  const ReadyTunnel* via3 = find(m, kVia3);
  ASSERT_TRUE(direct && via3);
  EXPECT_EQ(direct->egress, "gw-2");
  EXPECT_EQ(direct->id.size(), 9u);
  EXPECT_EQ(fake.keys.at(direct->out_spi), static_cast<std::uint8_t>(direct->out_spi));  // forward key outbound

  auto all = [](const std::vector<std::string>&) { return true; };
  auto direct_cut = [](const std::vector<std::string>& p) { return p.size() != 2; };
  auto nothing = [](const std::vector<std::string>&) { return false; };
  ASSERT_EQ(m.active(all).size(), 1u);
  EXPECT_EQ(m.active(all)[0].tunnel, direct->id);
  EXPECT_EQ(m.active(direct_cut)[0].tunnel, via3->id);  // failover: no new setup needed
  EXPECT_EQ(m.active(nothing)[0].tunnel, direct->id);   // nothing known usable: the primary
  EXPECT_EQ(m.setups(), 2u);
}

TEST(TunnelManager, AnEgressWithoutAPlannedPathKeepsItsTunnelsWhileTheyLinger) {
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}, {"gw-3", "up"}}), json::object(), 0);
  m.want({{"gw-2", "default", {kDirect, kVia3}}}, 0);
  settle(m, 0);
  m.want({}, kSecond);  // e.g. a restarted controller knows no links yet
  settle(m, kSecond);
  auto direct_cut = [](const std::vector<std::string>& p) { return p.size() != 2; };
  const auto active = m.active(direct_cut);
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].tunnel, find(m, kVia3)->id);
  settle(m, 12 * kSecond);  // the linger ran out
  EXPECT_TRUE(m.active(direct_cut).empty());
}

TEST(TunnelManager, AFailedSetupReleasesItsSpisAndRetriesWithBackoff) {
  FakeMesh fake;
  fake.fail_exchanges = 2;
  TunnelManager m(config(), fake.ops());
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}}), json::object(), 0);
  m.want({{"gw-2", "default", {kDirect}}}, 0);
  settle(m, 0);
  EXPECT_EQ(m.setup_failures(), 1u);
  EXPECT_TRUE(m.tunnels().empty());
  EXPECT_EQ(fake.released_spis().size(), 2u);  // both SPIs of the failed setup
  settle(m, kSecond / 2);                      // before the backoff: nothing tried
  EXPECT_EQ(fake.exchanges.load(), 1);
  settle(m, kSecond);  // retried, fails again: backoff doubles
  EXPECT_EQ(m.setup_failures(), 2u);
  settle(m, kSecond + kSecond * 3 / 2);
  EXPECT_EQ(fake.exchanges.load(), 2);
  settle(m, 3 * kSecond);
  EXPECT_EQ(m.tunnels().size(), 1u);
  EXPECT_EQ(fake.exchanges.load(), 3);
}

TEST(TunnelManager, RekeyByTimeIsMakeBeforeBreak) {
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}, {"gw-3", "up"}}), json::object(), 0);
  m.want({{"gw-2", "default", {kVia3}}}, 0);
  settle(m, 0);
  const ReadyTunnel first = m.tunnels().at(0);
  auto all = [](const std::vector<std::string>&) { return true; };
  settle(m, 101 * kSecond);
  ASSERT_EQ(m.tunnels().size(), 2u);  // the old one drains
  const ReadyTunnel* next = find(m, kVia3);
  ASSERT_TRUE(next);
  EXPECT_NE(next->out_spi, first.out_spi);
  EXPECT_EQ(next->epoch, first.epoch + 1);
  // The successor (multi-hop) settles first (the transit installs its
  // relays), the predecessor carries the traffic meanwhile.
  EXPECT_EQ(m.active(all)[0].tunnel, first.id);
  EXPECT_TRUE(m.poll(101 * kSecond + 300'000'000));
  next = find(m, kVia3);
  EXPECT_EQ(m.active(all)[0].tunnel, next->id);
  EXPECT_EQ(m.rekeys(), 1u);
  EXPECT_TRUE(fake.keys.contains(first.in_spi));  // packets in flight still decrypt
  m.poll(102 * kSecond);
  EXPECT_EQ(m.tunnels().size(), 2u);
  settle(m, 103 * kSecond + 1);
  ASSERT_EQ(m.tunnels().size(), 1u);
  EXPECT_FALSE(fake.keys.contains(first.in_spi));
  EXPECT_FALSE(fake.keys.contains(first.out_spi));
  const auto rel = fake.released_spis();
  EXPECT_NE(std::find(rel.begin(), rel.end(), first.out_spi), rel.end());
  EXPECT_NE(std::find(rel.begin(), rel.end(), first.in_spi), rel.end());
}

TEST(TunnelManager, RekeyByVolume) {
  FakeMesh fake;
  TunnelManagerConfig c = config();
  c.rekey_after_bytes = 1'000'000;
  TunnelManager m(c, fake.ops());
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}}), json::object(), 0);
  m.want({{"gw-2", "default", {kDirect}}}, 0);
  settle(m, 0);
  const std::string id = m.tunnels().at(0).id;
  settle(m, kSecond, {{id, 999'999}});
  EXPECT_EQ(m.tunnels().size(), 1u);
  settle(m, kSecond, {{id, 1'000'000}});
  EXPECT_EQ(m.tunnels().size(), 2u);
  EXPECT_EQ(m.rekeys(), 1u);
}

TEST(TunnelManager, UnwantedPathsLingerThenGo) {
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}, {"gw-3", "up"}}), json::object(), 0);
  m.want({{"gw-2", "default", {kDirect, kVia3}}}, 0);
  settle(m, 0);
  m.want({{"gw-2", "default", {kDirect}}}, kSecond);
  settle(m, kSecond);
  EXPECT_EQ(m.tunnels().size(), 2u);  // lingers
  m.want({{"gw-2", "default", {kDirect, kVia3}}}, 5 * kSecond);
  settle(m, 5 * kSecond);  // back before the linger ran out: the same tunnel
  EXPECT_EQ(m.setups(), 2u);
  m.want({{"gw-2", "default", {kDirect}}}, 6 * kSecond);
  settle(m, 6 * kSecond);
  settle(m, 16 * kSecond);
  EXPECT_EQ(m.tunnels().size(), 1u);
  EXPECT_EQ(find(m, kVia3), nullptr);
  EXPECT_EQ(fake.released_spis().size(), 2u);
}

TEST(TunnelManager, ARevokedGatewaysTunnelsGoAtOnceAndAreNotRebuilt) {
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}, {"gw-3", "up"}}), json::object(), 0);
  m.want({{"gw-2", "default", {kDirect, kVia3}}}, 0);
  settle(m, 0);
  const std::uint32_t via3_out = find(m, kVia3)->out_spi;
  EXPECT_TRUE(m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}, {"gw-3", "revoked"}}), json::object(), kSecond));
  ASSERT_EQ(m.tunnels().size(), 1u);
  EXPECT_EQ(m.tunnels()[0].path, kDirect);
  EXPECT_FALSE(fake.keys.contains(via3_out));
  settle(m, 2 * kSecond);  // still wanted by a stale plan: not rebuilt through gw-3
  EXPECT_EQ(m.tunnels().size(), 1u);
  EXPECT_EQ(m.setups(), 2u);
  // The egress itself revoked: nothing to it at all.
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "revoked"}}), json::object(), 3 * kSecond);
  EXPECT_TRUE(m.tunnels().empty());
  EXPECT_TRUE(m.active([](const auto&) { return true; }).empty());
}

TEST(TunnelManager, APeersTunnelIsAcceptedAndGoesWhenReleased) {
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  const json spis = {{"8193", {{"spi", 8193}, {"from", "gw-5"}, {"to", "gw-1"}, {"path", {"gw-5", "gw-1"}}}},
                     {"8194", {{"spi", 8194}, {"from", "gw-1"}, {"to", "gw-5"}, {"path", {"gw-1", "gw-5"}}}}};
  m.set_view(gateways({{"gw-1", "up"}, {"gw-5", "up"}}), spis, 0);
  TunnelKeys k;
  k.tunnel = {8193, 8194, {"gw-5", "gw-1"}, 0};
  k.peer = "gw-5";
  m.accepted(k, 0);
  ASSERT_EQ(m.tunnels().size(), 1u);
  const ReadyTunnel& t = m.tunnels()[0];
  EXPECT_FALSE(t.own);
  EXPECT_EQ(t.egress, "gw-5");
  EXPECT_EQ(t.out_spi, 8194u);  // the reverse SA carries our answers
  EXPECT_EQ(t.in_spi, 8193u);
  const auto active = m.active([](const auto&) { return true; });
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].egress, "gw-5");
  m.set_view(gateways({{"gw-1", "up"}, {"gw-5", "up"}}), json::object(), kSecond);
  EXPECT_TRUE(m.tunnels().empty());
  EXPECT_TRUE(fake.keys.empty());
  EXPECT_TRUE(fake.released_spis().empty());  // not ours to release
  // Its SPIs handed out again for another tunnel before we heard of the
  // release (the same numbers, another path): it goes as well.
  m.set_view(gateways({{"gw-1", "up"}, {"gw-5", "up"}}), spis, 2 * kSecond);
  m.accepted(k, 2 * kSecond);
  ASSERT_EQ(m.tunnels().size(), 1u);
  json reused = spis;
  reused["8193"]["path"] = {"gw-5", "gw-3", "gw-1"};
  m.set_view(gateways({{"gw-1", "up"}, {"gw-5", "up"}}), reused, 3 * kSecond);
  EXPECT_TRUE(m.tunnels().empty());
}

TEST(TunnelManager, TheKeyServersCheckFollowsTheMeshState) {
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  const TunnelRequest req{8193, 8194, {"gw-5", "gw-3", "gw-1"}, 0};
  const json good = {
      {"8193", {{"spi", 8193}, {"from", "gw-5"}, {"to", "gw-1"}, {"path", {"gw-5", "gw-3", "gw-1"}}}},
      {"8194", {{"spi", 8194}, {"from", "gw-1"}, {"to", "gw-5"}, {"path", {"gw-1", "gw-3", "gw-5"}}}}};
  m.set_view(gateways({{"gw-1", "up"}, {"gw-5", "up"}}), json::object(), 0);
  EXPECT_NE(m.check(req, "gw-5").find("not in this gateway's mesh state"), std::string::npos);  // after 50 ms
  m.set_view(gateways({{"gw-1", "up"}, {"gw-5", "up"}}), good, 0);
  EXPECT_EQ(m.check(req, "gw-5"), "");
  EXPECT_NE(m.check(req, "gw-6"), "");  // someone else's SPIs
  TunnelRequest other = req;
  other.path = {"gw-5", "gw-1"};
  EXPECT_NE(m.check(other, "gw-5").find("another tunnel"), std::string::npos);
  m.set_view(gateways({{"gw-1", "up"}, {"gw-5", "revoked"}}), good, 0);
  EXPECT_NE(m.check(req, "gw-5").find("revoked"), std::string::npos);
  // The state arriving while the check waits (the ingress is usually faster
  // than the controller's delta to the egress).
  m.set_view(gateways({{"gw-1", "up"}, {"gw-5", "up"}}), json::object(), 0);
  std::string verdict = "unset";
  std::thread checker([&] { verdict = m.check(req, "gw-5"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  m.set_view(gateways({{"gw-1", "up"}, {"gw-5", "up"}}), good, 0);
  checker.join();
  EXPECT_EQ(verdict, "");
}

json earlier_run_spis() {
  // Our tunnel to gw-2 (both SPIs ours, allocated together), an SPI of ours
  // whose pair is gone, and gw-2's tunnel to us (neither ours, though its
  // reverse SPI goes from us).
  auto spi = [](std::uint32_t n, const char* from, const char* to, const char* by, std::int64_t at) {
    return json{{"spi", n}, {"from", from}, {"to", to}, {"path", {from, to}}, {"requested_by", by}, {"allocated_at", at}};
  };
  return {{"4097", spi(4097, "gw-1", "gw-2", "gw-1", 7)}, {"4098", spi(4098, "gw-2", "gw-1", "gw-1", 7)},
          {"4101", spi(4101, "gw-1", "gw-2", "gw-1", 5)},
          {"4099", spi(4099, "gw-2", "gw-1", "gw-2", 8)}, {"4100", spi(4100, "gw-1", "gw-2", "gw-2", 8)}};
}

TEST(TunnelManager, AnEarlierRunsTunnelIsTakenUpAgainOnItsSpisAndTheRestReleased) {
  // A restart (perhaps while the controller is away): the keys died with
  // the earlier run, the SPIs and the transits' relays did not. New keys
  // with the egress on the same SPIs, no controller needed.
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  const json spis = earlier_run_spis();
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}}), spis, 0);
  settle(m, 0);
  EXPECT_EQ(fake.exchanges, 1);
  ASSERT_EQ(m.tunnels().size(), 1u);
  EXPECT_EQ(m.tunnels()[0].out_spi, 4097u);
  EXPECT_EQ(m.tunnels()[0].in_spi, 4098u);
  EXPECT_TRUE(fake.keys.contains(4097) && fake.keys.contains(4098));
  EXPECT_EQ(fake.released_spis(), (std::vector<std::uint32_t>{4101}));  // the orphan only
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}}), spis, 1);
  settle(m, 1);
  EXPECT_EQ(fake.released_spis().size(), 1u);  // once
}

TEST(TunnelManager, AnEarlierRunsTunnelThatCannotBeTakenUpIsReleasedLater) {
  FakeMesh fake;
  fake.fail_exchanges = 1;  // the egress is away too
  TunnelManager m(config(), fake.ops());
  const json spis = earlier_run_spis();
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}}), spis, 0);
  settle(m, 0);
  EXPECT_TRUE(m.tunnels().empty());
  EXPECT_EQ(fake.released_spis(), (std::vector<std::uint32_t>{4101}));
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}}), spis, kSecond);
  settle(m, kSecond);
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}}), spis, 32 * kSecond);
  settle(m, 32 * kSecond);
  auto released = fake.released_spis();
  std::sort(released.begin(), released.end());
  EXPECT_EQ(released, (std::vector<std::uint32_t>{4097, 4098, 4101}));
}

TEST(TunnelManager, NewKeysOnTheSameSpisWhenTheControllerCannotGiveNewOnes) {
  // Our tunnel died end to end (its egress restarted) and the controller is
  // away: the successor is the same tunnel with new keys and a new key
  // generation (the data plane makes new SAs), not nothing.
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}}), json::object(), 0);
  m.want({{"gw-2", "default", {kDirect}}}, 0);
  settle(m, 0);
  const ReadyTunnel before = m.tunnels().at(0);
  m.set_dead(before.id, true);
  m.rekey_dead(before.id, "test");
  fake.fail_allocations = 1;
  settle(m, kSecond);
  ASSERT_EQ(m.tunnels().size(), 1u);
  const ReadyTunnel& after = m.tunnels()[0];
  EXPECT_EQ(after.id, before.id);
  EXPECT_EQ(after.out_spi, before.out_spi);
  EXPECT_EQ(after.key_generation, before.key_generation + 1);
  EXPECT_FALSE(after.dead);
  EXPECT_FALSE(after.rekey_now);
  EXPECT_EQ(fake.replaced, 2) << "both SAs' keys replaced";
  EXPECT_TRUE(fake.released_spis().empty());
}

TEST(TunnelManager, AReleaseThatFailsIsRetried) {
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}, {"gw-3", "up"}}), json::object(), 0);
  m.want({{"gw-2", "default", {kDirect, kVia3}}}, 0);
  settle(m, 0);
  fake.fail_releases = 2;  // the controller is away when the backup is given up
  m.want({{"gw-2", "default", {kDirect}}}, kSecond);
  settle(m, kSecond);
  settle(m, 12 * kSecond);
  EXPECT_TRUE(fake.released_spis().empty());
  settle(m, 18 * kSecond);  // retried 5 s later
  EXPECT_EQ(fake.released_spis().size(), 2u);
}

TEST(TunnelManager, OurTunnelWhoseSpisTheControllerDroppedIsSetUpAgain) {
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  const json gws = gateways({{"gw-1", "up"}, {"gw-2", "up"}});
  m.set_view(gws, json::object(), 0);
  m.want({{"gw-2", "default", {kDirect}}}, 0);
  settle(m, 0);
  const ReadyTunnel first = m.tunnels().at(0);
  auto listed = [&](const ReadyTunnel& t) {
    return json{{std::to_string(t.out_spi), {{"spi", t.out_spi}, {"requested_by", "gw-1"}, {"path", t.path}}},
                {std::to_string(t.in_spi), {{"spi", t.in_spi}, {"requested_by", "gw-1"}, {"path", {"gw-2", "gw-1"}}}}};
  };
  EXPECT_FALSE(m.set_view(gws, json::object(), kSecond));  // not listed yet: too early to tell
  EXPECT_FALSE(m.set_view(gws, listed(first), 2 * kSecond));
  EXPECT_TRUE(m.set_view(gws, json::object(), 6 * kSecond));  // then gone from the state
  EXPECT_TRUE(m.tunnels().empty());
  EXPECT_FALSE(fake.keys.contains(first.out_spi));
  settle(m, 6 * kSecond);
  ASSERT_EQ(m.tunnels().size(), 1u);  // set up again, on new SPIs
  EXPECT_NE(m.tunnels()[0].out_spi, first.out_spi);
}

TEST(TunnelManager, APeersTunnelsAreRankedByOurPathsWhenItSetsThemUp) {
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  auto spi = [](std::uint32_t n, std::vector<std::string> path) {
    return json{{"spi", n}, {"from", path.front()}, {"to", path.back()}, {"path", path}, {"requested_by", "gw-5"}};
  };
  const json spis = {{"8193", spi(8193, {"gw-5", "gw-1"})}, {"8194", spi(8194, {"gw-1", "gw-5"})},
                     {"8195", spi(8195, {"gw-5", "gw-3", "gw-1"})}, {"8196", spi(8196, {"gw-1", "gw-3", "gw-5"})}};
  m.set_view(gateways({{"gw-1", "up"}, {"gw-3", "up"}, {"gw-5", "up"}}), spis, 0);
  TunnelKeys direct, via3;
  direct.tunnel = {8193, 8194, {"gw-5", "gw-1"}, 0};
  direct.peer = "gw-5";
  via3.tunnel = {8195, 8196, {"gw-5", "gw-3", "gw-1"}, 0};
  via3.peer = "gw-5";
  m.accepted(direct, 0);
  m.accepted(via3, kSecond);  // newer
  TunnelWant w{"gw-5", "default", {{"gw-1", "gw-5"}, {"gw-1", "gw-3", "gw-5"}}};
  w.set_up = false;  // gw-5 is behind a NAT: it sets them up
  m.want({w}, kSecond);
  settle(m, 2 * kSecond);
  EXPECT_EQ(fake.exchanges.load(), 0);  // nothing asked for
  auto all = [](const std::vector<std::string>&) { return true; };
  ASSERT_EQ(m.active(all).size(), 1u);
  EXPECT_EQ(m.active(all)[0].tunnel, "t00002002");  // the direct one (reverse SPI 8194), our primary
  auto direct_cut = [](const std::vector<std::string>& p) { return p.size() != 2; };
  EXPECT_EQ(m.active(direct_cut)[0].tunnel, "t00002004");
}

}  // namespace

TEST(TunnelManager, ADeadTunnelIsUsedLastAndSetUpAgainUnlessItRecovers) {
  FakeMesh fake;
  TunnelManager m(config(), fake.ops());
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}, {"gw-3", "up"}}), json::object(), 0);
  m.want({{"gw-2", "default", {kDirect, kVia3}}}, 0);
  settle(m, 0);
  const ReadyTunnel direct = *find(m, kDirect);
  const ReadyTunnel via3 = *find(m, kVia3);
  auto all = [](const std::vector<std::string>&) { return true; };
  auto nothing = [](const std::vector<std::string>&) { return false; };
  // Its end-to-end probes stopped though its links are up: the backup carries.
  EXPECT_TRUE(m.set_dead(direct.id, true));
  EXPECT_FALSE(m.set_dead(direct.id, true));  // no change
  EXPECT_EQ(m.active(all)[0].tunnel, via3.id);
  EXPECT_TRUE(m.set_dead(via3.id, true));
  EXPECT_EQ(m.active(all)[0].tunnel, direct.id) << "everything dead: the primary, rather than nothing";
  EXPECT_EQ(m.active(nothing)[0].tunnel, direct.id);
  // A rekey for the dead direct tunnel, called off when it answers again.
  m.rekey_dead(direct.id, "test");
  EXPECT_TRUE(m.set_dead(direct.id, false));
  settle(m, kSecond);
  EXPECT_EQ(m.tunnels().size(), 2u) << "no successor for a tunnel that recovered";
  EXPECT_EQ(m.active(all)[0].tunnel, direct.id);
  // Dead again, and it stays so: a successor on new SPIs replaces it.
  m.set_dead(direct.id, true);
  m.rekey_dead(direct.id, "test");
  settle(m, 2 * kSecond);
  const ReadyTunnel* next = find(m, kDirect);
  ASSERT_TRUE(next);
  EXPECT_NE(next->out_spi, direct.out_spi);
  EXPECT_FALSE(next->dead);
  EXPECT_EQ(m.active([&](const std::vector<std::string>&) { return true; })[0].tunnel, next->id);
  m.rekey_dead(via3.id + "x", "no such tunnel");  // ignored
}

TEST(TunnelManager, WithEndToEndProbesANewMultiHopTunnelSettlesWhenAProbeIsAnswered) {
  FakeMesh fake;
  TunnelManagerConfig c = config();
  c.settle_needs_probe = true;
  TunnelManager m(c, fake.ops());
  m.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}, {"gw-3", "up"}}), json::object(), 0);
  m.want({{"gw-2", "default", {kDirect}}}, 0);
  settle(m, 0);
  auto all = [](const std::vector<std::string>&) { return true; };
  const std::string direct = find(m, kDirect)->id;
  // The better path moves to three hops: its tunnel carries traffic only
  // once a probe through it came back (the transit's relay is in place),
  // or after settle_max_ns at the latest.
  m.want({{"gw-2", "default", {kVia3, kDirect}}}, kSecond);
  settle(m, kSecond);
  const std::string via3 = find(m, kVia3)->id;
  m.poll(kSecond + 500'000'000);
  EXPECT_EQ(m.active(all)[0].tunnel, direct) << "not answered yet";
  m.answered(via3);
  m.poll(kSecond + 600'000'000);
  EXPECT_EQ(m.active(all)[0].tunnel, via3);
  // Never answered: it settles after settle_max_ns all the same.
  TunnelManager n(c, fake.ops());
  n.set_view(gateways({{"gw-1", "up"}, {"gw-2", "up"}, {"gw-3", "up"}}), json::object(), 0);
  n.want({{"gw-2", "default", {kDirect}}}, 0);
  settle(n, 0);
  n.want({{"gw-2", "default", {kVia3, kDirect}}}, kSecond);
  settle(n, kSecond);
  n.poll(3 * kSecond);
  EXPECT_NE(n.active(all)[0].tunnel, find(n, kVia3)->id);
  n.poll(4 * kSecond + 1);
  EXPECT_EQ(n.active(all)[0].tunnel, find(n, kVia3)->id);
}
