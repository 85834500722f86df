// SPDX-License-Identifier: BSD-3-Clause
// Storage on SQLite 3 in WAL mode. The schema is versioned (PRAGMA
// user_version) and brought up to date by the migrations in
// sqlite_storage.cpp when the file is opened; a file from a newer meshctld is
// refused. synchronous=FULL by default: a returned write survives power loss,
// not only a SIGKILL; NORMAL keeps the SIGKILL guarantee and is faster.
// The database file is created 0600 (it holds beacon keys).
#pragma once

#include <memory>
#include <string>

#include "storage.hpp"

struct sqlite3;

namespace meshgw::controller {

class SqliteStorage final : public Storage {
 public:
  enum class Sync { full, normal };
  // Opens (creating if needed) and migrates; throws StorageError.
  explicit SqliteStorage(const std::string& path, Sync sync = Sync::full);
  ~SqliteStorage() override;
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  static int latest_schema_version() noexcept;

  std::optional<GatewayRecord> gateway(const std::string& id) override;
  std::vector<GatewayRecord> gateways() override;
  void put_gateway(const GatewayRecord& gw) override;
  void delete_gateway(const std::string& id) override;
  EventRecord put_gateway_with_event(const GatewayRecord& gw, const EventRecord& event) override;
  EventRecord delete_gateway_with_event(const std::string& id, const EventRecord& event) override;
  void put_gateways_with_events(const std::vector<std::pair<GatewayRecord, EventRecord>>& batch) override;
  std::optional<TokenRecord> token(const std::string& id) override;
  std::vector<TokenRecord> tokens() override;
  void put_token(const TokenRecord& token) override;
  void delete_token(const std::string& id) override;
  EventRecord register_gateway(const std::string& token_id, const GatewayRecord& gw,
                               const EventRecord& joined) override;
  std::uint64_t next_counter(const std::string& name) override;
  EventRecord append_event(const EventRecord& event) override;
  std::vector<EventRecord> events(std::uint64_t after, std::size_t limit) override;
  SpiRecord allocate_spi(SpiRecord record, std::uint32_t first) override;
  std::vector<SpiRecord> spis() override;
  void release_spi(std::uint32_t spi) override;
  std::optional<std::string> setting(const std::string& name) override;
  void put_setting(const std::string& name, const std::string& value) override;
  int schema_version() override;

 private:
  class Statement;
  void exec(const char* sql);
  void migrate();
  template <class Fn>
  auto transaction(Fn&& fn);
  EventRecord insert_event(const EventRecord& event);
  void write_gateway(const GatewayRecord& gw);
  void remove_gateway(const std::string& id);
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace meshgw::controller
