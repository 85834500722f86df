// SPDX-License-Identifier: BSD-3-Clause
// The key relay: how two gateways agree tunnel keys when the egress cannot
// be reached (it is behind a NAT). The egress keeps a connection parked
// here; the ingress connects, names the egress, and the relay joins the two
// connections and copies bytes. Both sides authenticate with their mesh
// certificates (revoked ones are refused); inside, the gateways run their
// own mTLS 1.3 end to end (controlplane/agent/tunnel_keys), so the relay
// carries ciphertext and never sees a key.
//
// Lines (JSON, one per line, over the relay's TLS):
//   egress:  {"wait": true}            parks (at most 4 per gateway; the
//                                      oldest goes); later the relay writes
//                                      {"from": "gw-3"} and the splice begins
//   ingress: {"connect": "gw-7"}       -> {"ok": true} and the splice, or
//                                      {"ok": false, "error": "..."}
// Threads: an accept thread and one per connection (few: a handful of
// NATed gateways park, and a key exchange takes milliseconds). At most 32
// connections handshake at once (a newer one pushes out the oldest, so
// silent connections cannot lock gateways out) and 256 are authenticated.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "controlplane/common/tls_stream.hpp"

namespace meshgw::controller {

class KeyRelay {
 public:
  // allowed(gateway id, certificate serial): not revoked.
  using Allowed = std::function<bool(const std::string&, const std::string&)>;
  KeyRelay(common::TlsFiles server, const std::string& address, std::uint16_t port, Allowed allowed);
  ~KeyRelay();
  KeyRelay(const KeyRelay&) = delete;
  KeyRelay& operator=(const KeyRelay&) = delete;
  std::uint16_t port() const noexcept { return port_; }
  std::uint64_t spliced() const noexcept { return spliced_.load(); }
  std::uint64_t refused() const noexcept { return refused_.load(); }
  // Handshakes pushed out by newer connections (a flood of silent ones).
  std::uint64_t evicted() const noexcept { return evicted_.load(); }

 private:
  struct Conn;
  void accept_loop();
  void serve(const std::shared_ptr<Conn>& conn);
  void forget(const std::shared_ptr<Conn>& conn);
  common::TlsFiles files_;
  Allowed allowed_;
  common::SslCtxPtr ctx_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> spliced_{0}, refused_{0}, evicted_{0};
  std::atomic<int> active_{0}, authenticated_{0};
  std::mutex mutex_;
  std::map<std::string, std::deque<std::shared_ptr<Conn>>> parked_;
  std::set<std::shared_ptr<Conn>> conns_;  // every live connection (shut down on stop)
  std::deque<std::shared_ptr<Conn>> handshaking_;  // oldest first
  std::thread thread_;
};

}  // namespace meshgw::controller
