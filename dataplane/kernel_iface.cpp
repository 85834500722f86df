// SPDX-License-Identifier: BSD-3-Clause
#include "kernel_iface.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace meshgw::dataplane {

namespace {

void write_sysctl(const std::string& path, const char* value) {
  std::ofstream f(path);
  if (!f || !(f << value)) throw std::runtime_error("cannot write " + path);
}

void set_in_addr(ifreq& req, std::uint32_t host_order) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(host_order);
  std::memcpy(&req.ifr_addr, &sin, sizeof sin);
}

}  // namespace

void configure_kernel_interface(const std::string& name, std::uint32_t ipv4, std::uint8_t prefix) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("exception path: socket: " + std::string(std::strerror(errno)));
  auto step = [&](unsigned long request, ifreq& req, const char* what) {
    if (ioctl(fd, request, &req) != 0) {
      const std::string err = std::strerror(errno);
      close(fd);
      throw std::runtime_error("exception path: interface " + name + ": " + what + ": " + err);
    }
  };
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  set_in_addr(req, ipv4);
  step(SIOCSIFADDR, req, "set address");
  set_in_addr(req, prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix));
  step(SIOCSIFNETMASK, req, "set netmask");
  step(SIOCGIFFLAGS, req, "get flags");
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP | IFF_RUNNING);
  step(SIOCSIFFLAGS, req, "bring up");
  close(fd);
  write_sysctl("/proc/sys/net/ipv4/conf/" + name + "/arp_ignore", "8");
  try {
    write_sysctl("/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6", "1");
  } catch (const std::runtime_error&) {
    // A kernel without IPv6 has nothing to disable.
  }
}

}  // namespace meshgw::dataplane
