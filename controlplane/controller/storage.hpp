// SPDX-License-Identifier: BSD-3-Clause
// The controller's durable state behind one interface: SQLite today
// (sqlite_storage), etcd later. Every call that returns has committed: what it
// wrote survives a SIGKILL of meshctld right after. Calls are made under the
// controller's state lock (one writer); backends need not be thread-safe.
// Errors throw StorageError (I/O, corruption) or ConflictError (a condition
// such as "token has uses left" did not hold; nothing was written).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "records.hpp"

namespace meshgw::controller {

class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConflictError : public StorageError {
 public:
  using StorageError::StorageError;
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual std::optional<GatewayRecord> gateway(const std::string& id) = 0;
  virtual std::vector<GatewayRecord> gateways() = 0;
  virtual void put_gateway(const GatewayRecord& gw) = 0;
  virtual void delete_gateway(const std::string& id) = 0;
  // The gateway written (or removed) and the event appended in one transaction.
  virtual EventRecord put_gateway_with_event(const GatewayRecord& gw, const EventRecord& event) = 0;
  virtual EventRecord delete_gateway_with_event(const std::string& id, const EventRecord& event) = 0;
  // Many (gateway, event) pairs in one transaction (status changes of a tick).
  virtual void put_gateways_with_events(const std::vector<std::pair<GatewayRecord, EventRecord>>& batch) = 0;

  virtual std::optional<TokenRecord> token(const std::string& id) = 0;
  virtual std::vector<TokenRecord> tokens() = 0;
  virtual void put_token(const TokenRecord& token) = 0;
  virtual void delete_token(const std::string& id) = 0;

  // In one transaction: takes one use of the join token (ConflictError when
  // it has none left or is gone), stores the gateway and appends the event.
  // Returns the event with its sequence number.
  virtual EventRecord register_gateway(const std::string& token_id, const GatewayRecord& gw,
                                       const EventRecord& joined) = 0;

  // The next value of a named counter, starting at 1 (gateway IDs, ...).
  virtual std::uint64_t next_counter(const std::string& name) = 0;

  virtual EventRecord append_event(const EventRecord& event) = 0;
  // Events with seq > after, oldest first, at most limit.
  virtual std::vector<EventRecord> events(std::uint64_t after, std::size_t limit) = 0;

  // Allocates the lowest free SPI >= first for the record (ConflictError
  // when none is free below 2^32).
  virtual SpiRecord allocate_spi(SpiRecord record, std::uint32_t first) = 0;
  virtual std::vector<SpiRecord> spis() = 0;
  virtual void release_spi(std::uint32_t spi) = 0;

  // Small named values: the policy document, the mesh state version, ...
  virtual std::optional<std::string> setting(const std::string& name) = 0;
  virtual void put_setting(const std::string& name, const std::string& value) = 0;

  // The schema version the store is at (after its migrations ran).
  virtual int schema_version() = 0;
};

}  // namespace meshgw::controller
