// SPDX-License-Identifier: BSD-3-Clause
// Registration end to end with a real CA and real CSRs: the certificate a
// gateway gets verifies against the CA and names the assigned ID and the
// token's role; wrong, expired and used-up tokens, a core role asked with an
// edge token, a bad CSR; bearer tokens; renewal, revocation, eviction.
#include "controlplane/controller/registry.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "controlplane/controller/sqlite_storage.hpp"
#include "controlplane/controller/tokens.hpp"
#include "temp_dir.hpp"

using namespace meshgw::controller;
namespace pki = meshgw::crypto::pki;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;

struct Fixture : ::testing::Test {
  meshgw::test::TempDir dir;
  SqliteStorage storage{dir.file("state.db")};
  MeshCa ca = [this] {
    MeshCa::init(dir.path(), {}, kNow);
    return MeshCa(dir.path());
  }();
  Registry registry{storage, ca, {}};
  pki::PrivateKey gw_key = pki::PrivateKey::generate_p256();
  std::string csr = pki::make_csr(gw_key, "my-laptop");

  std::string join_token(Role role, std::int64_t uses = 1, std::int64_t lifetime = 3600) {
    TokenRequest r;
    r.role = role;
    r.uses = uses;
    r.lifetime_s = lifetime;
    r.site = "chi";
    return registry.create_token(r, kNow).text;
  }
  RegistryError::Kind refusal(const std::string& token, std::optional<Role> role = std::nullopt,
                              std::int64_t at = kNow) {
    try {
      registry.register_gateway(token, csr, role, at);
    } catch (const RegistryError& e) {
      return e.kind();
    }
    ADD_FAILURE() << "registration was accepted";
    return RegistryError::Kind::conflict;
  }
};

