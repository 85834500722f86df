// SPDX-License-Identifier: BSD-3-Clause
#include "rest_support.hpp"

#include <sys/stat.h>
#include <toml++/toml.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "args.hpp"
#include "controlplane/common/rest_client.hpp"
#include "controlplane/common/secret_file.hpp"

namespace meshgw::cli::rest {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// server, ca and token from the config file, if there is one.
std::map<std::string, std::string> config_file() {
  std::string path = env("MESHCTL_CONFIG");
  if (path.empty() && !env("HOME").empty()) path = env("HOME") + "/.config/meshctl/config.toml";
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  const std::string text = common::read_secret_text(path, 65536);  // holds a token: 0600 only
  toml::table t;
  try {
    t = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << path << ":" << e.source().begin.line << ": " << e.description();
    throw std::runtime_error(m.str());
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key != "server" && key != "ca" && key != "token")
      throw std::runtime_error(path + ": unknown key '" + key + "' (allowed: server, ca, token)");
    if (!v.is_string()) throw std::runtime_error(path + ": " + key + " must be a string");
    out[key] = *v.value<std::string>();
  }
  return out;
}

Connection connection(const Args& a) {
  const auto file = config_file();
  auto pick = [&](const char* flag, const char* var, const char* key, const std::string& fallback) {
    if (auto v = a.opt_str(flag)) return *v;
    if (const std::string e = env(var); !e.empty()) return e;
    if (const auto it = file.find(key); it != file.end()) return it->second;
    return fallback;
  };
  Connection c;
  try {
    c.endpoint = RestEndpoint::from_url(pick("server", "MESHCTL_SERVER", "server", "https://127.0.0.1:8443"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("option --server: ") + e.what());
  }
  c.endpoint.ca_file = pick("ca", "MESHCTL_CA", "ca", "");
  c.endpoint.token = pick("token", "MESHCTL_TOKEN", "token", "");
  c.output = a.opt_str("output").value_or("table");
  if (c.output != "table" && c.output != "json") throw UsageError("option --output: must be table or json");
  return c;
}

const std::set<std::string> kConnectionOptions = {"server", "ca", "token", "output"};

std::set<std::string> with_connection(std::set<std::string> options) {
  options.insert(kConnectionOptions.begin(), kConnectionOptions.end());
  return options;
}

// A refusal: the server's error message (and the field), exit 1.
int refused(const RestAnswer& r) {
  std::string message = r.body;
  try {
    const json j = json::parse(r.body);
    message = j.value("error", r.body);
    if (j.contains("field")) message = j["field"].get<std::string>() + ": " + message;
  } catch (const json::exception&) {
  }
  std::cerr << "meshctl: server answered " << r.status << ": " << message << "\n";
  return 1;
}

std::string when(std::int64_t unix_s) {
  if (unix_s == 0) return "never";
  const std::time_t t = unix_s;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

// Columns padded to their widest cell.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::string joined(const json& list, const char* sep) {
  std::string out;
  for (const auto& x : list) out += (out.empty() ? "" : sep) + text_of(x);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// GET and print as JSON or with the table printer.
int show(RestClient& client, const Connection& c, const std::string& target,
         const std::function<void(const json&)>& table) {
  const RestAnswer r = client.request("GET", target);
  if (r.status != 200) return refused(r);
  if (c.output == "json" || !table) {
    try {
      std::cout << json::parse(r.body).dump(2) << "\n";
    } catch (const json::exception&) {
      std::cout << r.body;
    }
    return 0;
  }
  table(json::parse(r.body));
  return 0;
}

int send_and_print(RestClient& client, const Connection& c, const std::string& method, const std::string& target,
                   const std::string& body, int expect, const std::function<void(const json&)>& table) {
  const RestAnswer r = client.request(method, target, body);
  if (r.status != expect) return refused(r);
  const json j = json::parse(r.body);
  if (c.output == "json" || !table) std::cout << j.dump(2) << "\n";
  else table(j);
  return 0;
}

std::string verb_of(std::vector<std::string>& args, const std::string& fallback) {
  if (!args.empty() && args[0].rfind("-", 0) != 0) {
    const std::string v = args[0];
    args.erase(args.begin());
    return v;
  }
  return fallback;
}

[[noreturn]] void bad_verb(const std::string& resource, const std::string& verb, const char* allowed) {
  throw UsageError(resource + ": unknown verb '" + verb + "' (" + allowed + ")");
}

bool bool_option(const Args& a, const std::string& name, bool fallback) {
  const auto v = a.opt_str(name);
  if (!v) return fallback;
  if (*v == "true") return true;
  if (*v == "false") return false;
  throw UsageError("option --" + name + ": must be true or false");
}

std::int64_t int_option(const Args& a, const std::string& name, std::int64_t lo, std::int64_t hi, std::int64_t fallback) {
  const auto v = a.opt_str(name);
  if (!v) return fallback;
  if (*v == "-1" && lo <= -1) return -1;
  return static_cast<std::int64_t>(parse_uint(name, *v, static_cast<std::uint64_t>(std::max<std::int64_t>(lo, 0)),
                                              static_cast<std::uint64_t>(hi)));
}

std::string query_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

// The verb, taken from the front of args and checked against the allowed ones.
std::string verb_in(std::vector<std::string>& args, const std::string& resource, const std::string& fallback,
                    std::initializer_list<const char*> allowed) {
  const std::string verb = verb_of(args, fallback);
  std::string list;
  for (const char* a : allowed) {
    if (verb == a) return verb;
    list += std::string(list.empty() ? "" : ", ") + a;
  }
  bad_verb(resource, verb, list.c_str());
}

void print_spis(const json& spis) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : spis)
    rows.push_back({text_of(s["spi"]), text_of(s["from"]), text_of(s["to"]), joined(s["path"], " > ")});
  print_table({"SPI", "FROM", "TO", "PATH"}, rows);
}

}  // namespace meshgw::cli::rest
