// SPDX-License-Identifier: BSD-3-Clause
// Every reason the data plane drops a packet, from one table: enum, metric
// name and help text. The ESP outcomes of crypto/esp_status.hpp come first,
// in their own order, so an EspStatus converts to its DropReason by value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/esp_status.hpp"

namespace meshgw::dataplane {

// X(enum, metric_name, help)
#define MESHGW_DROP_REASON(X)                                                                      \
  X(runt_frame, "runt_frame", "frame shorter than its Ethernet header")                           \
  X(unsupported_ethertype, "unsupported_ethertype",                                               \
    "Ethernet type that is not IPv4, IPv6 or ARP (VLAN tags included)")                           \
  X(multi_segment, "multi_segment", "chained mbuf: the gateway handles single-segment frames")   \
  X(bad_ipv4_header, "bad_ipv4_header", "IPv4 header invalid: version, IHL, length or checksum") \
  X(bad_ipv6_header, "bad_ipv6_header", "IPv6 header truncated or its payload length wrong")     \
  X(ttl_expired, "ttl_expired", "TTL or hop limit reached zero")                                  \
  X(site_multicast, "site_multicast",                                                             \
    "multicast or broadcast from the site (IGMP, mDNS, ...): not carried into the mesh (counted, not an error)") \
  X(policy_denied, "policy_denied", "a policy rule denies the flow")                              \
  X(no_route, "no_route", "no route for the destination")                                         \
  X(no_tunnel, "no_tunnel", "the destination's egress has no active tunnel for the traffic class") \
  X(too_big, "too_big", "larger than the tunnel MTU (ICMP frag-needed / packet-too-big sent back)") \
  X(icmp_rate_limited, "icmp_rate_limited",                                                       \
    "too big for the tunnel; the ICMP error was suppressed by the rate limit")                   \
  X(inner_source_mismatch, "inner_source_mismatch",                                               \
    "decrypted packet's source is not in the tunnel's remote sites")                              \
  X(not_for_us, "not_for_us", "WAN frame addressed to another IPv4 address or MAC")               \
  X(outer_ipv6, "outer_ipv6", "IPv6 underlay packet (the underlay is IPv4)")                      \
  X(relay_wrong_prev_hop, "relay_wrong_prev_hop",                                                 \
    "relayed SPI arrived from a hop other than the one its relay entry pins")                    \
  X(relay_ttl_expired, "relay_ttl_expired", "relayed packet's outer TTL expired")                 \
  X(neighbour_unresolved, "neighbour_unresolved",                                                 \
    "next hop's MAC unknown and its wait queue full, or ARP gave up")                             \
  X(arp_invalid, "arp_invalid", "ARP packet malformed or not Ethernet/IPv4")                      \
  X(arp_not_for_us, "arp_not_for_us", "ARP for an address that is not ours (counted, not an error)") \
  X(nat_keepalive, "nat_keepalive", "NAT keepalive (RFC 3948 2.3) from a peer behind NAT (counted, not an error)") \
  X(to_gateway_unhandled, "to_gateway_unhandled",                                                 \
    "addressed to the gateway but no exception path takes it")                                    \
  X(no_mbuf, "no_mbuf", "mempool empty while building a reply")                                   \
  X(tx_full, "tx_full", "the port's TX queue did not take the packet")

enum class DropReason : std::uint8_t {
#define MESHGW_X(name, metric, help) esp_##name,
  MESHGW_ESP_STATUS(MESHGW_X)
#undef MESHGW_X
#define MESHGW_X(name, metric, help) name,
  MESHGW_DROP_REASON(MESHGW_X)
#undef MESHGW_X
  count_
};

inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::count_);

struct DropReasonInfo {
  std::string_view metric;
  std::string_view help;
};

inline constexpr DropReasonInfo kDropReasonInfo[kDropReasonCount] = {
#define MESHGW_X(name, metric, help) {"esp_" metric, help},
    MESHGW_ESP_STATUS(MESHGW_X)
#undef MESHGW_X
#define MESHGW_X(name, metric, help) {metric, help},
    MESHGW_DROP_REASON(MESHGW_X)
#undef MESHGW_X
};

constexpr DropReason drop_reason(crypto::EspStatus s) noexcept {
  return static_cast<DropReason>(static_cast<std::uint8_t>(s));
}
constexpr std::string_view to_string(DropReason r) noexcept {
  return kDropReasonInfo[static_cast<std::size_t>(r)].metric;
}
static_assert(to_string(drop_reason(crypto::EspStatus::icv_failed)) == "esp_icv_failed");

}  // namespace meshgw::dataplane
