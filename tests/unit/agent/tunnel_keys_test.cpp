// SPDX-License-Identifier: BSD-3-Clause
// End-to-end tunnel keys over real mTLS 1.3 on loopback with certificates
// from a test mesh CA: both ends derive the same two SAs' keys, distinct per
// SPI; a server that is not the path's egress, a path that does not start at
// the client, a request the egress's check refuses, a certificate from
// another CA and a malformed request all give no keys. Through meshctld's
// key relay (an egress behind a NAT parks a connection there): the same
// keys at both ends, and an egress that is not waiting, or a revoked
// client, gets none; a flood of silent connections does not lock gateways
// out of the relay.
#include "controlplane/agent/tunnel_keys.hpp"
#include "controlplane/common/tls_stream.hpp"
#include "controlplane/controller/key_relay.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <future>
#include <set>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "../controller/temp_dir.hpp"
#include "crypto/pki.hpp"

using namespace meshgw;
using namespace meshgw::agent;
namespace pki = meshgw::crypto::pki;

namespace {

struct Mesh {
  test::TempDir dir;
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  pki::PrivateKey ca_key = pki::PrivateKey::generate_p256();
  std::string ca = pki::make_ca_certificate(ca_key, "test CA", now, 86400);
  Mesh() { std::ofstream(dir.file("ca.pem")) << ca; }

