// SPDX-License-Identifier: BSD-3-Clause
#include "key_relay.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>

#include "controlplane/common/log.hpp"

namespace meshgw::controller {

using nlohmann::json;

namespace {
constexpr std::size_t kParkedPerGateway = 4;
// Connections still in their TLS handshake (anyone can open one) and
// authenticated ones (gateways of the mesh) have separate budgets: a flood
// of silent connections pushes out the oldest handshakes, never a gateway.
constexpr std::size_t kMaxHandshaking = 32;
constexpr int kMaxAuthenticated = 256;
constexpr int kMaxThreads = 2 * (static_cast<int>(kMaxHandshaking) + kMaxAuthenticated);
constexpr auto kParkFor = std::chrono::seconds(60);  // gateways re-park every 45 s
constexpr int kSpliceIdleMs = 10000;
}  // namespace

// One connection. Its fd closes with the last reference, so a parked
// connection taken by an ingress's thread stays open while that thread
// splices it. taken/done are guarded by KeyRelay::mutex_.
struct KeyRelay::Conn {
  explicit Conn(int f) : fd(f) {}
  ~Conn() {
    ssl.reset();
    ::close(fd);
  }
  common::SslPtr ssl;
  const int fd;
  std::condition_variable cv;
  bool taken = false, done = false, dropped = false;
};

KeyRelay::KeyRelay(common::TlsFiles server, const std::string& address, std::uint16_t port, Allowed allowed)
    : files_(std::move(server)), allowed_(std::move(allowed)) {
  common::ignore_sigpipe();
  ctx_ = common::make_mtls_ctx(files_, true, "key relay");
  listen_fd_ = common::listen_tcp(address, port, &port_, "[key_relay]");
  thread_ = std::thread([this] { accept_loop(); });
}

KeyRelay::~KeyRelay() {
  {
    // Every connection's blocking I/O fails at once; parked ones wake.
    std::lock_guard lock(mutex_);
    stop_ = true;
    for (const auto& c : conns_) {
      ::shutdown(c->fd, SHUT_RDWR);
      c->cv.notify_all();
    }
  }
  if (thread_.joinable()) thread_.join();
  // Connection threads are detached; with their sockets shut down they end
  // within moments.
  for (int i = 0; i < 3000 && active_.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ::close(listen_fd_);
}

void KeyRelay::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (active_.load() >= kMaxThreads) {
      ::close(fd);
      ++refused_;
      continue;
    }
    auto conn = std::make_shared<Conn>(fd);
    {
      std::lock_guard lock(mutex_);
      if (handshaking_.size() >= kMaxHandshaking) {
        // The oldest handshake has had the most time: a gateway's takes
        // milliseconds, so it is the likeliest to be a silent one.
        ::shutdown(handshaking_.front()->fd, SHUT_RDWR);
        handshaking_.pop_front();
        ++evicted_;
      }
      handshaking_.push_back(conn);
      conns_.insert(conn);
    }
    ++active_;
    try {
      std::thread([this, conn] {
        try {
          serve(conn);
        } catch (const std::exception&) {
          ++refused_;  // a bad or vanished peer costs its own connection only
        }
        forget(conn);
        --active_;
      }).detach();
    } catch (const std::system_error&) {  // no thread to be had: this connection is refused
      forget(conn);
      --active_;
      ++refused_;
    }
  }
}

void KeyRelay::forget(const std::shared_ptr<Conn>& conn) {
  std::lock_guard lock(mutex_);
  conns_.erase(conn);
  handshaking_.erase(std::remove(handshaking_.begin(), handshaking_.end(), conn), handshaking_.end());
}

void KeyRelay::serve(const std::shared_ptr<Conn>& conn) {
  if (stop_) return;
  const int fd = conn->fd;
  conn->ssl.reset(SSL_new(ctx_.get()));
  common::set_socket_timeouts(fd, 5000);
  SSL_set_fd(conn->ssl.get(), fd);
  if (SSL_accept(conn->ssl.get()) != 1) throw std::runtime_error("handshake: " + common::ssl_error());
  const std::string me = common::peer_common_name(conn->ssl.get());
  {
    std::lock_guard lock(mutex_);
    handshaking_.erase(std::remove(handshaking_.begin(), handshaking_.end(), conn), handshaking_.end());
  }
  if (me.empty() || !allowed_(me, common::peer_serial(conn->ssl.get()))) {
    ++refused_;
    return;
  }
  if (++authenticated_ > kMaxAuthenticated) {
    --authenticated_;
    ++refused_;
    return;
  }
  struct Release {
    std::atomic<int>& n;
    ~Release() { --n; }
  } release{authenticated_};
  const json hello = json::parse(common::read_line(conn->ssl.get(), "key relay"));
  if (hello.value("wait", false)) {
    std::unique_lock lock(mutex_);
    auto& list = parked_[me];
    list.push_back(conn);
    if (list.size() > kParkedPerGateway) {  // the oldest goes, and its thread with it
      list.front()->dropped = true;
      list.front()->cv.notify_all();
      list.pop_front();
    }
    conn->cv.wait_for(lock, kParkFor, [&] { return conn->taken || conn->dropped || stop_; });
    if (conn->taken) {
      conn->cv.wait(lock, [&] { return conn->done; });  // the ingress's thread splices it
      return;
    }
    auto& mine = parked_[me];
    mine.erase(std::remove(mine.begin(), mine.end(), conn), mine.end());
    return;
  }
  const std::string egress = hello.value("connect", "");
  if (egress.empty() || egress == me) {
    common::write_line(conn->ssl.get(), json{{"ok", false}, {"error", "name the egress: {\"connect\": ID}"}}.dump(),
                       "key relay");
    return;
  }
  // Newest parked connection first; a dead one fails its write and the next is tried.
  for (;;) {
    std::shared_ptr<Conn> peer;
    {
      std::lock_guard lock(mutex_);  // taken with the pop: its timeout cannot race us
      auto& list = parked_[egress];
      if (list.empty() || stop_) break;
      peer = list.back();
      list.pop_back();
      peer->taken = true;
    }
    bool live = true;
    try {
      common::write_line(peer->ssl.get(), json{{"from", me}}.dump(), "key relay");
    } catch (const std::exception&) {
      live = false;
    }
    if (live) {
      common::write_line(conn->ssl.get(), json{{"ok", true}}.dump(), "key relay");
      spliced_ += 1;
      common::splice(conn->ssl.get(), peer->ssl.get(), kSpliceIdleMs);
    }
    {
      std::lock_guard lock(mutex_);
      peer->done = true;
    }
    peer->cv.notify_all();
    if (live) return;
  }
  common::write_line(conn->ssl.get(), json{{"ok", false}, {"error", egress + " is not waiting at the relay"}}.dump(),
                     "key relay");
}

}  // namespace meshgw::controller
