// SPDX-License-Identifier: BSD-3-Clause
// A small strict command-line parser for meshctl: --name value or
// --name=value, flags without values, every mistake a UsageError naming the
// option. Control path.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace meshgw::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  // valued: options that take a value; flags: options that do not.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
       const std::set<std::string>& flags);

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string str(const std::string& name) const;  // required
  std::optional<std::string> opt_str(const std::string& name) const;
  // Decimal or 0x-hex, within [min, max].
  std::uint64_t uint(const std::string& name, std::uint64_t min, std::uint64_t max,
                     std::optional<std::uint64_t> fallback = std::nullopt) const;
  // Dotted-quad IPv4, returned in host byte order.
  std::uint32_t ipv4(const std::string& name, std::optional<std::uint32_t> fallback = std::nullopt) const;

 private:
  std::map<std::string, std::string> values_;
};

std::uint64_t parse_uint(const std::string& option, const std::string& text, std::uint64_t min,
                         std::uint64_t max);
std::optional<std::uint32_t> parse_ipv4(const std::string& text);
// "a,b,c" -> {"a", "b", "c"}: a list option's items, empty ones dropped.
std::vector<std::string> split_list(const std::string& text, char sep = ',');

}  // namespace meshgw::cli