  TlsIdentity gateway(const std::string& id, const pki::PrivateKey& issuer_key, const std::string& issuer_cert,
                      const std::string& tag = "") {
    const pki::PrivateKey key = pki::PrivateKey::generate_p256();
    pki::IssueRequest r;
    r.public_key_pem = key.public_pem();
    r.common_name = id;
    r.role = "core";
    r.server_auth = r.client_auth = true;
    r.not_before = now - 60;
    r.not_after = now + 3600;
    const std::string name = id + tag;
    std::ofstream(dir.file(name + ".pem")) << pki::issue_certificate(issuer_key, issuer_cert, r);
    std::ofstream(dir.file(name + ".key")) << key.pem();
    return {dir.file(name + ".pem"), dir.file(name + ".key"), dir.file("ca.pem")};
  }
  TlsIdentity gateway(const std::string& id) { return gateway(id, ca_key, ca); }
};

std::vector<std::unique_ptr<TunnelKeys>> wait_take(TunnelKeyServer& s) {
  for (int i = 0; i < 100; ++i) {
    auto k = s.take();
    if (!k.empty()) return k;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {};
}

bool same(const crypto::SaKeyMaterial& a, const crypto::SaKeyMaterial& b) {
  return std::memcmp(a.key.data(), b.key.data(), a.key.size()) == 0 &&
         std::memcmp(a.salt.data(), b.salt.data(), a.salt.size()) == 0;
}

// The ingress's side in a thread of its own: it returns once the egress
// says its data plane holds the SAs.
std::future<TunnelKeys> ask(const TlsIdentity& me, std::uint16_t port, const TunnelRequest& t) {
  return std::async(std::launch::async, [=] { return request_tunnel_keys(me, "127.0.0.1", port, t); });
}

TEST(TunnelKeys, BothEndsDeriveTheSameKeys) {
  Mesh m;
  TunnelKeyServer server(m.gateway("gw-2"), "gw-2", "127.0.0.1", 0, nullptr);
  const TunnelRequest t{0x1001, 0x2001, {"gw-1", "gw-3", "gw-2"}, 1};
  auto pending = ask(m.gateway("gw-1"), server.port(), t);
  auto agreed = wait_take(server);
  ASSERT_EQ(agreed.size(), 1u);
  EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);  // not installed yet
  server.installed(0x1001);
  const TunnelKeys client = pending.get();
  EXPECT_EQ(client.peer, "gw-2");
  EXPECT_EQ(agreed[0]->peer, "gw-1");
  EXPECT_EQ(agreed[0]->tunnel, t);
  EXPECT_TRUE(same(client.forward, agreed[0]->forward));
  EXPECT_TRUE(same(client.reverse, agreed[0]->reverse));
  EXPECT_FALSE(same(client.forward, client.reverse));  // one key per SPI
  // A rekey (next epoch) gives other keys.
  TunnelRequest next = t;
  next.epoch = 2;
  auto again = ask(m.gateway("gw-1", m.ca_key, m.ca, "b"), server.port(), next);
  EXPECT_EQ(wait_take(server).size(), 1u);
  server.installed(0x1001);
  EXPECT_FALSE(same(again.get().forward, client.forward));
}

TEST(TunnelKeys, ATunnelTheEgressCannotInstallIsAFailure) {
  Mesh m;
  TunnelKeyServer server(m.gateway("gw-2"), "gw-2", "127.0.0.1", 0, nullptr);
  server.install_timeout_ms = 200;
  auto refused = ask(m.gateway("gw-1"), server.port(), {0x1001, 0x2001, {"gw-1", "gw-2"}, 0});
  EXPECT_EQ(wait_take(server).size(), 1u);
  server.installed(0x1001, false);
  EXPECT_THROW(refused.get(), std::runtime_error);
  auto timed_out = ask(m.gateway("gw-1"), server.port(), {0x1003, 0x2003, {"gw-1", "gw-2"}, 0});
  EXPECT_EQ(wait_take(server).size(), 1u);  // and never confirmed
  EXPECT_THROW(timed_out.get(), std::runtime_error);
}

TEST(TunnelKeys, RefusalsGiveNoKeys) {
  Mesh m;
  TunnelKeyServer server(m.gateway("gw-2"), "gw-2", "127.0.0.1", 0,
                         [](const TunnelRequest& t, const std::string&) {
                           return t.forward_spi == 0x6666 ? std::string("SPI 0x6666 is not allocated to this path") : "";
                         });
  const TlsIdentity me = m.gateway("gw-1");
  // The server is not the egress the client expects.
  EXPECT_THROW(request_tunnel_keys(me, "127.0.0.1", server.port(), {0x1001, 0x2001, {"gw-1", "gw-9"}, 1}),
               std::runtime_error);
  // The path does not start at the client.
  try {
    request_tunnel_keys(me, "127.0.0.1", server.port(), {0x1001, 0x2001, {"gw-7", "gw-2"}, 1});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("starts at gw-7"), std::string::npos) << e.what();
  }
  // The egress's own check.
  try {
    request_tunnel_keys(me, "127.0.0.1", server.port(), {0x6666, 0x2001, {"gw-1", "gw-2"}, 1});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not allocated"), std::string::npos) << e.what();
  }
  // Malformed: both directions on one SPI.
  EXPECT_THROW(request_tunnel_keys(me, "127.0.0.1", server.port(), {0x1001, 0x1001, {"gw-1", "gw-2"}, 1}),
               std::runtime_error);
  // A certificate from another mesh's CA: no handshake.
  const pki::PrivateKey other_key = pki::PrivateKey::generate_p256();
  const std::string other_ca = pki::make_ca_certificate(other_key, "other CA", m.now, 86400);
  TlsIdentity foreign = m.gateway("gw-1", other_key, other_ca, "-foreign");
  EXPECT_THROW(request_tunnel_keys(foreign, "127.0.0.1", server.port(), {0x1001, 0x2001, {"gw-1", "gw-2"}, 1}),
               std::runtime_error);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(server.take().empty());
  EXPECT_GE(server.refused(), 4u);
  EXPECT_THROW(request_tunnel_keys(me, "127.0.0.1", 1, {0x1001, 0x2001, {"gw-1", "gw-2"}, 1}, 500), std::runtime_error);
}

