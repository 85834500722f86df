// SPDX-License-Identifier: BSD-3-Clause
// Internal to the REST layer (rest_api.cpp, gateway_api.cpp): the errors a
// handler raises (a JSON {"error", "field"} with its 4xx code), the request
// target (path segments, percent-decoded query), a strictly read JSON body,
// and who may call a route. Control path.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller.hpp"

namespace meshgw::controller::rest {

using nlohmann::json;


struct ApiError {
  int status;
  std::string message;
  std::string field;
};

[[noreturn]] inline void refuse(int status, std::string message, std::string field = {}) {
  throw ApiError{status, std::move(message), std::move(field)};
}

// Error messages may quote request bytes that are not UTF-8: replaced, never thrown.
inline ApiResponse json_response(int status, const json& body) {
  return {status, body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json"};
}

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline std::string percent_decode(std::string_view s, const char* what) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) refuse(400, std::string("bad percent-encoding in ") + what);
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
};

inline Target parse_target(const std::string& target) {
  if (target.empty() || target[0] != '/') refuse(400, "request target must be an absolute path");
  Target t;
  const auto q = target.find('?');
  const std::string_view path = std::string_view(target).substr(0, q);
  std::size_t at = 1;
  while (at <= path.size()) {
    const auto slash = path.find('/', at);
    const std::string_view seg = path.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at);
    if (!seg.empty()) t.segments.push_back(percent_decode(seg, "the path"));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  if (q != std::string::npos) {
    std::string_view rest = std::string_view(target).substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      const auto eq = pair.find('=');
      const std::string key = percent_decode(pair.substr(0, eq), "the query");
      const std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), "the query");
      if (!key.empty() && !t.query.emplace(key, value).second) refuse(400, "query parameter given twice", key);
      if (amp == std::string_view::npos) break;
      rest = rest.substr(amp + 1);
    }
  }
  return t;
}

// A strictly read JSON object body.
class Body {
 public:
  explicit Body(const std::string& text) {
    if (text.empty()) refuse(400, "a JSON object body is required");
    try {
      j_ = json::parse(text);
    } catch (const json::parse_error& e) {
      refuse(400, std::string("malformed JSON: ") + e.what());
    }
    if (!j_.is_object()) refuse(400, "the body must be a JSON object");
  }
  void only(std::initializer_list<const char*> allowed) const {
    for (const auto& [k, v] : j_.items()) {
      bool ok = false;
      for (const char* a : allowed) ok = ok || k == a;
      if (!ok) refuse(400, "unknown field", k);
    }
  }
  std::optional<std::string> str(const char* key, bool required = false) const {
    const auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) refuse(400, "is required", key);
      return std::nullopt;
    }
    if (!it->is_string()) refuse(400, "must be a string", key);
    return it->get<std::string>();
  }
  std::int64_t integer(const char* key, std::int64_t lo, std::int64_t hi, std::int64_t fallback) const {
    const auto it = j_.find(key);
    if (it == j_.end()) return fallback;
    if (!it->is_number_integer()) refuse(400, "must be an integer", key);
    const std::int64_t v = it->get<std::int64_t>();
    if (v < lo || v > hi) refuse(400, "must be in " + std::to_string(lo) + ".." + std::to_string(hi), key);
    return v;
  }
  bool boolean(const char* key, bool fallback) const {
    const auto it = j_.find(key);
    if (it == j_.end()) return fallback;
    if (!it->is_boolean()) refuse(400, "must be true or false", key);
    return it->get<bool>();
  }

 private:
  json j_;
};

enum class Access { anyone, read, admin, gateway };

inline Role role_field(const Body& b, const char* key, Role fallback) {
  const auto text = b.str(key);
  if (!text) return fallback;
  const auto r = role_from_string(*text);
  if (!r) refuse(400, "must be core, edge or transit", key);
  return *r;
}

inline std::uint64_t query_u64(const Target& t, const char* key, std::uint64_t fallback, std::uint64_t hi) {
  const auto it = t.query.find(key);
  if (it == t.query.end()) return fallback;
  const std::string& s = it->second;
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
    refuse(400, "must be a non-negative integer", key);
  const std::uint64_t v = std::stoull(s);
  if (v > hi) refuse(400, "must be at most " + std::to_string(hi), key);
  return v;
}

}  // namespace meshgw::controller::rest
