// SPDX-License-Identifier: BSD-3-Clause
#include "tunnel_keys.hpp"

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <list>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>

#include "controlplane/common/tls_stream.hpp"
#include "crypto/key_schedule.hpp"
#include "routing/forwarding_plan.hpp"

namespace meshgw::agent {

using nlohmann::json;

namespace {

using common::SslCtxPtr;
using common::SslPtr;
using common::ssl_error;

common::TlsFiles files_of(const TlsIdentity& me) { return {me.cert_file, me.key_file, me.ca_file}; }
SslCtxPtr make_ctx(const TlsIdentity& me, bool server) { return common::make_mtls_ctx(files_of(me), server, "tunnel keys"); }
std::string read_line(SSL* ssl) { return common::read_line(ssl, "tunnel keys"); }
void write_line(SSL* ssl, const std::string& text) { common::write_line(ssl, text, "tunnel keys"); }

// An SSL session carried inside another (the key relay's): its reads and
// writes go through the outer one. The outer SSL stays the caller's.
SslPtr inner_session(SSL_CTX* ctx, SSL* outer) {
  SslPtr inner(SSL_new(ctx));
  BIO* bio = BIO_new(BIO_f_ssl());
  if (!inner || bio == nullptr) throw std::runtime_error("tunnel keys: out of memory");
  BIO_set_ssl(bio, outer, BIO_NOCLOSE);
  SSL_set_bio(inner.get(), bio, bio);  // one BIO both ways: one reference taken
  return inner;
}

json request_json(const TunnelRequest& t) {
  return {{"forward_spi", t.forward_spi}, {"reverse_spi", t.reverse_spi}, {"path", t.path}, {"epoch", t.epoch}};
}

TunnelRequest request_of(const json& j) {
  TunnelRequest t;
  const auto spi = [&j](const char* k) {
    const auto v = j.at(k).get<std::uint64_t>();
    if (v < 256 || v > 0xffffffffu) throw std::runtime_error(std::string(k) + ": not an SPI");
    return static_cast<std::uint32_t>(v);
  };
  t.forward_spi = spi("forward_spi");
  t.reverse_spi = spi("reverse_spi");
  t.path = j.at("path").get<std::vector<std::string>>();
  t.epoch = j.at("epoch").get<std::uint32_t>();
  if (t.path.size() < 2) throw std::runtime_error("path: needs ingress and egress");
  if (t.forward_spi == t.reverse_spi) throw std::runtime_error("the two SPIs must differ");
  return t;
}

void derive(SSL* ssl, TunnelKeys& k) {
  k.forward = crypto::derive_sa_keys_exporter(ssl, {k.tunnel.forward_spi, k.tunnel.epoch});
  k.reverse = crypto::derive_sa_keys_exporter(ssl, {k.tunnel.reverse_spi, k.tunnel.epoch});
}

}  // namespace

namespace {

// The ingress's side of the exchange on a connected session (direct or
// through the relay): handshake, the egress checked, request, keys, and
// the egress's word that its data plane holds them.
TunnelKeys client_exchange(SSL* ssl, const std::string& where, const TunnelRequest& tunnel) {
  if (SSL_connect(ssl) != 1) throw std::runtime_error("tunnel keys: TLS with " + where + ": " + ssl_error());
  // The server must be the tunnel's egress, as the mesh CA certified it.
  const std::string peer = common::peer_common_name(ssl);
  if (peer != tunnel.path.back())
    throw std::runtime_error("tunnel keys: " + where + " is '" + peer + "', not the egress " + tunnel.path.back());
  write_line(ssl, request_json(tunnel).dump());
  const json answer = json::parse(read_line(ssl));
  if (!answer.value("ok", false))
    throw std::runtime_error("tunnel keys: " + peer + " refused: " + answer.value("error", std::string("?")));
  TunnelKeys k;
  k.tunnel = tunnel;
  k.peer = peer;
  derive(ssl, k);
  const json installed = json::parse(read_line(ssl));
  if (!installed.value("installed", false))
    throw std::runtime_error("tunnel keys: " + peer + " could not install the tunnel");
  SSL_shutdown(ssl);
  return k;
}

struct CloseFd {
  int fd;
  ~CloseFd() { ::close(fd); }
};

// A session with the key relay (meshctld), its certificate checked by the mesh CA.
SslPtr relay_session(SSL_CTX* ctx, int fd, const std::string& where) {
  SslPtr outer(SSL_new(ctx));
  SSL_set_fd(outer.get(), fd);
  if (SSL_connect(outer.get()) != 1) throw std::runtime_error("tunnel keys: TLS with the relay " + where + ": " + ssl_error());
  return outer;
}

}  // namespace

TunnelKeys request_tunnel_keys(const TlsIdentity& me, const std::string& host, std::uint16_t port,
                               const TunnelRequest& tunnel, int timeout_ms) {
  if (tunnel.path.size() < 2) throw std::runtime_error("tunnel keys: a path needs ingress and egress");
  common::ignore_sigpipe();
  SslCtxPtr ctx = make_ctx(me, false);
  const int fd = common::connect_tcp(host, port, timeout_ms, "tunnel keys");
  CloseFd close_fd{fd};
  SslPtr ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), fd);
  return client_exchange(ssl.get(), host, tunnel);
}

