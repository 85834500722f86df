// SPDX-License-Identifier: BSD-3-Clause
// End-to-end ESP keys for a tunnel (DESIGN "Keys and trust"): the ingress
// opens mTLS 1.3 to the egress (certificates from the mesh CA on both
// sides, the peer's ID checked against the tunnel's path), names the tunnel
// (its two SPIs, its path, the key epoch) in one JSON line, the egress
// checks it against what it knows and answers, and both derive the two SAs'
// keys with the TLS exporter over a context naming SPI and epoch. Nothing
// but the two ends ever holds the keys; the controller only allocated the
// SPIs.
//
// Wire: client -> {"forward_spi": F, "reverse_spi": R, "path": [ingress, ..., egress], "epoch": E}\n
//       server -> {"ok": true}\n  or  {"ok": false, "error": "..."}\n
//       (both derive the keys)
//       server -> {"installed": true}\n once its data plane holds the SAs
//       (make before break: the ingress uses a tunnel only after this)
// forward_spi keys ingress -> egress traffic, reverse_spi the other way.
// Control path: blocking sockets with timeouts, in the caller's thread
// (client) or the server's threads (one per connection, at most 16, each
// cut off after 10 s). Throws std::runtime_error.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <openssl/ssl.h>

#include "crypto/esp.hpp"

namespace meshgw::agent {

struct TlsIdentity {
  std::string cert_file;  // this gateway's certificate (from the controller)
  std::string key_file;   // its key (0600)
  std::string ca_file;    // the mesh CA
};

struct TunnelRequest {
  std::uint32_t forward_spi = 0;  // ingress -> egress
  std::uint32_t reverse_spi = 0;  // egress -> ingress
  std::vector<std::string> path;  // ingress first, egress last
  std::uint32_t epoch = 0;
  bool operator==(const TunnelRequest&) const = default;
};

struct TunnelKeys {
  TunnelRequest tunnel;
  std::string peer;  // the other end, as its certificate names it
  crypto::SaKeyMaterial forward;
  crypto::SaKeyMaterial reverse;
};

// The ingress side: connects to host:port, checks that the server is
// tunnel.path.back(), and returns the keys once the egress has agreed.
TunnelKeys request_tunnel_keys(const TlsIdentity& me, const std::string& host, std::uint16_t port,
                               const TunnelRequest& tunnel, int timeout_ms = 3000);

// The same through meshctld's key relay, for an egress behind a NAT that
// parked a connection there (TunnelKeyServer::park_at): the relay joins the
// two and carries this end-to-end session inside, unable to read it.
TunnelKeys request_tunnel_keys_relayed(const TlsIdentity& me, const std::string& relay_host, std::uint16_t relay_port,
                                       const TunnelRequest& tunnel, int timeout_ms = 3000);

// The egress side: a TLS server on address:port (port 0: any) that accepts
// tunnel requests whose path ends at self and starts at the connecting
// peer, and which `accept` approves (e.g. the SPIs and path are in the mesh
// state). Each agreed tunnel's keys are kept for take().
class TunnelKeyServer {
 public:
  using Check = std::function<std::string(const TunnelRequest&, const std::string& peer)>;  // "" = accept
  TunnelKeyServer(TlsIdentity me, std::string self, const std::string& address, std::uint16_t port, Check accept);
  ~TunnelKeyServer();
  TunnelKeyServer(const TunnelKeyServer&) = delete;
  TunnelKeyServer& operator=(const TunnelKeyServer&) = delete;
  std::uint16_t port() const noexcept { return port_; }
  // Keys agreed since the last call (control thread).
  std::vector<std::unique_ptr<TunnelKeys>> take();
  // Control thread: the SAs of the tunnel whose forward SPI this is are in
  // the data plane (or never will be: installed = false); the ingress hears
  // it. An answer not given within install_timeout_ms is a refusal.
  void installed(std::uint32_t forward_spi, bool ok = true);
  unsigned install_timeout_ms = 2000;
  std::uint64_t refused() const noexcept { return refused_.load(); }
  // Behind a NAT: also take exchanges through the key relay at host:port,
  // keeping a connection parked there (a thread of its own).
  void park_at(const std::string& host, std::uint16_t port);
  bool parked() const noexcept { return parked_.load(); }

 private:
  void serve();
  void handle(int fd);
  void serve_session(SSL* ssl);
  void park(const std::string& host, std::uint16_t port);
  TlsIdentity me_;
  std::string self_;
  Check accept_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> refused_{0};
  std::mutex mutex_;
  std::vector<std::unique_ptr<TunnelKeys>> agreed_;
  std::map<std::uint32_t, bool> installed_;  // forward SPI -> outcome, until the handler reads it
  std::condition_variable installed_cv_;
  std::thread thread_;
  std::thread relay_thread_;
  std::atomic<bool> parked_{false};
};

}  // namespace meshgw::agent
