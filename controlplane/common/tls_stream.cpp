// SPDX-License-Identifier: BSD-3-Clause
#include "tls_stream.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

namespace meshgw::common {

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

SslCtxPtr make_mtls_ctx(const TlsFiles& files, bool server, const std::string& what) {
  SslCtxPtr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  if (!ctx) throw std::runtime_error(what + ": SSL_CTX_new: " + ssl_error());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), files.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_load_verify_locations(ctx.get(), files.ca_file.c_str(), nullptr) != 1)
    throw std::runtime_error(what + ": certificate, key or CA (" + files.cert_file + "): " + ssl_error());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // No session tickets: sessions are never resumed, and a parked connection
  // must stay silent until its peer arrives.
  if (server) SSL_CTX_set_num_tickets(ctx.get(), 0);
  return ctx;
}

std::string peer_common_name(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  const X509_NAME* name = X509_get_subject_name(cert);
  const int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::string peer_serial(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return {};
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  if (bn == nullptr) return {};
  char* hex = BN_bn2hex(bn);
  std::string out = hex ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));  // as pki writes serials
  return out;
}

void set_socket_timeouts(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int listen_tcp(const std::string& ipv4, std::uint16_t port, std::uint16_t* bound, const std::string& what) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, ipv4.c_str(), &sa.sin_addr) != 1)
    throw std::runtime_error(what + ": listen address '" + ipv4 + "' is not IPv4");
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 64) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error(what + ": listen " + ipv4 + ":" + std::to_string(port) + ": " + why);
  }
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  if (bound != nullptr) *bound = ntohs(sa.sin_port);
  return fd;
}

int connect_tcp(const std::string& host, std::uint16_t port, int timeout_ms, const std::string& what) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr)
    throw std::runtime_error(what + ": cannot resolve " + host);
  std::string why = "no address";
  int fd = -1;
  for (const addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {  // each address in turn
    fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    set_socket_timeouts(fd, timeout_ms);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      // With SO_SNDTIMEO set, Linux ends a connect that ran out of time
      // with EINTR (or EINPROGRESS): say what happened.
      why = errno == EINTR || errno == EINPROGRESS ? "no answer within " + std::to_string(timeout_ms) + " ms"
                                                   : std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0) throw std::runtime_error(what + ": cannot connect to " + host + ":" + std::to_string(port) + ": " + why);
  return fd;
}

std::string read_line(SSL* ssl, const std::string& what) {
  std::string line;
  char c;
  while (line.size() < 4096) {
    const int n = SSL_read(ssl, &c, 1);
    if (n <= 0) throw std::runtime_error(what + ": reading: " + ssl_error());
    if (c == '\n') return line;
    line.push_back(c);
  }
  throw std::runtime_error(what + ": line longer than 4 KiB");
}

void write_line(SSL* ssl, const std::string& text, const std::string& what) {
  const std::string line = text + "\n";
  if (SSL_write(ssl, line.data(), static_cast<int>(line.size())) != static_cast<int>(line.size()))
    throw std::runtime_error(what + ": writing: " + ssl_error());
}

namespace {

bool wait_fd(int fd, short events, int ms) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, ms) > 0;
}

bool write_all(SSL* s, const char* data, int n) {
  int off = 0;
  while (off < n) {
    const int w = SSL_write(s, data + off, n - off);
    if (w > 0) {
      off += w;
      continue;
    }
    const int err = SSL_get_error(s, w);
    if (err == SSL_ERROR_WANT_WRITE && wait_fd(SSL_get_fd(s), POLLOUT, 5000)) continue;
    if (err == SSL_ERROR_WANT_READ && wait_fd(SSL_get_fd(s), POLLIN, 5000)) continue;
    return false;
  }
  return true;
}

}  // namespace

std::uint64_t splice(SSL* a, SSL* b, int idle_ms) {
  SSL* side[2] = {a, b};
  for (SSL* s : side) {
    const int fd = SSL_get_fd(s);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  std::uint64_t carried = 0;
  char buf[16384];
  for (;;) {
    bool moved = false;
    for (int i = 0; i < 2; ++i) {
      for (;;) {
        const int n = SSL_read(side[i], buf, sizeof buf);
        if (n > 0) {
          if (!write_all(side[1 - i], buf, n)) return carried;
          carried += static_cast<std::uint64_t>(n);
          moved = true;
          continue;
        }
        const int err = SSL_get_error(side[i], n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
        return carried;  // closed, or an error: the splice ends
      }
    }
    if (moved) continue;
    pollfd p[2] = {{SSL_get_fd(a), POLLIN, 0}, {SSL_get_fd(b), POLLIN, 0}};
    if (::poll(p, 2, idle_ms) <= 0) return carried;  // idle too long
  }
}

}  // namespace meshgw::common