TunnelKeys request_tunnel_keys_relayed(const TlsIdentity& me, const std::string& relay_host, std::uint16_t relay_port,
                                       const TunnelRequest& tunnel, int timeout_ms) {
  if (tunnel.path.size() < 2) throw std::runtime_error("tunnel keys: a path needs ingress and egress");
  common::ignore_sigpipe();
  SslCtxPtr ctx = make_ctx(me, false);
  const int fd = common::connect_tcp(relay_host, relay_port, timeout_ms, "tunnel keys (relay)");
  CloseFd close_fd{fd};
  const std::string where = relay_host + ":" + std::to_string(relay_port);
  SslPtr outer = relay_session(ctx.get(), fd, where);
  write_line(outer.get(), json{{"connect", tunnel.path.back()}}.dump());
  const json answer = json::parse(read_line(outer.get()));
  if (!answer.value("ok", false))
    throw std::runtime_error("tunnel keys: the relay " + where + ": " + answer.value("error", std::string("refused")));
  SslPtr inner = inner_session(ctx.get(), outer.get());
  return client_exchange(inner.get(), tunnel.path.back() + " through the relay", tunnel);
}

TunnelKeyServer::TunnelKeyServer(TlsIdentity me, std::string self, const std::string& address, std::uint16_t port,
                                 Check accept)
    : me_(std::move(me)), self_(std::move(self)), accept_(std::move(accept)) {
  common::ignore_sigpipe();
  make_ctx(me_, true);  // refuse bad files now, not at the first connection
  listen_fd_ = common::listen_tcp(address, port, &port_, "tunnel keys");
  thread_ = std::thread([this] { serve(); });
}

TunnelKeyServer::~TunnelKeyServer() {
  {
    std::lock_guard lock(mutex_);  // a handler between its check and its wait must see it
    stop_ = true;
  }
  installed_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (relay_thread_.joinable()) relay_thread_.join();
  ::close(listen_fd_);
}

void TunnelKeyServer::park_at(const std::string& host, std::uint16_t port) {
  if (relay_thread_.joinable()) return;
  relay_thread_ = std::thread([this, host, port] { park(host, port); });
}

// Behind a NAT: a connection parked at the key relay, renewed every 40 s,
// carries the next peer's exchange; then another is parked.
void TunnelKeyServer::park(const std::string& host, std::uint16_t port) {
  unsigned backoff_ms = 500;
  while (!stop_) {
    try {
      SslCtxPtr ctx = make_ctx(me_, false);  // we are the relay's client
      const int fd = common::connect_tcp(host, port, 3000, "tunnel keys (relay)");
      CloseFd close_fd{fd};
      SslPtr outer = relay_session(ctx.get(), fd, host + ":" + std::to_string(port));
      write_line(outer.get(), json{{"wait", true}}.dump());
      parked_.store(true);
      backoff_ms = 500;
      const auto renew = std::chrono::steady_clock::now() + std::chrono::seconds(40);
      bool incoming = false;
      while (!stop_ && std::chrono::steady_clock::now() < renew) {
        if (SSL_pending(outer.get()) > 0) {
          incoming = true;
          break;
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 200) > 0) {
          incoming = true;
          break;
        }
      }
      parked_.store(false);
      if (!incoming) continue;
      const json from = json::parse(read_line(outer.get()));
      if (!from.contains("from")) continue;
      SslCtxPtr server_ctx = make_ctx(me_, true);
      SslPtr inner = inner_session(server_ctx.get(), outer.get());
      try {
        serve_session(inner.get());
      } catch (const std::exception&) {
        ++refused_;
      }
    } catch (const std::exception&) {
      parked_.store(false);
      for (unsigned waited = 0; waited < backoff_ms && !stop_; waited += 100)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      backoff_ms = std::min(10000u, backoff_ms * 2);
    }
  }
}

