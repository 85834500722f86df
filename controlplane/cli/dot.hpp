// SPDX-License-Identifier: BSD-3-Clause
// Graphviz identifiers for meshctl's dot output (meshctl path, meshctl topology).
#pragma once

#include <string>

namespace meshgw::cli {

// A quoted DOT identifier, with quotes and backslashes escaped.
inline std::string dot_id(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') {  // a line break in a label
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace meshgw::cli
