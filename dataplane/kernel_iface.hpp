// SPDX-License-Identifier: BSD-3-Clause
// The kernel side of the exception path: gives the TAP interface the WAN
// port's IPv4 address, brings it up, keeps the kernel from answering ARP for
// it (the fast path answers; the kernel still learns from what it hears) and
// from sending IPv6 (the underlay is IPv4). Control thread, at start.
#pragma once

#include <cstdint>
#include <string>

namespace meshgw::dataplane {

// Throws std::runtime_error naming the interface and the failing step.
void configure_kernel_interface(const std::string& name, std::uint32_t ipv4, std::uint8_t prefix);

}  // namespace meshgw::dataplane