std::vector<std::unique_ptr<TunnelKeys>> TunnelKeyServer::take() {
  std::lock_guard lock(mutex_);
  std::vector<std::unique_ptr<TunnelKeys>> out;
  out.swap(agreed_);
  return out;
}

// Connections in threads of their own (at most kMaxSessions at once), each
// cut off after kSessionDeadline: a client that trickles bytes holds one
// slot for a while, never the server.
void TunnelKeyServer::serve() {
  constexpr std::size_t kMaxSessions = 16;
  constexpr auto kSessionDeadline = std::chrono::seconds(10);
  struct Session {
    int fd;
    std::chrono::steady_clock::time_point started;
    std::atomic<bool> finished{false};
    bool cut = false;
    std::thread thread;
  };
  std::list<std::unique_ptr<Session>> sessions;
  auto reap = [&](bool all) {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = sessions.begin(); it != sessions.end();) {
      Session& x = **it;
      if (!x.cut && (all || now - x.started > kSessionDeadline)) {
        ::shutdown(x.fd, SHUT_RDWR);  // its blocking reads and writes fail now
        x.cut = true;
      }
      if (x.finished.load() || all) {
        x.thread.join();
        ::close(x.fd);
        it = sessions.erase(it);
      } else {
        ++it;
      }
    }
  };
  while (!stop_) {
    reap(false);
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (sessions.size() >= kMaxSessions) {
      ::close(fd);
      ++refused_;
      continue;
    }
    common::set_socket_timeouts(fd, 3000);
    auto x = std::make_unique<Session>();
    x->fd = fd;
    x->started = std::chrono::steady_clock::now();
    Session* raw = x.get();
    try {
      x->thread = std::thread([this, raw] {
        try {
          handle(raw->fd);
        } catch (const std::exception&) {
          ++refused_;  // a bad peer costs its own connection; the server goes on
        }
        raw->finished.store(true);
      });
    } catch (const std::system_error&) {
      ::close(fd);
      ++refused_;
      continue;
    }
    sessions.push_back(std::move(x));
  }
  reap(true);
}

void TunnelKeyServer::handle(int fd) {
  SslCtxPtr ctx = make_ctx(me_, true);
  SslPtr ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), fd);
  serve_session(ssl.get());
}

void TunnelKeyServer::serve_session(SSL* ssl) {
  if (SSL_accept(ssl) != 1) throw std::runtime_error("handshake: " + ssl_error());
  const std::string peer = common::peer_common_name(ssl);
  TunnelRequest t;
  std::string refusal;
  try {
    t = request_of(json::parse(read_line(ssl)));
    if (t.path.back() != self_) refusal = "the path ends at " + t.path.back() + ", not at " + self_;
    else if (t.path.front() != peer) refusal = "the path starts at " + t.path.front() + ", but you are " + peer;
    else refusal = accept_ ? accept_(t, peer) : "";
  } catch (const std::exception& e) {
    refusal = std::string("malformed request: ") + e.what();
  }
  if (!refusal.empty()) {
    write_line(ssl, json{{"ok", false}, {"error", refusal}}.dump());
    throw std::runtime_error(refusal);
  }
  write_line(ssl, json{{"ok", true}}.dump());
  auto k = std::make_unique<TunnelKeys>();
  k->tunnel = t;
  k->peer = peer;
  derive(ssl, *k);
  const std::uint32_t spi = t.forward_spi;
  bool ok = false;
  {
    std::unique_lock lock(mutex_);
    installed_.erase(spi);
    agreed_.push_back(std::move(k));
    if (installed_cv_.wait_for(lock, std::chrono::milliseconds(install_timeout_ms),
                               [&] { return stop_.load() || installed_.contains(spi); }) &&
        installed_.contains(spi))
      ok = installed_[spi];
    installed_.erase(spi);
  }
  write_line(ssl, json{{"installed", ok}}.dump());
  SSL_shutdown(ssl);
  if (!ok) throw std::runtime_error("tunnel " + routing::spi_text(spi) + " not installed in time");
}

void TunnelKeyServer::installed(std::uint32_t forward_spi, bool ok) {
  {
    std::lock_guard lock(mutex_);
    if (installed_.size() > 1024) installed_.clear();  // answers nobody waited for (timed out)
    installed_[forward_spi] = ok;
  }
  installed_cv_.notify_all();
}

}  // namespace meshgw::agent
