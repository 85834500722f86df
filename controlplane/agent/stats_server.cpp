// SPDX-License-Identifier: BSD-3-Clause
#include "stats_server.hpp"

#include <utility>  // boost/asio/awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <chrono>

namespace meshgw::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::shared_ptr<const StatsReport> StatsExchange::fresh(unsigned timeout_ms) {
  std::unique_lock lock(mutex_);
  const std::uint64_t want = generation_ + 1;
  wanted_.store(true, std::memory_order_release);
  ready_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return generation_ >= want; });
  return latest_;
}

void StatsExchange::publish(std::shared_ptr<const StatsReport> report) {
  {
    std::lock_guard lock(mutex_);
    latest_ = std::move(report);
    ++generation_;
    wanted_.store(false, std::memory_order_release);
  }
  ready_.notify_all();
}

struct StatsServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  StatsExchange& exchange;
  explicit Impl(StatsExchange& e) : exchange(e) {}

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // acceptor closed: shutting down
      serve(std::move(socket));
      accept();
    });
  }

  // One request per connection, answered synchronously: the endpoint is for
  // scrapers and operators, not for thousands of clients.
  void serve(tcp::socket socket) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::request_parser<http::string_body> parser;
    parser.body_limit(4096);
    http::read(socket, buffer, parser, ec);
    if (ec) return;
    req = parser.release();
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(false);
    res.set(http::field::server, "meshgw");
    const std::string target(req.target());
    if (req.method() != http::verb::get) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET");
      res.set(http::field::content_type, "application/json");
      res.body() = R"({"error":"method not allowed: use GET"})";
    } else if (target == "/v1/peers") {
      const auto report = exchange.fresh(500);
      res.set(http::field::content_type, "application/json");
      if (!report || report->peers.empty()) {
        res.result(http::status::not_found);
        res.body() = R"({"error":"this gateway is not in a mesh: its configuration has no [controller]"})";
      } else {
        res.result(http::status::ok);
        res.body() = report->peers;
      }
    } else if (target == "/v1/paths" || target.rfind("/v1/explain", 0) == 0) {
      const auto report = exchange.fresh(500);
      res.set(http::field::content_type, "application/json");
      if (!report || report->paths.empty()) {
        res.result(http::status::not_found);
        res.body() = R"({"error":"this gateway is not in a mesh (no [controller]) or has no mesh state yet"})";
      } else if (target == "/v1/paths") {
        res.result(http::status::ok);
        res.body() = report->paths;
      } else {
        // /v1/explain?to=EGRESS[&class=C]
        std::string to, cls = "default";
        const auto q = target.find('?');
        std::string query = q == std::string::npos ? "" : target.substr(q + 1);
        for (std::size_t at = 0; at <= query.size();) {
          const auto amp = query.find('&', at);
          const std::string pair = query.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
          const auto eq = pair.find('=');
          if (eq != std::string::npos && pair.substr(0, eq) == "to") to = pair.substr(eq + 1);
          if (eq != std::string::npos && pair.substr(0, eq) == "class") cls = pair.substr(eq + 1);
          if (amp == std::string::npos) break;
          at = amp + 1;
        }
        const auto it = report->explain.find(to + "|" + cls);
        if (to.empty()) {
          res.result(http::status::bad_request);
          res.body() = R"({"error":"to=EGRESS is required","field":"to"})";
        } else if (it == report->explain.end()) {
          res.result(http::status::not_found);
          res.body() = R"({"error":"no route is computed to that gateway in that class"})";
        } else {
          res.result(http::status::ok);
          res.body() = it->second;
        }
      }
    } else if (target == "/v1/stats" || target == "/metrics") {
      const auto report = exchange.fresh(500);
      if (!report) {
        res.result(http::status::service_unavailable);
        res.set(http::field::content_type, "application/json");
        res.body() = R"({"error":"the control thread has not produced statistics yet"})";
      } else if (target == "/metrics") {
        res.result(http::status::ok);
        res.set(http::field::content_type, "text/plain; version=0.0.4");
        res.body() = report->metrics;
      } else {
        res.result(http::status::ok);
        res.set(http::field::content_type, "application/json");
        res.body() = report->json;
      }
    } else {
      res.result(http::status::not_found);
      res.set(http::field::content_type, "application/json");
      res.body() = R"({"error":"not found: try /v1/stats, /metrics, /v1/peers, /v1/paths or /v1/explain?to=EGRESS"})";
    }
    res.prepare_payload();
    http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
};

StatsServer::StatsServer(const std::string& address, std::uint16_t port, StatsExchange& exchange)
    : impl_(std::make_unique<Impl>(exchange)) {
  beast::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) throw std::runtime_error("stats listener: bad address " + address);
  tcp::endpoint ep(ip, port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("stats listener " + address + ":" + std::to_string(port) + ": " + ec.message());
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  thread_ = std::thread([this] { impl_->io.run(); });
}

StatsServer::~StatsServer() {
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->io.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace meshgw::agent
