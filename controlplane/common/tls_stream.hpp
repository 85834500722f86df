// SPDX-License-Identifier: BSD-3-Clause
// Blocking TLS 1.3 with mesh-CA certificates on both sides, as the tunnel
// key exchange (agent) and the key relay (meshctld) speak it: contexts,
// the peer's certified id, newline-delimited JSON lines, TCP connects with
// timeouts, and a splice that copies bytes between two TLS streams (the
// relay's job: it carries the gateways' own end-to-end TLS inside, which
// it cannot read). Control path; throws std::runtime_error.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>

namespace meshgw::common {

struct TlsFiles {
  std::string cert_file;  // this side's certificate
  std::string key_file;   // its key (0600)
  std::string ca_file;    // the mesh CA: the only trust anchor
};

struct SslCtxFree {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const noexcept { SSL_free(s); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

// SIGPIPE ignored once, process-wide: OpenSSL writes with write(2), and a
// peer that hung up must fail the call, not kill the daemon.
void ignore_sigpipe();
// The next OpenSSL error as text ("connection closed" when there is none).
std::string ssl_error();
// TLS 1.3 only; our certificate; the peer's certificate required and
// verified against the mesh CA. what names the user in messages.
SslCtxPtr make_mtls_ctx(const TlsFiles& files, bool server, const std::string& what);
// The peer certificate's common name once verified ("" if none or unverified).
std::string peer_common_name(SSL* ssl);
// The certificate's serial in lower-case hex, as crypto/pki writes it ("" if none).
std::string peer_serial(SSL* ssl);

// A TCP connection with send/receive timeouts; throws naming host:port.
int connect_tcp(const std::string& host, std::uint16_t port, int timeout_ms, const std::string& what);
void set_socket_timeouts(int fd, int ms);
// A listening TCP socket on ipv4:port (port 0: any free one, written to
// *bound); throws naming what and the address.
int listen_tcp(const std::string& ipv4, std::uint16_t port, std::uint16_t* bound, const std::string& what);

// One line (at most 4 KiB, without the newline) / a line and its newline.
std::string read_line(SSL* ssl, const std::string& what);
void write_line(SSL* ssl, const std::string& text, const std::string& what);

// Copies bytes both ways between two established TLS streams until one
// side closes or nothing moves for idle_ms. Single thread (OpenSSL objects
// are not shared between threads); the sockets are made non-blocking.
// Returns the bytes carried.
std::uint64_t splice(SSL* a, SSL* b, int idle_ms);

}  // namespace meshgw::common
