// SPDX-License-Identifier: BSD-3-Clause
#include "beacon_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace meshgw::controller {

namespace {
constexpr unsigned kBatch = 64;
}

BeaconReceiver::BeaconReceiver(Controller& controller, const std::string& address, std::uint16_t port)
    : controller_(controller) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    throw std::runtime_error("[beacons] listen: bad address " + address);
  }
  fd_ = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int one = 1, buffer = 8 << 20;
  // A large receive buffer absorbs bursts (10,000 gateways beaconing at
  // once); SO_RXQ_OVFL reports what still overflowed.
  if (fd_ >= 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    ::setsockopt(fd_, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  }
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const std::string why = std::strerror(errno);
    if (fd_ >= 0) ::close(fd_);
    throw std::runtime_error("[beacons] listen " + address + ":" + std::to_string(port) + ": " + why);
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &blen);
  port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  thread_ = std::thread([this] { run(); });
}

BeaconReceiver::~BeaconReceiver() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
}

void BeaconReceiver::run() {
  static thread_local std::uint8_t buffers[kBatch][api::kBeaconMaxBytes + 1];
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  alignas(cmsghdr) char control[kBatch][CMSG_SPACE(sizeof(std::uint32_t))];
  sockaddr_storage from[kBatch];
  while (!stop_.load(std::memory_order_relaxed)) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;  // wakes to check stop_
    for (unsigned i = 0; i < kBatch; ++i) {
      iov[i] = {buffers[i], sizeof buffers[i]};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      msgs[i].msg_hdr.msg_control = control[i];
      msgs[i].msg_hdr.msg_controllen = sizeof control[i];
    }
    const int n = ::recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) continue;
    const auto now_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    for (int i = 0; i < n; ++i) {
      // A datagram larger than any beacon arrives truncated (MSG_TRUNC):
      // the parser refuses it by its size.
      const std::size_t len = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? sizeof buffers[i] : msgs[i].msg_len;
      api::BeaconAddress source;
      if (from[i].ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&from[i]);
        std::memcpy(source.ip.data(), &a->sin_addr, 4);
        source.port = ntohs(a->sin_port);
      } else {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&from[i]);
        source.v6 = true;
        std::memcpy(source.ip.data(), &a->sin6_addr, 16);
        source.port = ntohs(a->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {  // a dual-stack socket's IPv4 sender
          source.v6 = false;
          std::memmove(source.ip.data(), source.ip.data() + 12, 4);
          std::memset(source.ip.data() + 4, 0, 12);
        }
      }
      controller_.ingest_beacon({buffers[i], len}, now_ms, &source);
      for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != nullptr; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
          std::uint32_t dropped;
          std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
          drops_.store(dropped, std::memory_order_relaxed);
          controller_.set_beacon_socket_drops(dropped);
        }
      }
    }
    received_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
  }
}

}  // namespace meshgw::controller
