// SPDX-License-Identifier: BSD-3-Clause
#include "http_server.hpp"

#include <utility>  // boost/asio/awaitable.hpp uses std::exchange

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <map>
#include <set>

namespace meshgw::controller {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// CN and lower-case hex serial of a certificate.
std::pair<std::string, std::string> identity_of(X509* cert) {
  std::string cn, serial;
  const X509_NAME* name = X509_get_subject_name(cert);
  const int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at >= 0) {
    const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
    cn.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  if (char* hex = bn ? BN_bn2hex(bn) : nullptr) {
    serial = hex;
    OPENSSL_free(hex);
  }
  BN_free(bn);
  for (char& c : serial) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {cn, serial};
}

// Requests per second per client address: a token bucket of rps tokens.
struct Bucket {
  double tokens = 0;
  std::int64_t last_ms = 0;
};

}  // namespace

class Session;

struct HttpServer::Impl {
  Controller& controller;
  const ControllerConfig& config;
  asio::io_context io{1};
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  asio::steady_timer ticker{io};
  asio::steady_timer accept_retry{io};
  std::size_t connections = 0;
  std::map<std::string, Bucket> buckets;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> watchers;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
  std::int64_t last_heartbeat_ms = 0;

  Impl(Controller& c, const ControllerConfig& cfg) : controller(c), config(cfg) {}
  void accept();
  void tick();
  void push_to_watchers(bool heartbeat);
  bool admit(const std::string& client) {
    const std::int64_t now = unix_ms();
    const double rps = config.requests_per_second;
    Bucket& b = buckets[client];
    if (b.last_ms == 0) b.tokens = rps;
    b.tokens = std::min(rps, b.tokens + static_cast<double>(now - b.last_ms) * rps / 1000.0);
    b.last_ms = now;
    if (buckets.size() > 100'000) buckets.clear();  // bounded: forget everyone rather than grow
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer::Impl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket), server.tls) {
    beast::error_code ec;
    const auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    client_ = ec ? "?" : ep.address().to_string();
    ++server_.connections;
  }
  ~Session() {
    --server_.connections;
    server_.sessions.erase(weak_from_this());  // the control block outlives the object
    server_.watchers.erase(weak_from_this());
  }
  void shutdown() { close(); }

  void run() {
    server_.sessions.insert(weak_from_this());
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
  }

  // A change (or a heartbeat): the watch stream's next line, if any.
  void push(bool heartbeat) {
    if (!watching_ || closing_) return;
    if (!events_ && !server_.controller.client_allowed(gateway_, serial_)) {  // revoked meanwhile: the stream ends
      close();
      return;
    }
    bool sent = false;
    if (events_) {
      for (const EventRecord& e : server_.controller.events_after(version_, 1000)) {
        queue_.push_back(nlohmann::json{{"seq", e.seq}, {"time_ms", e.time}, {"kind", e.kind}, {"gateway", e.gateway},
                                        {"detail", e.detail}}
                             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                         "\n");
        version_ = e.seq;
        sent = true;
      }
    } else if (auto u = server_.controller.updates_for(epoch_, version_, gateway_)) {
      epoch_ = (*u)["epoch"].get<std::string>();
      version_ = (*u)["version"].get<std::uint64_t>();
      queue_.push_back(u->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      sent = true;
    }
    if (!sent && heartbeat)
      queue_.push_back(nlohmann::json{{"heartbeat", version_}, {"epoch", epoch_}}.dump() + "\n");
    write_queue();
  }

 private:
  void on_handshake(beast::error_code ec) {
    if (ec) return;  // includes a refused (revoked, foreign) client certificate
    SSL* s = stream_.native_handle();
    if (X509* cert = SSL_get0_peer_certificate(s); cert != nullptr && SSL_get_verify_result(s) == X509_V_OK)
      std::tie(gateway_, serial_) = identity_of(cert);
    read();
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(server_.config.max_body_bytes);
    parser_->header_limit(16 * 1024);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      // Answered as soon as the length is known; the rest of the body is
      // read and dropped (bounded) so the client sees the answer, not a reset.
      draining_ = true;
      respond_error(413, "request body larger than max_body_bytes (" +
                             std::to_string(server_.config.max_body_bytes) + ")", true);
      return;
    }
    if (ec == http::error::header_limit) {
      respond_error(431, "request header larger than 16 KiB", true);
      return;
    }
    if (ec) {
      if (ec != http::error::end_of_stream && ec != beast::error::timeout && ec != asio::ssl::error::stream_truncated &&
          ec.category() == http::make_error_code(http::error::bad_target).category())
        respond_error(400, "malformed HTTP request: " + ec.message(), true);
      else
        close();
      return;
    }
    auto& req = parser_->get();
    if (!server_.admit(client_)) {
      respond_error(429, "too many requests from " + client_ + " (requests_per_second)", !req.keep_alive());
      return;
    }
    const std::string target(req.target());
    if (req.method() == http::verb::get && target.rfind("/v1/gw/watch", 0) == 0 &&
        (target.size() == 12 || target[12] == '?')) {
      start_watch("/v1/gw/state" + target.substr(12), "");
      return;
    }
    if (req.method() == http::verb::get && target.rfind("/v1/events/watch", 0) == 0 &&
        (target.size() == 16 || target[16] == '?')) {
      events_ = true;
      start_watch("/v1/events" + target.substr(16), std::string(req[http::field::authorization]));
      return;
    }
    ApiRequest api;
    api.method = std::string(req.method_string());
    api.target = target;
    api.body = std::move(req.body());
    api.authorization = std::string(req[http::field::authorization]);
    api.client_gateway = gateway_;
    api.client_serial = serial_;
    api.now_ms = static_cast<std::uint64_t>(unix_ms());
    api.now_s = static_cast<std::int64_t>(api.now_ms / 1000);
    const ApiResponse r = server_.controller.handle(api);
    send(r.status, r.body, r.content_type, !req.keep_alive());
  }

