// SPDX-License-Identifier: BSD-3-Clause
// Internal to meshctl's commands against meshctld and gateways
// (rest_command.cpp, gateway_command.cpp): where to connect (flags, then
// environment, then the 0600 config file), how a refusal is printed, the
// table and number formats, and the small argument helpers. Control path.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "controlplane/common/rest_client.hpp"

namespace meshgw::cli::rest {

using common::RestAnswer;
using common::RestClient;
using common::RestEndpoint;
using nlohmann::json;

struct Connection {
  RestEndpoint endpoint;
  std::string output = "table";
};

// The connection from --server/--ca/--token/--output, MESHCTL_* or the config file.
Connection connection(const Args& a);
// options plus the connection options every command takes.
std::set<std::string> with_connection(std::set<std::string> options);
// A refusal: the server's error message (and field) on stderr; returns 1.
int refused(const RestAnswer& r);

std::string when(std::int64_t unix_s);
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
std::string text_of(const json& v);
std::string fixed(double v, int digits);
std::string joined(const json& list, const char* sep);
void print_spis(const json& spis);
std::string read_file(const std::string& path);

// GET (or send) and print as JSON or with the table printer; 0, or 1 when refused.
int show(RestClient& client, const Connection& c, const std::string& target,
         const std::function<void(const json&)>& table);
int send_and_print(RestClient& client, const Connection& c, const std::string& method, const std::string& target,
                   const std::string& body, int expect, const std::function<void(const json&)>& table);

// The verb at the front of args (fallback if none), checked against allowed.
std::string verb_in(std::vector<std::string>& args, const std::string& resource, const std::string& fallback,
                    std::initializer_list<const char*> allowed);
bool bool_option(const Args& a, const std::string& name, bool fallback);
std::int64_t int_option(const Args& a, const std::string& name, std::int64_t lo, std::int64_t hi, std::int64_t fallback);
std::string query_escape(const std::string& s);

}  // namespace meshgw::cli::rest
