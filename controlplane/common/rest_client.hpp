// SPDX-License-Identifier: BSD-3-Clause
// The HTTPS client for meshctld (meshctl and the gateway agent) (Boost.Beast over asio::ssl, TLS 1.3):
// the server certificate is verified against the mesh CA and the server's
// name or address; a bearer token (operator API) or a client certificate
// (gateway API) authenticates. One connection per request; streams read
// newline-delimited JSON until told to stop. Control path; throws
// std::runtime_error naming the server on connection and TLS failures.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace meshgw::common {

struct RestEndpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;
  std::string ca_file;    // the mesh CA (ca.pem from meshctld init)
  std::string token;      // bearer token (operator API); never printed
  std::string cert_file;  // client certificate (gateway API)
  std::string key_file;
  // "https://host:port" (port defaults to 8443); throws std::invalid_argument.
  static RestEndpoint from_url(const std::string& url);
};

struct RestAnswer {
  int status = 0;
  std::string body;
};

class RestClient {
 public:
  explicit RestClient(RestEndpoint endpoint);
  ~RestClient();
  RestAnswer request(const std::string& method, const std::string& target, const std::string& body = {});
  // GET target as a stream: on_line for each line until it returns false,
  // the server ends the stream, nothing arrives for idle_timeout_s (a
  // controller that went away without closing), or cancel() is called.
  // Returns the HTTP status.
  int stream(const std::string& target, const std::function<bool(const std::string&)>& on_line,
             int idle_timeout_s = 0);
  // Any thread: ends a stream() in progress.
  void cancel() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// GET http://HOST:PORT/PATH without TLS, for a gateway's own loopback admin
// endpoint (meshgw's [stats] listener). Throws std::runtime_error naming the
// URL when it cannot be reached; std::invalid_argument for a bad URL.
RestAnswer http_get(const std::string& url);

}  // namespace meshgw::common
