// SPDX-License-Identifier: BSD-3-Clause
// SqliteStorage: round trips of every record, migrations and a refused newer
// schema, the token-use transaction, SPI allocation, file modes, and the
// SIGKILL test: a child process makes acknowledged writes as fast as it can
// and is killed in the middle; every write it acknowledged is there after.
#include "controlplane/controller/sqlite_storage.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "temp_dir.hpp"

using namespace meshgw::controller;
using meshgw::test::TempDir;

namespace {

GatewayRecord sample_gateway(const std::string& id) {
  GatewayRecord g;
  g.id = id;
  g.role = Role::transit;
  g.status = GatewayStatus::up;
  g.ephemeral = true;
  g.site = "ord";
  g.region = "us-central";
  g.cert_serial = "0123abcd";
  g.public_key_sha256 = std::string(64, 'e');
  g.cert_not_after = 1'900'000'000;
  g.beacon_key = std::vector<std::uint8_t>(32, 0x5a);
  g.registered_at = 1'800'000'000;
  g.status_since = 1'800'000'100;
  g.sites = {"192.0.2.0/24", "fd00:1::/64"};
  return g;
}

TokenRecord sample_token(const std::string& id, std::int64_t uses) {
  TokenRecord t;
  t.id = id;
  t.secret_hash = std::string(64, 'a');
  t.kind = TokenKind::join;
  t.role = Role::core;
  t.created_at = 10;
  t.expires_at = 20;
  t.uses_left = uses;
  t.site = "chi";
  t.description = "for the Chicago core";
  return t;
}

TEST(SqliteStorage, RecordsRoundTripAndSurviveReopen) {
  TempDir dir;
  const GatewayRecord g = sample_gateway("gw-1");
  const TokenRecord t = sample_token("00112233aabbccdd", 3);
  {
    SqliteStorage s(dir.file("state.db"));
    EXPECT_EQ(s.schema_version(), SqliteStorage::latest_schema_version());
    s.put_gateway(g);
    s.put_token(t);
    s.put_setting("policy", "{}");
    EXPECT_EQ(s.append_event({0, 5, "joined", "gw-1", "edge"}).seq, 1u);
    EXPECT_EQ(s.next_counter("gateway_id"), 1u);
    EXPECT_EQ(s.next_counter("gateway_id"), 2u);
  }
  SqliteStorage s(dir.file("state.db"));
  EXPECT_EQ(s.gateway("gw-1"), g);
  EXPECT_EQ(s.token(t.id), t);
  EXPECT_EQ(s.setting("policy"), "{}");
  EXPECT_FALSE(s.setting("nope"));
  EXPECT_FALSE(s.gateway("gw-2"));
  ASSERT_EQ(s.events(0, 10).size(), 1u);
  EXPECT_EQ(s.events(0, 10)[0], (EventRecord{1, 5, "joined", "gw-1", "edge"}));
  EXPECT_EQ(s.next_counter("gateway_id"), 3u);
  s.delete_gateway("gw-1");
  EXPECT_TRUE(s.gateways().empty());
}

TEST(SqliteStorage, FileIsPrivateAndAPublicOneIsRefused) {
  TempDir dir;
  { SqliteStorage s(dir.file("state.db")); }
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("state.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ::chmod(dir.file("state.db").c_str(), 0644);
  EXPECT_THROW(SqliteStorage(dir.file("state.db")), StorageError);
}

TEST(SqliteStorage, MigratesAnOldFileAndRefusesANewerOne) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  {
    // A version-1 file, as the first meshctld wrote it: migration 2 adds the
    // SPI table when it is opened.
    SqliteStorage s(path);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE spis; DROP INDEX events_by_gateway; ALTER TABLE gateways DROP COLUMN sites; "
                             "PRAGMA user_version=1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  {
    SqliteStorage s(path);
    EXPECT_EQ(s.schema_version(), SqliteStorage::latest_schema_version());
    EXPECT_EQ(s.allocate_spi({0, "gw-1", "gw-2", "gw-1>gw-2", 1}, 0x1000).spi, 0x1000u);
  }
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    SqliteStorage s(path);
    FAIL() << "a newer schema opened";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99 is newer"), std::string::npos) << e.what();
  }
}

