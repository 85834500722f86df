// SPDX-License-Identifier: BSD-3-Clause
#include "tunnel_keys.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "crypto/key_schedule.hpp"
#include "routing/forwarding_plan.hpp"

namespace meshgw::agent {

using nlohmann::json;

namespace {

// OpenSSL writes with write(2): a peer that hung up would kill the process
// with SIGPIPE instead of failing the call. Ignored once, process-wide (the
// programs using this are daemons, which expect EPIPE).
void ignore_sigpipe() {
  static const bool done = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

std::string ssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "connection closed";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct CtxFree {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const noexcept { SSL_free(s); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

// TLS 1.3 only, our certificate, the mesh CA as the only trust anchor, the
// peer's certificate required.
CtxPtr make_ctx(const TlsIdentity& me, bool server) {
  CtxPtr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  if (!ctx) throw std::runtime_error("tunnel keys: SSL_CTX_new: " + ssl_error());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), me.cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), me.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_load_verify_locations(ctx.get(), me.ca_file.c_str(), nullptr) != 1)
    throw std::runtime_error("tunnel keys: certificate, key or CA (" + me.cert_file + "): " + ssl_error());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return ctx;
}

std::string peer_id(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  const X509_NAME* name = X509_get_subject_name(cert);
  const int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
}

void set_timeouts(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// One line (at most 4 KiB) from the TLS stream.
std::string read_line(SSL* ssl) {
  std::string line;
  char c;
  while (line.size() < 4096) {
    const int n = SSL_read(ssl, &c, 1);
    if (n <= 0) throw std::runtime_error("tunnel keys: reading: " + ssl_error());
    if (c == '\n') return line;
    line.push_back(c);
  }
  throw std::runtime_error("tunnel keys: line longer than 4 KiB");
}

void write_line(SSL* ssl, const std::string& text) {
  const std::string line = text + "\n";
  if (SSL_write(ssl, line.data(), static_cast<int>(line.size())) != static_cast<int>(line.size()))
    throw std::runtime_error("tunnel keys: writing: " + ssl_error());
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

TunnelKeys request_tunnel_keys(const TlsIdentity& me, const std::string& host, std::uint16_t port,
                               const TunnelRequest& tunnel, int timeout_ms) {
  if (tunnel.path.size() < 2) throw std::runtime_error("tunnel keys: a path needs ingress and egress");
  ignore_sigpipe();
  CtxPtr ctx = make_ctx(me, false);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr)
    throw std::runtime_error("tunnel keys: cannot resolve " + host);
  const int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  set_timeouts(fd, timeout_ms);
  const bool connected = fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) == 0;
  const std::string why = connected ? "" : std::strerror(errno);
  ::freeaddrinfo(res);
  if (!connected) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("tunnel keys: cannot connect to " + host + ":" + std::to_string(port) + ": " + why);
  }
  SslPtr ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), fd);
  struct Close {
    int fd;
    ~Close() { ::close(fd); }
  } close_fd{fd};
  if (SSL_connect(ssl.get()) != 1) throw std::runtime_error("tunnel keys: TLS with " + host + ": " + ssl_error());
  // The server must be the tunnel's egress, as the mesh CA certified it.
  const std::string peer = peer_id(ssl.get());
  if (peer != tunnel.path.back())
    throw std::runtime_error("tunnel keys: " + host + " is '" + peer + "', not the egress " + tunnel.path.back());
  write_line(ssl.get(), request_json(tunnel).dump());
  const json answer = json::parse(read_line(ssl.get()));
  if (!answer.value("ok", false))
    throw std::runtime_error("tunnel keys: " + peer + " refused: " + answer.value("error", std::string("?")));
  TunnelKeys k;
  k.tunnel = tunnel;
  k.peer = peer;
  derive(ssl.get(), k);
  const json installed = json::parse(read_line(ssl.get()));
  if (!installed.value("installed", false))
    throw std::runtime_error("tunnel keys: " + peer + " could not install the tunnel");
  SSL_shutdown(ssl.get());
  return k;
}

TunnelKeyServer::TunnelKeyServer(TlsIdentity me, std::string self, const std::string& address, std::uint16_t port,
                                 Check accept)
    : me_(std::move(me)), self_(std::move(self)), accept_(std::move(accept)) {
  ignore_sigpipe();
  make_ctx(me_, true);  // refuse bad files now, not at the first connection
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1)
    throw std::runtime_error("tunnel keys: listen address '" + address + "' is not IPv4");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    const std::string why = std::strerror(errno);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    throw std::runtime_error("tunnel keys: listen " + address + ":" + std::to_string(port) + ": " + why);
  }
  socklen_t len = sizeof sa;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  port_ = ntohs(sa.sin_port);
  thread_ = std::thread([this] { serve(); });
}

TunnelKeyServer::~TunnelKeyServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

std::vector<std::unique_ptr<TunnelKeys>> TunnelKeyServer::take() {
  std::lock_guard lock(mutex_);
  std::vector<std::unique_ptr<TunnelKeys>> out;
  out.swap(agreed_);
  return out;
}

void TunnelKeyServer::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    set_timeouts(fd, 3000);
    try {
      handle(fd);
    } catch (const std::exception&) {
      ++refused_;  // a bad peer costs one connection; the server goes on
    }
    ::close(fd);
  }
}

void TunnelKeyServer::handle(int fd) {
  CtxPtr ctx = make_ctx(me_, true);
  SslPtr ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), fd);
  if (SSL_accept(ssl.get()) != 1) throw std::runtime_error("handshake: " + ssl_error());
  const std::string peer = peer_id(ssl.get());
  TunnelRequest t;
  std::string refusal;
  try {
    t = request_of(json::parse(read_line(ssl.get())));
    if (t.path.back() != self_) refusal = "the path ends at " + t.path.back() + ", not at " + self_;
    else if (t.path.front() != peer) refusal = "the path starts at " + t.path.front() + ", but you are " + peer;
    else refusal = accept_ ? accept_(t, peer) : "";
  } catch (const std::exception& e) {
    refusal = std::string("malformed request: ") + e.what();
  }
  if (!refusal.empty()) {
    write_line(ssl.get(), json{{"ok", false}, {"error", refusal}}.dump());
    throw std::runtime_error(refusal);
  }
  write_line(ssl.get(), json{{"ok", true}}.dump());
  auto k = std::make_unique<TunnelKeys>();
  k->tunnel = t;
  k->peer = peer;
  derive(ssl.get(), *k);
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
  write_line(ssl.get(), json{{"installed", ok}}.dump());
  SSL_shutdown(ssl.get());
  if (!ok) throw std::runtime_error("tunnel " + routing::spi_text(spi) + " not installed in time");
}

void TunnelKeyServer::installed(std::uint32_t forward_spi, bool ok) {
  {
    std::lock_guard lock(mutex_);
    installed_[forward_spi] = ok;
  }
  installed_cv_.notify_all();
}

}  // namespace meshgw::agent
