// SPDX-License-Identifier: BSD-3-Clause
#include "sqlite_storage.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include <nlohmann/json.hpp>

namespace meshgw::controller {

namespace {

// Each entry moves the schema one version up; never edit a released one, add
// the next. Version N is reached by running entries [0, N).
const char* const kMigrations[] = {
    // 1: the first schema.
    R"sql(
    CREATE TABLE gateways (
      id TEXT PRIMARY KEY, role TEXT NOT NULL, status TEXT NOT NULL, ephemeral INTEGER NOT NULL,
      site TEXT NOT NULL, region TEXT NOT NULL, cert_serial TEXT NOT NULL,
      public_key_sha256 TEXT NOT NULL, cert_not_after INTEGER NOT NULL, beacon_key BLOB NOT NULL,
      registered_at INTEGER NOT NULL, status_since INTEGER NOT NULL);
    CREATE TABLE tokens (
      id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, kind TEXT NOT NULL, role TEXT NOT NULL,
      created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, uses_left INTEGER NOT NULL,
      ephemeral INTEGER NOT NULL, site TEXT NOT NULL, region TEXT NOT NULL, description TEXT NOT NULL);
    CREATE TABLE events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, kind TEXT NOT NULL,
      gateway TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    )sql",
    // 2: SPI allocations, and the indexes the REST queries use.
    R"sql(
    CREATE TABLE spis (
      spi INTEGER PRIMARY KEY, ingress TEXT NOT NULL, egress TEXT NOT NULL, path TEXT NOT NULL,
      allocated_at INTEGER NOT NULL);
    CREATE INDEX spis_by_egress ON spis(egress);
    CREATE INDEX events_by_gateway ON events(gateway, seq);
    )sql",
    // 3: the site prefixes each gateway serves (a JSON array of strings).
    R"sql(
    ALTER TABLE gateways ADD COLUMN sites TEXT NOT NULL DEFAULT '[]';
    )sql",
    // 4: which gateway asked for each SPI (the tunnel's owner).
    R"sql(
    ALTER TABLE spis ADD COLUMN requested_by TEXT NOT NULL DEFAULT '';
    )sql",
};

constexpr int kLatest = static_cast<int>(std::size(kMigrations));

}  // namespace

// A prepared statement, finalized on every path.
class SqliteStorage::Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw StorageError(std::string("sqlite: prepare: ") + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const std::string& v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int i, std::string_view v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(stmt_, i, v));
    return *this;
  }
  Statement& bind(int i, const std::vector<std::uint8_t>& v) {
    check(sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  // True while there is a row; false when done.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StorageError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::vector<std::uint8_t> blob(int col) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
    return p ? std::vector<std::uint8_t>(p, p + sqlite3_column_bytes(stmt_, col)) : std::vector<std::uint8_t>();
  }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw StorageError(std::string("sqlite: bind: ") + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void SqliteStorage::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw StorageError("sqlite " + path_ + ": " + msg);
  }
}

