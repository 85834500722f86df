// SPDX-License-Identifier: BSD-3-Clause
// Typed reads from a toml++ table for the programs' config files, each
// failure a ConfigError naming the file, line, key, value and rule:
// "gw.toml:12: [[tunnel]] 'a-b' out_spi = 7: must be in 256..4294967295".
// Header-only (toml++ is). Control path.
#pragma once

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "routing/policy.hpp"

namespace meshgw::common {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where a value came from, for messages: "gw.toml:12: [[tunnel]] 'a-b' out_spi".
class TomlReader {
 public:
  TomlReader(std::string source, const toml::table& table, std::string where)
      : source_(std::move(source)), table_(table), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    const toml::node* n = table_.get(key);
    const auto line = n != nullptr ? n->source().begin.line : table_.source().begin.line;
    std::ostringstream msg;
    msg << source_ << ":" << line << ": " << where_ << (where_.empty() ? "" : " ") << key;
    if (n != nullptr) {
      std::ostringstream value;
      n->visit([&](auto&& v) {
        if constexpr (toml::is_string<decltype(v)>) {
          value << '"' << v.get() << '"';
        } else if constexpr (toml::is_value<decltype(v)>) {
          value << v;
        } else if constexpr (toml::is_array<decltype(v)>) {
          value << "[" << v.size() << " entries]";
        } else {
          value << "{table}";
        }
      });
      std::string v = value.str();
      if (v.size() > 80) v = v.substr(0, 77) + "...";
      msg << " = " << v;
    }
    msg << ": " << what;
    throw ConfigError(msg.str());
  }

  // Refuses keys other than these.
  void only(std::initializer_list<const char*> allowed) const {
    for (const auto& [k, v] : table_) {
      const std::string key(k.str());
      if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; })) {
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        fail(key, "unknown key (allowed here: " + list + ")");
      }
    }
  }

  bool has(const std::string& key) const { return table_.contains(key); }

  std::string str(const std::string& key, std::optional<std::string> fallback = std::nullopt) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) {
      if (fallback) return *fallback;
      fail(key, "is required");
    }
    if (!n->is_string()) fail(key, "must be a string");
    return *n->value<std::string>();
  }

  std::int64_t integer(const std::string& key, std::int64_t lo, std::int64_t hi,
                       std::optional<std::int64_t> fallback = std::nullopt) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) {
      if (fallback) return *fallback;
      fail(key, "is required");
    }
    if (!n->is_integer()) fail(key, "must be an integer");
    const std::int64_t v = *n->value<std::int64_t>();
    if (v < lo || v > hi) fail(key, "must be in " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
  }

  bool boolean(const std::string& key, bool fallback) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) return fallback;
    if (!n->is_boolean()) fail(key, "must be true or false");
    return *n->value<bool>();
  }

  std::vector<std::string> strings(const std::string& key) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) return {};
    const toml::array* a = n->as_array();
    if (a == nullptr) fail(key, "must be an array of strings");
    std::vector<std::string> out;
    for (const auto& e : *a) {
      if (!e.is_string()) fail(key, "must be an array of strings");
      out.push_back(*e.value<std::string>());
    }
    return out;
  }

  std::vector<std::int64_t> integers(const std::string& key, std::int64_t lo, std::int64_t hi) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) return {};
    const toml::array* a = n->as_array();
    if (a == nullptr) fail(key, "must be an array of integers");
    std::vector<std::int64_t> out;
    for (const auto& e : *a) {
      if (!e.is_integer()) fail(key, "must be an array of integers");
      const std::int64_t v = *e.value<std::int64_t>();
      if (v < lo || v > hi) fail(key, "entries must be in " + std::to_string(lo) + ".." + std::to_string(hi));
      out.push_back(v);
    }
    return out;
  }

  std::uint32_t ipv4(const std::string& key, std::optional<std::uint32_t> fallback = std::nullopt) const {
    if (!has(key) && fallback) return *fallback;
    const std::string text = str(key);
    in_addr a{};
    if (inet_pton(AF_INET, text.c_str(), &a) != 1) fail(key, "is not an IPv4 address");
    return ntohl(a.s_addr);
  }

  routing::IpPrefix prefix(const std::string& key, const std::string& text) const {
    const auto p = routing::IpPrefix::parse(text);
    if (!p) fail(key, "'" + text + "' is not a prefix (a.b.c.d/len or x::/len, no bits set past the length)");
    return *p;
  }

  std::array<std::uint8_t, 6> mac(const std::string& key) const {
    const std::string text = str(key);
    std::array<std::uint8_t, 6> m{};
    unsigned b[6];
    char tail;
    if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                    &tail) != 6)
      fail(key, "is not a MAC address (xx:xx:xx:xx:xx:xx)");
    for (int i = 0; i < 6; ++i) m[i] = static_cast<std::uint8_t>(b[i]);
    if (m[0] & 1) fail(key, "is a multicast MAC address");
    return m;
  }

  const toml::table* table(const std::string& key) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) return nullptr;
    if (!n->is_table()) fail(key, "must be a table ([" + key + "])");
    return n->as_table();
  }

  // [[key]] entries.
  std::vector<const toml::table*> tables(const std::string& key) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) return {};
    const toml::array* a = n->as_array();
    if (a == nullptr || !a->is_array_of_tables()) fail(key, "must be an array of tables ([[" + key + "]])");
    std::vector<const toml::table*> out;
    for (const auto& e : *a) out.push_back(e.as_table());
    return out;
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  const toml::table& table_;
  std::string where_;
};

}  // namespace meshgw::common
