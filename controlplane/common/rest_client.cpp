// SPDX-License-Identifier: BSD-3-Clause
#include "rest_client.hpp"

#include <utility>  // boost/asio/awaitable.hpp uses std::exchange

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <stdexcept>

namespace meshgw::common {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

RestEndpoint RestEndpoint::from_url(const std::string& url) {
  const std::string prefix = "https://";
  if (url.rfind(prefix, 0) != 0) throw std::invalid_argument("server '" + url + "' must start with https://");
  std::string rest = url.substr(prefix.size());
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    if (slash + 1 != rest.size()) throw std::invalid_argument("server '" + url + "' must not have a path");
    rest.resize(slash);
  }
  RestEndpoint e;
  std::string port;
  if (!rest.empty() && rest[0] == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) throw std::invalid_argument("server '" + url + "': unclosed [");
    e.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') throw std::invalid_argument("server '" + url + "': junk after ]");
      port = rest.substr(close + 2);
    }
  } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    e.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    e.host = rest;
  }
  if (e.host.empty()) throw std::invalid_argument("server '" + url + "' has no host");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535 ||
        std::stoul(port) == 0)
      throw std::invalid_argument("server '" + url + "': port must be 1..65535");
    e.port = static_cast<std::uint16_t>(std::stoul(port));
  }
  return e;
}

struct RestClient::Impl {
  RestEndpoint ep;
  std::atomic<int> stream_fd{-1};
  asio::io_context io;
  ssl::context tls{ssl::context::tls_client};

  std::string where() const { return "https://" + ep.host + ":" + std::to_string(ep.port); }

  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> connect() {
    auto stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, tls);
    SSL* s = stream->native_handle();
    // The server must be who its certificate says, for the name or address dialled.
    in6_addr a6{};
    in_addr a4{};
    const bool is_ip = inet_pton(AF_INET, ep.host.c_str(), &a4) == 1 || inet_pton(AF_INET6, ep.host.c_str(), &a6) == 1;
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), ep.host.c_str());
    } else {
      SSL_set1_host(s, ep.host.c_str());
      // SNI; SSL_set_tlsext_host_name is a macro with an old-style cast.
      SSL_ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(ep.host.c_str()));
    }
    beast::error_code ec;
    tcp::resolver resolver(io);
    const auto results = resolver.resolve(ep.host, std::to_string(ep.port), ec);
    if (ec) throw std::runtime_error(where() + ": cannot resolve: " + ec.message());
    beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(10));
    beast::get_lowest_layer(*stream).connect(results, ec);
    if (ec) throw std::runtime_error(where() + ": cannot connect: " + ec.message());
    stream->handshake(ssl::stream_base::client, ec);
    if (ec) throw std::runtime_error(where() + ": TLS handshake failed: " + ec.message());
    return stream;
  }

  http::request<http::string_body> make(const std::string& method, const std::string& target, const std::string& body) {
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    if (req.method() == http::verb::unknown) throw std::invalid_argument("unknown HTTP method " + method);
    req.set(http::field::host, ep.host);
    req.set(http::field::user_agent, "meshctl");
    if (!ep.token.empty()) req.set(http::field::authorization, "Bearer " + ep.token);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    return req;
  }
};

RestClient::RestClient(RestEndpoint endpoint) : impl_(std::make_unique<Impl>()) {
  impl_->ep = std::move(endpoint);
  SSL_CTX_set_min_proto_version(impl_->tls.native_handle(), TLS1_3_VERSION);
  beast::error_code ec;
  if (impl_->ep.ca_file.empty())
    throw std::runtime_error("the mesh CA certificate is needed to verify the controller (--ca or MESHCTL_CA)");
  impl_->tls.load_verify_file(impl_->ep.ca_file, ec);
  if (ec) throw std::runtime_error(impl_->ep.ca_file + ": cannot load the CA certificate: " + ec.message());
  impl_->tls.set_verify_mode(ssl::verify_peer);
  if (!impl_->ep.cert_file.empty()) {
    impl_->tls.use_certificate_chain_file(impl_->ep.cert_file, ec);
    if (!ec) impl_->tls.use_private_key_file(impl_->ep.key_file, ssl::context::pem, ec);
    if (ec) throw std::runtime_error(impl_->ep.cert_file + ": cannot load the client certificate and key: " + ec.message());
  }
}

RestClient::~RestClient() = default;

RestAnswer RestClient::request(const std::string& method, const std::string& target, const std::string& body) {
  auto stream = impl_->connect();
  auto req = impl_->make(method, target, body);
  beast::error_code ec;
  http::write(*stream, req, ec);
  if (ec) throw std::runtime_error(impl_->where() + ": sending the request failed: " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(30));
  http::read(*stream, buffer, parser, ec);
  if (ec) throw std::runtime_error(impl_->where() + ": reading the answer failed: " + ec.message());
  stream->shutdown(ec);  // the server may close first; nothing to report
  return {static_cast<int>(parser.get().result_int()), parser.get().body()};
}

void RestClient::cancel() noexcept {
  const int fd = impl_->stream_fd.load();
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);  // the blocked read returns
}

int RestClient::stream(const std::string& target, const std::function<bool(const std::string&)>& on_line,
                       int idle_timeout_s) {
  auto stream = impl_->connect();
  const int fd = beast::get_lowest_layer(*stream).socket().native_handle();
  if (idle_timeout_s > 0) {
    timeval tv{idle_timeout_s, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  impl_->stream_fd.store(fd);
  struct Clear {
    std::atomic<int>& fd;
    ~Clear() { fd.store(-1); }
  } clear{impl_->stream_fd};
  auto req = impl_->make("GET", target, "");
  beast::error_code ec;
  http::write(*stream, req, ec);
  if (ec) throw std::runtime_error(impl_->where() + ": sending the request failed: " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  http::read_header(*stream, buffer, parser, ec);
  if (ec) throw std::runtime_error(impl_->where() + ": reading the answer failed: " + ec.message());
  const int status = static_cast<int>(parser.get().result_int());
  beast::get_lowest_layer(*stream).expires_never();
  std::string pending;
  char chunk[16384];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    // read_some: a stream's body never ends; take what has arrived.
    http::read_some(*stream, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) break;
    pending.append(chunk, sizeof chunk - parser.get().body().size);
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
      const std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (!line.empty() && !on_line(line)) return status;
    }
  }
  if (!pending.empty()) on_line(pending);
  return status;
}

RestAnswer http_get(const std::string& url) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) throw std::invalid_argument("'" + url + "' must start with http://");
  const std::string rest = url.substr(prefix.size());
  const auto slash = rest.find('/');
  const std::string hostport = rest.substr(0, slash);
  const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = hostport.rfind(':');
  if (colon == std::string::npos || colon == 0) throw std::invalid_argument("'" + url + "' must name HOST:PORT");
  const std::string host = hostport.substr(0, colon), port = hostport.substr(colon + 1);
  asio::io_context io;
  beast::tcp_stream stream(io);
  tcp::resolver resolver(io);
  beast::error_code ec;
  const auto results = resolver.resolve(host, port, ec);
  if (!ec) {
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(results, ec);
  }
  if (ec) throw std::runtime_error(url + ": cannot connect: " + ec.message());
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "meshctl");
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) http::read(stream, buffer, res, ec);
  if (ec && ec != http::error::end_of_stream) throw std::runtime_error(url + ": " + ec.message());
  return {static_cast<int>(res.result_int()), res.body()};
}

}  // namespace meshgw::common
