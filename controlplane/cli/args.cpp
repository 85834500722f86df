// SPDX-License-Identifier: BSD-3-Clause
#include "args.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <cstdlib>

namespace meshgw::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
           const std::set<std::string>& flags) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0 || a.size() == 2)
      throw UsageError("unexpected argument '" + a + "' (options start with --)");
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      inline_value = true;
    }
    if (flags.count(name)) {
      if (inline_value) throw UsageError("option --" + name + " takes no value");
    } else if (valued.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) throw UsageError("option --" + name + " needs a value");
        value = argv[++i];
      }
    } else {
      throw UsageError("unknown option --" + name);
    }
    if (values_.count(name)) throw UsageError("option --" + name + " given twice");
    values_[name] = value;
  }
}

std::string Args::str(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) throw UsageError("missing required option --" + name);
  if (it->second.empty()) throw UsageError("option --" + name + " must not be empty");
  return it->second;
}

std::optional<std::string> Args::opt_str(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::uint64_t parse_uint(const std::string& option, const std::string& text, std::uint64_t min,
                         std::uint64_t max) {
  if (text.empty() || text[0] == '-' || text[0] == '+' || text[0] == ' ')
    throw UsageError("option --" + option + ": '" + text + "' is not a non-negative integer");
  errno = 0;
  char* end = nullptr;
  // Decimal, or hex with 0x; never octal (a leading 0 is just a zero).
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const unsigned long long v = std::strtoull(text.c_str(), &end, hex ? 16 : 10);
  if (errno != 0 || end == text.c_str() || *end != '\0')
    throw UsageError("option --" + option + ": '" + text + "' is not a non-negative integer");
  if (v < min || v > max)
    throw UsageError("option --" + option + ": " + text + " is out of range [" +
                     std::to_string(min) + ", " + std::to_string(max) + "]");
  return v;
}

std::uint64_t Args::uint(const std::string& name, std::uint64_t min, std::uint64_t max,
                         std::optional<std::uint64_t> fallback) const {
  const auto v = opt_str(name);
  if (!v) {
    if (fallback) return *fallback;
    throw UsageError("missing required option --" + name);
  }
  return parse_uint(name, *v, min, max);
}

std::optional<std::uint32_t> parse_ipv4(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::uint32_t Args::ipv4(const std::string& name, std::optional<std::uint32_t> fallback) const {
  const auto v = opt_str(name);
  if (!v) {
    if (fallback) return *fallback;
    throw UsageError("missing required option --" + name);
  }
  const auto ip = parse_ipv4(*v);
  if (!ip) throw UsageError("option --" + name + ": '" + *v + "' is not an IPv4 address");
  return *ip;
}

std::vector<std::string> split_list(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto next = text.find(sep, at);
    const std::string item = text.substr(at, next == std::string::npos ? std::string::npos : next - at);
    if (!item.empty()) out.push_back(item);
    if (next == std::string::npos) break;
    at = next + 1;
  }
  return out;
}

}  // namespace meshgw::cli
