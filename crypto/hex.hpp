// SPDX-License-Identifier: BSD-3-Clause
// Hex text <-> bytes for key files, tests and tools (control path).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshgw::crypto {

// Accepts upper/lower case, an optional "0x" prefix, and ignores ':' and
// whitespace separators; nullopt for an odd digit count or a non-hex character.
inline std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 2);  // no reallocation: key bytes are not left behind in freed memory
  int high = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else if (c == ':' || c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
    else return std::nullopt;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  if (high >= 0) return std::nullopt;
  return out;
}

// Appends lower-case hex to out (which the caller may have reserved, so a
// secret is never copied by a reallocation).
inline void append_hex(std::string& out, const std::uint8_t* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
}

inline std::string to_hex(const std::uint8_t* p, std::size_t n) {
  std::string s;
  s.reserve(n * 2);
  append_hex(s, p, n);
  return s;
}

}  // namespace meshgw::crypto