TEST(TunnelKeys, ThroughTheKeyRelay) {
  Mesh m;
  const TlsIdentity relay_id = m.gateway("meshctld");
  std::set<std::string> revoked = {"gw-6"};
  controller::KeyRelay relay({relay_id.cert_file, relay_id.key_file, relay_id.ca_file}, "127.0.0.1", 0,
                             [&](const std::string& id, const std::string&) { return !revoked.contains(id); });
  TunnelKeyServer server(m.gateway("gw-2"), "gw-2", "127.0.0.1", 0, nullptr);
  // Not parked yet: the relay says so.
  const TunnelRequest t{0x1001, 0x2001, {"gw-1", "gw-3", "gw-2"}, 0};
  try {
    request_tunnel_keys_relayed(m.gateway("gw-1"), "127.0.0.1", relay.port(), t);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not waiting"), std::string::npos) << e.what();
  }
  server.park_at("127.0.0.1", relay.port());
  for (int i = 0; i < 200 && !server.parked(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(server.parked());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the relay has read the wait line
  auto pending = std::async(std::launch::async,
                            [&] { return request_tunnel_keys_relayed(m.gateway("gw-1"), "127.0.0.1", relay.port(), t); });
  auto agreed = wait_take(server);
  ASSERT_EQ(agreed.size(), 1u);
  server.installed(0x1001);
  const TunnelKeys client = pending.get();
  EXPECT_EQ(client.peer, "gw-2");
  EXPECT_EQ(agreed[0]->peer, "gw-1");
  EXPECT_TRUE(same(client.forward, agreed[0]->forward));
  EXPECT_TRUE(same(client.reverse, agreed[0]->reverse));
  EXPECT_EQ(relay.spliced(), 1u);
  // The server parks again for the next one; a revoked client is refused.
  for (int i = 0; i < 200 && !server.parked(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_THROW(request_tunnel_keys_relayed(m.gateway("gw-6"), "127.0.0.1", relay.port(), {0x1003, 0x2003, {"gw-6", "gw-2"}, 0}),
               std::runtime_error);
  EXPECT_EQ(relay.spliced(), 1u);
}

TEST(TunnelKeys, SilentConnectionsDoNotLockGatewaysOutOfTheKeyRelay) {
  // 100 connections that never start a handshake (more than the relay's
  // handshake budget): a gateway still parks, and another still reaches it.
  Mesh m;
  const TlsIdentity relay_id = m.gateway("meshctld");
  controller::KeyRelay relay({relay_id.cert_file, relay_id.key_file, relay_id.ca_file}, "127.0.0.1", 0,
                             [](const std::string&, const std::string&) { return true; });
  std::vector<int> silent;
  for (int i = 0; i < 100; ++i) silent.push_back(common::connect_tcp("127.0.0.1", relay.port(), 5000, "test"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all accepted
  EXPECT_GE(relay.evicted(), 60u);
  TunnelKeyServer server(m.gateway("gw-2"), "gw-2", "127.0.0.1", 0, nullptr);
  server.park_at("127.0.0.1", relay.port());
  for (int i = 0; i < 200 && !server.parked(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(server.parked());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const TunnelRequest t{0x1001, 0x2001, {"gw-1", "gw-2"}, 0};
  auto pending = std::async(std::launch::async,
                            [&] { return request_tunnel_keys_relayed(m.gateway("gw-1"), "127.0.0.1", relay.port(), t); });
  ASSERT_EQ(wait_take(server).size(), 1u);
  server.installed(0x1001);
  EXPECT_EQ(pending.get().peer, "gw-2");
  for (const int fd : silent) ::close(fd);
}

TEST(TunnelKeys, ASilentClientDoesNotHoldTheServer) {
  Mesh m;
  TunnelKeyServer server(m.gateway("gw-2"), "gw-2", "127.0.0.1", 0, nullptr);
  // Connects and says nothing (a handshake never started).
  const int idle = common::connect_tcp("127.0.0.1", server.port(), 1000, "test");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto start = std::chrono::steady_clock::now();
  auto pending = ask(m.gateway("gw-1"), server.port(), {0x1001, 0x2001, {"gw-1", "gw-2"}, 0});
  ASSERT_EQ(wait_take(server).size(), 1u);
  server.installed(0x1001);
  EXPECT_EQ(pending.get().peer, "gw-2");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ::close(idle);
}

}  // namespace