TEST(SqliteStorage, RegistrationTakesExactlyTheTokensUses) {
  TempDir dir;
  SqliteStorage s(dir.file("state.db"));
  s.put_token(sample_token("t2", 2));
  s.register_gateway("t2", sample_gateway("gw-1"), {0, 1, "joined", "gw-1", ""});
  EXPECT_EQ(s.token("t2")->uses_left, 1);
  s.register_gateway("t2", sample_gateway("gw-2"), {0, 2, "joined", "gw-2", ""});
  EXPECT_EQ(s.token("t2")->uses_left, 0);
  EXPECT_THROW(s.register_gateway("t2", sample_gateway("gw-3"), {0, 3, "joined", "gw-3", ""}), ConflictError);
  EXPECT_FALSE(s.gateway("gw-3"));  // nothing of a refused registration is written
  EXPECT_EQ(s.events(0, 10).size(), 2u);
  s.put_token(sample_token("unlimited", -1));
  for (int i = 0; i < 3; ++i)
    s.register_gateway("unlimited", sample_gateway("gw-u" + std::to_string(i)), {0, 4, "joined", "", ""});
  EXPECT_EQ(s.token("unlimited")->uses_left, -1);
  EXPECT_THROW(s.register_gateway("missing", sample_gateway("gw-9"), {0, 5, "joined", "gw-9", ""}), ConflictError);
  // An existing ID is refused and the use is not taken.
  EXPECT_THROW(s.register_gateway("unlimited", sample_gateway("gw-1"), {0, 6, "joined", "gw-1", ""}), ConflictError);
}

TEST(SqliteStorage, SpisAreUniqueAndNotReusedUntilTheSpaceWraps) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  {
    SqliteStorage s(path);
    std::set<std::uint32_t> seen;
    for (int i = 0; i < 50; ++i) seen.insert(s.allocate_spi({0, "a", "b", "a>b", 0}, 0x1000).spi);
    EXPECT_EQ(seen.size(), 50u);
    EXPECT_EQ(*seen.begin(), 0x1000u);
    EXPECT_EQ(*seen.rbegin(), 0x1000u + 49);
    // A released SPI is not handed out again at once (a transit may still
    // hold the old tunnel's relay entry): the count goes on.
    s.release_spi(0x1005);
    EXPECT_EQ(s.allocate_spi({0, "c", "d", "c>d", 0}, 0x1000).spi, 0x1000u + 50);
    EXPECT_EQ(s.spis().size(), 50u);
  }
  {
    SqliteStorage s(path);  // the count survives a restart
    EXPECT_EQ(s.allocate_spi({0, "c", "d", "c>d", 0}, 0x1000).spi, 0x1000u + 51);
    // At the top of the space it wraps to the lowest free one (0x1005).
    EXPECT_EQ(s.allocate_spi({0, "c", "d", "", 0}, 0xffffffffu).spi, 0xffffffffu);
    EXPECT_EQ(s.allocate_spi({0, "c", "d", "", 0}, 0x1000).spi, 0x1005u);
    EXPECT_EQ(s.allocate_spi({0, "c", "d", "", 0}, 0x1000).spi, 0x1006u + 46);
    EXPECT_THROW(s.allocate_spi({0, "c", "d", "", 0}, 0xffffffffu), ConflictError);
  }
}

// The child writes gateway after gateway, each in its own acknowledged call,
// and reports each acknowledgement through a pipe; the parent kills it with
// SIGKILL after a number of them and checks every acknowledged one survived.
TEST(SqliteStorage, AcknowledgedWritesSurviveSigkill) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  { SqliteStorage s(path); }
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    SqliteStorage s(path, SqliteStorage::Sync::normal);
    for (std::uint32_t i = 0;; ++i) {
      GatewayRecord g = sample_gateway("gw-" + std::to_string(i));
      s.put_gateway_with_event(g, {0, i, "joined", g.id, ""});
      if (::write(fds[1], &i, sizeof i) != sizeof i) ::_exit(1);
    }
  }
  ::close(fds[1]);
  std::uint32_t acked = 0, last = 0;
  bool any = false;
  while (acked < 300) {
    std::uint32_t i;
    if (::read(fds[0], &i, sizeof i) != sizeof i) break;
    last = i;
    any = true;
    ++acked;
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_TRUE(any);
  SqliteStorage s(path);
  for (std::uint32_t i = 0; i <= last; ++i) ASSERT_TRUE(s.gateway("gw-" + std::to_string(i))) << "lost write " << i;
  EXPECT_GE(s.events(0, 100000).size(), last + 1);
}

}  // namespace