TEST_F(Fixture, CaFilesArePrivateAndInitRefusesToOverwrite) {
  for (const char* f : {"ca.key", "server.key"}) {
    struct stat st {};
    ASSERT_EQ(::stat(dir.file(f).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  EXPECT_ANY_THROW(MeshCa::init(dir.path(), {}, kNow));
  std::ifstream in(dir.file("server.pem"));
  const std::string server_pem{std::istreambuf_iterator<char>(in), {}};
  EXPECT_NO_THROW(pki::verify_certificate(server_pem, ca.ca_pem(), kNow));
}

TEST_F(Fixture, RegistrationIssuesACertificateNamingTheAssignedId) {
  const Registration r = registry.register_gateway(join_token(Role::edge), csr, Role::edge, kNow);
  EXPECT_EQ(r.gateway.id, "gw-1");
  EXPECT_EQ(r.gateway.role, Role::edge);
  EXPECT_EQ(r.gateway.site, "chi");
  EXPECT_EQ(r.gateway.beacon_key.size(), 32u);
  EXPECT_EQ(r.ca_pem, ca.ca_pem());
  pki::verify_certificate(r.certificate_pem, r.ca_pem, kNow);
  const pki::CertificateInfo info = pki::inspect_certificate(r.certificate_pem);
  EXPECT_EQ(info.common_name, "gw-1");  // not the CSR's "my-laptop"
  EXPECT_EQ(info.role, "edge");
  EXPECT_EQ(info.serial_hex, r.gateway.cert_serial);
  EXPECT_EQ(info.not_after, kNow + 86400);
  EXPECT_EQ(storage.gateway("gw-1"), r.gateway);
  EXPECT_EQ(r.event.kind, "joined");
  // IDs are never reused.
  EXPECT_EQ(registry.register_gateway(join_token(Role::edge), csr, std::nullopt, kNow).gateway.id, "gw-2");
}

TEST_F(Fixture, BadTokensAreRefused) {
  using K = RegistryError::Kind;
  EXPECT_EQ(refusal("not a token"), K::unauthorized);
  const std::string good = join_token(Role::edge, 1);
  std::string wrong_secret = good;
  wrong_secret.back() = wrong_secret.back() == '0' ? '1' : '0';
  EXPECT_EQ(refusal(wrong_secret), K::unauthorized);
  EXPECT_EQ(refusal(join_token(Role::edge, 1, 60), std::nullopt, kNow + 61), K::unauthorized);  // expired
  registry.register_gateway(good, csr, std::nullopt, kNow);
  EXPECT_EQ(refusal(good), K::unauthorized);  // used up
  EXPECT_EQ(refusal(join_token(Role::edge), Role::core), K::forbidden);
  EXPECT_EQ(refusal(join_token(Role::transit), Role::edge), K::forbidden);
  TokenRequest admin;
  admin.kind = TokenKind::admin;
  EXPECT_EQ(refusal(registry.create_token(admin, kNow).text), K::unauthorized);  // not a join token
  EXPECT_EQ(storage.gateways().size(), 1u);  // only the one good registration
}

TEST_F(Fixture, CoreTokenAdmitsACore) {
  const Registration r = registry.register_gateway(join_token(Role::core, 2), csr, Role::core, kNow);
  EXPECT_EQ(pki::inspect_certificate(r.certificate_pem).role, "core");
}

TEST_F(Fixture, BadCsrIsABadRequestAndTakesNoUse) {
  const std::string token = join_token(Role::edge, 1);
  try {
    registry.register_gateway(token, "-----BEGIN CERTIFICATE REQUEST-----\nxx\n", std::nullopt, kNow);
    FAIL();
  } catch (const RegistryError& e) {
    EXPECT_EQ(e.kind(), RegistryError::Kind::bad_request);
    EXPECT_NE(std::string(e.what()).find("csr:"), std::string::npos);
  }
  EXPECT_NO_THROW(registry.register_gateway(token, csr, std::nullopt, kNow));
}

TEST_F(Fixture, BearerTokens) {
  TokenRequest admin;
  admin.kind = TokenKind::admin;
  admin.lifetime_s = 0;
  const CreatedToken a = registry.create_token(admin, kNow);
  EXPECT_EQ(registry.authenticate(a.text, kNow + 1'000'000)->kind, TokenKind::admin);
  EXPECT_FALSE(registry.authenticate(join_token(Role::edge), kNow));  // a join token is no bearer token
  TokenRequest ro;
  ro.kind = TokenKind::read_only;
  ro.lifetime_s = 10;
  const CreatedToken r = registry.create_token(ro, kNow);
  EXPECT_EQ(registry.authenticate(r.text, kNow)->kind, TokenKind::read_only);
  EXPECT_FALSE(registry.authenticate(r.text, kNow + 10));
  // Only the hash is stored.
  for (const TokenRecord& t : storage.tokens()) EXPECT_EQ(a.text.find(t.secret_hash), std::string::npos);
  registry.delete_token(a.record.id);
  EXPECT_FALSE(registry.authenticate(a.text, kNow));
}

TEST_F(Fixture, RenewRevokeEvict) {
  const Registration r = registry.register_gateway(join_token(Role::edge), csr, std::nullopt, kNow);
  const pki::PrivateKey new_key = pki::PrivateKey::generate_p256();
  const Registration renewed = registry.renew(r.gateway.id, pki::make_csr(new_key, "x"), kNow + 80000);
  EXPECT_NE(renewed.gateway.cert_serial, r.gateway.cert_serial);
  EXPECT_EQ(pki::inspect_certificate(renewed.certificate_pem).not_after, kNow + 80000 + 86400);
  EXPECT_EQ(storage.gateway(r.gateway.id)->cert_serial, renewed.gateway.cert_serial);
  EXPECT_EQ(registry.revoke(r.gateway.id, kNow + 80001).kind, "revoked");
  EXPECT_EQ(storage.gateway(r.gateway.id)->status, GatewayStatus::revoked);
  EXPECT_THROW(registry.renew(r.gateway.id, csr, kNow + 80002), RegistryError);
  EXPECT_THROW(registry.revoke(r.gateway.id, kNow + 80002), RegistryError);
  EXPECT_EQ(registry.evict(r.gateway.id, kNow + 80003, "operator").kind, "left");
  EXPECT_FALSE(storage.gateway(r.gateway.id));
  EXPECT_THROW(registry.evict(r.gateway.id, kNow, ""), RegistryError);
}

TEST(Tokens, FormatAndConstantTimeMatch) {
  const NewToken t = make_token();
  const auto p = parse_token(t.text);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, t.id);
  EXPECT_TRUE(secret_matches(p->secret, t.secret_hash));
  EXPECT_FALSE(secret_matches(p->secret + "0", t.secret_hash));
  EXPECT_FALSE(parse_token(t.text + "0"));
  EXPECT_FALSE(parse_token(std::string(t.text).replace(16, 1, ":")));
  EXPECT_FALSE(parse_token(std::string(t.text).replace(3, 1, "G")));
  EXPECT_NE(make_token().text, t.text);
}

}  // namespace