  void respond_error(int status, const std::string& message, bool close_after) {
    server_.controller.count_http(status);
    send(status, nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
         "application/json", close_after);
  }

  void send(int status, std::string body, const std::string& type, bool close_after) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
    res->set(http::field::server, "meshctld");
    res->set(http::field::content_type, type);
    res->keep_alive(!close_after);
    res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res, close_after](beast::error_code ec, std::size_t) {
      if (!ec && self->draining_) {
        self->drain(4 << 20);
        return;
      }
      if (ec || close_after) {
        self->close();
        return;
      }
      self->read();
    });
  }

  // A stream starts with what the matching one-shot GET answers (its access
  // checks and query parsing included), then follows the changes.
  void start_watch(const std::string& first_target, const std::string& authorization) {
    ApiRequest probe;
    probe.method = "GET";
    probe.target = first_target;
    probe.authorization = authorization;
    probe.client_gateway = gateway_;
    probe.client_serial = serial_;
    probe.now_ms = static_cast<std::uint64_t>(unix_ms());
    probe.now_s = static_cast<std::int64_t>(probe.now_ms / 1000);
    const ApiResponse first = server_.controller.handle(probe);
    if (first.status != 200) {
      send(first.status, first.body, first.content_type, true);
      return;
    }
    const auto j = nlohmann::json::parse(first.body);
    std::string first_line = first.body;
    if (events_) {
      // The page of events is sent one event a line, as the stream goes on.
      version_ = j["next_after"].get<std::uint64_t>();
      first_line.clear();
      for (const auto& e : j["events"])
        first_line += e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      if (!first_line.empty()) first_line.pop_back();
    } else {
      epoch_ = j["epoch"].get<std::string>();
      version_ = j["version"].get<std::uint64_t>();
    }
    watching_ = true;
    beast::get_lowest_layer(stream_).expires_never();
    header_ = std::make_shared<http::response<http::empty_body>>(http::status::ok, 11);
    header_->set(http::field::server, "meshctld");
    header_->set(http::field::content_type, "application/x-ndjson");
    header_->chunked(true);
    serializer_ = std::make_shared<http::response_serializer<http::empty_body>>(*header_);
    if (!first_line.empty()) queue_.push_back(first_line + "\n");
    writing_ = true;
    server_.watchers.insert(weak_from_this());
    http::async_write_header(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) {
        self->close();
        return;
      }
      self->write_queue();
      self->wait_for_close();
    });
  }

  // Reads and drops up to `left` more bytes (2 s at most), then closes.
  void drain(std::size_t left) {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_read_some(asio::buffer(sink_), [self = shared_from_this(), left](beast::error_code ec, std::size_t n) {
      if (ec || n >= left) {
        self->close();
        return;
      }
      self->drain(left - n);
    });
  }

  // A watcher sends nothing after its request; a read that ends means the
  // peer went away.
  void wait_for_close() {
    stream_.async_read_some(asio::buffer(sink_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->close();
        return;
      }
      self->wait_for_close();
    });
  }

  void write_queue() {
    if (writing_ || queue_.empty() || closing_) return;
    writing_ = true;
    out_ = std::move(queue_.front());
    queue_.erase(queue_.begin());
    asio::async_write(stream_, http::make_chunk(asio::buffer(out_)),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->write_queue();
                      });
  }

  void close() {
    if (closing_) return;
    closing_ = true;
    watching_ = false;
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close();
  }

  HttpServer::Impl& server_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string client_;
  std::string gateway_, serial_;
  bool watching_ = false, writing_ = false, closing_ = false, draining_ = false;
  bool events_ = false;  // the stream is /v1/events/watch (else /v1/gw/watch)
  std::string epoch_;
  std::uint64_t version_ = 0;
  std::vector<std::string> queue_;
  std::string out_;
  char sink_[16384];
  std::shared_ptr<http::response<http::empty_body>> header_;
  std::shared_ptr<http::response_serializer<http::empty_body>> serializer_;
};

void HttpServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;  // shutting down
    if (ec) {
      // Out of descriptors (EMFILE) or similar: try again shortly rather
      // than spin on an accept that fails at once.
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](beast::error_code e) {
        if (!e) accept();
      });
      return;
    }
    {
      if (connections >= config.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);  // over max_connections: refused at once
      } else {
        std::make_shared<Session>(*this, std::move(socket))->run();
      }
    }
    accept();
  });
}

void HttpServer::Impl::push_to_watchers(bool heartbeat) {
  for (auto it = watchers.begin(); it != watchers.end();) {
    if (auto s = it->lock()) {
      s->push(heartbeat);
      ++it;
    } else {
      it = watchers.erase(it);
    }
  }
}

void HttpServer::Impl::tick() {
  ticker.expires_after(std::chrono::milliseconds(100));
  ticker.async_wait([this](beast::error_code ec) {
    if (ec) return;
    const std::int64_t now = unix_ms();
    controller.tick(static_cast<std::uint64_t>(now));
    if (now - last_heartbeat_ms >= 5000) {
      last_heartbeat_ms = now;
      push_to_watchers(true);
    }
    tick();
  });
}

HttpServer::HttpServer(Controller& controller, const ControllerConfig& config, const MeshCa& ca)
    : impl_(std::make_unique<Impl>(controller, config)) {
  Impl& s = *impl_;
  SSL_CTX_set_min_proto_version(s.tls.native_handle(), TLS1_3_VERSION);
  s.tls.use_certificate_chain_file(ca.server_cert_path());
  s.tls.use_private_key_file(ca.server_key_path(), ssl::context::pem);
  s.tls.load_verify_file(ca.ca_cert_path());
  // A client certificate is asked for but optional (registration and the
  // operator API use tokens); one that is presented must verify against the
  // mesh CA and belong to a known, unrevoked gateway, or the handshake fails.
  s.tls.set_verify_mode(ssl::verify_peer);
  s.tls.set_verify_callback([&controller](bool preverified, ssl::verify_context& ctx) {
    if (!preverified) return false;
    X509_STORE_CTX* store = ctx.native_handle();
    if (X509_STORE_CTX_get_error_depth(store) != 0) return true;
    const auto [id, serial] = identity_of(X509_STORE_CTX_get_current_cert(store));
    return controller.client_allowed(id, serial);
  });
  beast::error_code ec;
  const auto ip = asio::ip::make_address(config.api.address, ec);
  if (ec) throw std::runtime_error("[api] listen: bad address " + config.api.address);
  const tcp::endpoint ep(ip, config.api.port);
  s.acceptor.open(ep.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(ep, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("[api] listen " + config.api.address + ":" + std::to_string(config.api.port) + ": " +
                             ec.message());
  port_ = s.acceptor.local_endpoint().port();
  s.accept();
  s.tick();
  thread_ = std::thread([this] { impl_->io.run(); });
}

HttpServer::~HttpServer() {
  // Everything is closed on the I/O thread; run() returns when the last
  // handler has run, so no session outlives the state it points into.
  asio::post(impl_->io, [s = impl_.get()] {
    beast::error_code ec;
    s->acceptor.close(ec);
    s->ticker.cancel();
    s->accept_retry.cancel();
    for (const auto& w : s->sessions)
      if (auto session = w.lock()) session->shutdown();
  });
  if (thread_.joinable()) thread_.join();
}

void HttpServer::notify() {
  asio::post(impl_->io, [this] { impl_->push_to_watchers(false); });
}

}  // namespace meshgw::controller