// BEGIN IMMEDIATE takes the write lock up front, so a transaction never fails
// half-way for another writer; ROLLBACK on any exception.
template <class Fn>
auto SqliteStorage::transaction(Fn&& fn) {
  exec("BEGIN IMMEDIATE");
  try {
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      exec("COMMIT");
    } else {
      auto result = fn();
      exec("COMMIT");
      return result;
    }
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

SqliteStorage::SqliteStorage(const std::string& path, Sync sync) : path_(path) {
  // Created 0600 before SQLite opens it; its -wal and -shm files take the
  // same mode from it.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw StorageError("storage " + path + ": " + std::strerror(errno));
  struct stat st {};
  ::fstat(fd, &st);
  ::close(fd);
  if ((st.st_mode & 077) != 0)
    throw StorageError("storage " + path + ": group or others may access it (chmod 600 it)");
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw StorageError("storage " + path + ": " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec(sync == Sync::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
    migrate();
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

SqliteStorage::~SqliteStorage() { sqlite3_close(db_); }

int SqliteStorage::latest_schema_version() noexcept { return kLatest; }

int SqliteStorage::schema_version() {
  Statement s(db_, "PRAGMA user_version");
  s.step();
  return static_cast<int>(s.integer(0));
}

void SqliteStorage::migrate() {
  const int at = schema_version();
  if (at > kLatest)
    throw StorageError("storage " + path_ + ": schema version " + std::to_string(at) +
                       " is newer than this meshctld knows (" + std::to_string(kLatest) + ")");
  for (int v = at; v < kLatest; ++v) {
    transaction([&] {
      exec(kMigrations[v]);
      exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
    });
  }
}

namespace {

// Sites as a JSON array of strings; what the controller validated on the
// way in, so reading back needs no checks beyond the shape.
std::string sites_to_text(const std::vector<std::string>& sites) { return nlohmann::json(sites).dump(); }

std::vector<std::string> sites_from_text(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

GatewayRecord read_gateway(const auto& s) {
  GatewayRecord g;
  g.id = s.text(0);
  g.role = role_from_string(s.text(1)).value_or(Role::edge);
  g.status = status_from_string(s.text(2)).value_or(GatewayStatus::registered);
  g.ephemeral = s.integer(3) != 0;
  g.site = s.text(4);
  g.region = s.text(5);
  g.cert_serial = s.text(6);
  g.public_key_sha256 = s.text(7);
  g.cert_not_after = s.integer(8);
  g.beacon_key = s.blob(9);
  g.registered_at = s.integer(10);
  g.status_since = s.integer(11);
  g.sites = sites_from_text(s.text(12));
  return g;
}

constexpr const char* kGatewayColumns =
    "id, role, status, ephemeral, site, region, cert_serial, public_key_sha256, cert_not_after, "
    "beacon_key, registered_at, status_since, sites";

TokenRecord read_token(const auto& s) {
  TokenRecord t;
  t.id = s.text(0);
  t.secret_hash = s.text(1);
  t.kind = token_kind_from_string(s.text(2)).value_or(TokenKind::read_only);
  t.role = role_from_string(s.text(3)).value_or(Role::edge);
  t.created_at = s.integer(4);
  t.expires_at = s.integer(5);
  t.uses_left = s.integer(6);
  t.ephemeral = s.integer(7) != 0;
  t.site = s.text(8);
  t.region = s.text(9);
  t.description = s.text(10);
  return t;
}

constexpr const char* kTokenColumns =
    "id, secret_hash, kind, role, created_at, expires_at, uses_left, ephemeral, site, region, description";

}  // namespace

std::optional<GatewayRecord> SqliteStorage::gateway(const std::string& id) {
  Statement s(db_, (std::string("SELECT ") + kGatewayColumns + " FROM gateways WHERE id = ?").c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_gateway(s);
}

std::vector<GatewayRecord> SqliteStorage::gateways() {
  Statement s(db_, (std::string("SELECT ") + kGatewayColumns + " FROM gateways ORDER BY registered_at, id").c_str());
  std::vector<GatewayRecord> out;
  while (s.step()) out.push_back(read_gateway(s));
  return out;
}

void SqliteStorage::write_gateway(const GatewayRecord& g) {
  Statement s(db_, (std::string("INSERT OR REPLACE INTO gateways (") + kGatewayColumns +
                    ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)").c_str());
  s.bind(1, g.id).bind(2, to_string(g.role)).bind(3, to_string(g.status)).bind(4, std::int64_t{g.ephemeral});
  s.bind(5, g.site).bind(6, g.region).bind(7, g.cert_serial).bind(8, g.public_key_sha256);
  s.bind(9, g.cert_not_after).bind(10, g.beacon_key).bind(11, g.registered_at).bind(12, g.status_since);
  s.bind(13, sites_to_text(g.sites));
  s.step();
}

void SqliteStorage::put_gateway(const GatewayRecord& gw) { transaction([&] { write_gateway(gw); }); }

void SqliteStorage::remove_gateway(const std::string& id) {
  Statement s(db_, "DELETE FROM gateways WHERE id = ?");
  s.bind(1, id);
  s.step();
}

void SqliteStorage::delete_gateway(const std::string& id) { remove_gateway(id); }

EventRecord SqliteStorage::put_gateway_with_event(const GatewayRecord& gw, const EventRecord& event) {
  return transaction([&] {
    write_gateway(gw);
    return insert_event(event);
  });
}

void SqliteStorage::put_gateways_with_events(const std::vector<std::pair<GatewayRecord, EventRecord>>& batch) {
  if (batch.empty()) return;
  transaction([&] {
    for (const auto& [gw, event] : batch) {
      write_gateway(gw);
      insert_event(event);
    }
  });
}

EventRecord SqliteStorage::delete_gateway_with_event(const std::string& id, const EventRecord& event) {
  return transaction([&] {
    remove_gateway(id);
    return insert_event(event);
  });
}

std::optional<TokenRecord> SqliteStorage::token(const std::string& id) {
  Statement s(db_, (std::string("SELECT ") + kTokenColumns + " FROM tokens WHERE id = ?").c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_token(s);
}

std::vector<TokenRecord> SqliteStorage::tokens() {
  Statement s(db_, (std::string("SELECT ") + kTokenColumns + " FROM tokens ORDER BY created_at, id").c_str());
  std::vector<TokenRecord> out;
  while (s.step()) out.push_back(read_token(s));
  return out;
}

void SqliteStorage::put_token(const TokenRecord& t) {
  Statement s(db_, (std::string("INSERT OR REPLACE INTO tokens (") + kTokenColumns +
                    ") VALUES (?,?,?,?,?,?,?,?,?,?,?)").c_str());
  s.bind(1, t.id).bind(2, t.secret_hash).bind(3, to_string(t.kind)).bind(4, to_string(t.role));
  s.bind(5, t.created_at).bind(6, t.expires_at).bind(7, t.uses_left).bind(8, std::int64_t{t.ephemeral});
  s.bind(9, t.site).bind(10, t.region).bind(11, t.description);
  s.step();
}

void SqliteStorage::delete_token(const std::string& id) {
  Statement s(db_, "DELETE FROM tokens WHERE id = ?");
  s.bind(1, id);
  s.step();
}

EventRecord SqliteStorage::insert_event(const EventRecord& e) {
  Statement s(db_, "INSERT INTO events (time, kind, gateway, detail) VALUES (?,?,?,?)");
  s.bind(1, e.time).bind(2, e.kind).bind(3, e.gateway).bind(4, e.detail);
  s.step();
  EventRecord out = e;
  out.seq = static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db_));
  return out;
}

EventRecord SqliteStorage::register_gateway(const std::string& token_id, const GatewayRecord& gw,
                                            const EventRecord& joined) {
  return transaction([&] {
    // One use taken only while one is left (-1: unlimited), in the same
    // transaction as the gateway it admits.
    Statement use(db_,
                  "UPDATE tokens SET uses_left = CASE WHEN uses_left < 0 THEN uses_left ELSE uses_left - 1 END "
                  "WHERE id = ? AND kind = 'join' AND uses_left != 0");
    use.bind(1, token_id);
    use.step();
    if (sqlite3_changes(db_) != 1) throw ConflictError("join token " + token_id + " has no use left");
    if (gateway(gw.id)) throw ConflictError("gateway " + gw.id + " exists");
    write_gateway(gw);
    return insert_event(joined);
  });
}

std::uint64_t SqliteStorage::next_counter(const std::string& name) {
  return transaction([&] {
    Statement up(db_,
                 "INSERT INTO counters (name, value) VALUES (?, 1) "
                 "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value");
    up.bind(1, name);
    if (!up.step()) throw StorageError("counter " + name + ": no value returned");
    const auto v = static_cast<std::uint64_t>(up.integer(0));
    while (up.step()) {
    }
    return v;
  });
}

EventRecord SqliteStorage::append_event(const EventRecord& event) {
  return transaction([&] { return insert_event(event); });
}

std::vector<EventRecord> SqliteStorage::events(std::uint64_t after, std::size_t limit) {
  Statement s(db_, "SELECT seq, time, kind, gateway, detail FROM events WHERE seq > ? ORDER BY seq LIMIT ?");
  s.bind(1, static_cast<std::int64_t>(after)).bind(2, static_cast<std::int64_t>(limit));
  std::vector<EventRecord> out;
  while (s.step())
    out.push_back({static_cast<std::uint64_t>(s.integer(0)), s.integer(1), s.text(2), s.text(3), s.text(4)});
  return out;
}

SpiRecord SqliteStorage::allocate_spi(SpiRecord record, std::uint32_t first) {
  return transaction([&] {
    // Counting on from the last SPI handed out, not the lowest free one: a
    // released SPI is not given again until the space wraps, so a gateway
    // that still holds state of an old tunnel (its release not yet seen)
    // never finds the SPI on a new tunnel through it.
    std::int64_t from = first;
    if (const auto next = setting("next_spi")) from = std::max<std::int64_t>(first, std::stoll(*next));
    auto free_from = [&](std::int64_t start) -> std::int64_t {
      Statement taken(db_, "SELECT 1 FROM spis WHERE spi = ?");
      taken.bind(1, start);
      if (!taken.step()) return start;
      Statement gap(db_,
                    "SELECT MIN(s.spi + 1) FROM spis s WHERE s.spi >= ? AND NOT EXISTS "
                    "(SELECT 1 FROM spis t WHERE t.spi = s.spi + 1)");
      gap.bind(1, start);
      if (!gap.step() || gap.is_null(0)) throw StorageError("SPI allocation: no candidate");
      return gap.integer(0);
    };
    std::int64_t spi = from <= 0xffffffffLL ? free_from(from) : 0x100000000LL;
    if (spi > 0xffffffffLL) spi = free_from(first);  // wrapped: the lowest free one
    if (spi > 0xffffffffLL) throw ConflictError("no free SPI left");
    record.spi = static_cast<std::uint32_t>(spi);
    Statement ins(db_,
                  "INSERT INTO spis (spi, ingress, egress, path, allocated_at, requested_by) VALUES (?,?,?,?,?,?)");
    ins.bind(1, spi).bind(2, record.ingress).bind(3, record.egress).bind(4, record.path).bind(5, record.allocated_at);
    ins.bind(6, record.requested_by);
    ins.step();
    put_setting("next_spi", std::to_string(spi + 1));
    return record;
  });
}

std::vector<SpiRecord> SqliteStorage::spis() {
  Statement s(db_, "SELECT spi, ingress, egress, path, allocated_at, requested_by FROM spis ORDER BY spi");
  std::vector<SpiRecord> out;
  while (s.step())
    out.push_back({static_cast<std::uint32_t>(s.integer(0)), s.text(1), s.text(2), s.text(3), s.integer(4), s.text(5)});
  return out;
}

void SqliteStorage::release_spi(std::uint32_t spi) {
  Statement s(db_, "DELETE FROM spis WHERE spi = ?");
  s.bind(1, std::int64_t{spi});
  s.step();
}

std::optional<std::string> SqliteStorage::setting(const std::string& name) {
  Statement s(db_, "SELECT value FROM settings WHERE name = ?");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

void SqliteStorage::put_setting(const std::string& name, const std::string& value) {
  Statement s(db_, "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)");
  s.bind(1, name).bind(2, value);
  s.step();
}

}  // namespace meshgw::controller
