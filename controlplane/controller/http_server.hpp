// SPDX-License-Identifier: BSD-3-Clause
// meshctld's HTTPS listener (Boost.Beast over asio::ssl, TLS 1.3 only): one
// port for the operator REST API (bearer tokens) and the gateway API (client
// certificates from the mesh CA; a revoked one fails the handshake). Limits:
// body size (413), concurrent connections (503), requests per second per
// client address (429), header and idle timeouts. GET /v1/gw/watch streams
// the mesh state as newline-delimited JSON (chunked): a snapshot or deltas,
// then each change as it happens; GET /v1/events/watch streams the events
// (one JSON object a line) the same way.
// Threads: one I/O thread of its own; handlers call the Controller.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "controller.hpp"

namespace meshgw::controller {

class HttpServer {
 public:
  // Binds (throws std::runtime_error naming the address) and starts serving.
  HttpServer(Controller& controller, const ControllerConfig& config, const MeshCa& ca);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  std::uint16_t port() const noexcept { return port_; }
  // Wakes the watch streams (any thread).
  void notify();

  struct Impl;  // internal (http_server.cpp)

 private:
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace meshgw::controller
