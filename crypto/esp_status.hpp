// SPDX-License-Identifier: BSD-3-Clause
// Every outcome of ESP encap/decap has a name, a metric name and a help text,
// from one table, so the data plane can count drops by reason and /metrics can
// print them without a second list to keep in step.
#pragma once

#include <cstdint>
#include <string_view>

namespace meshgw::crypto {

// X(enum, metric_name, help)
#define MESHGW_ESP_STATUS(X)                                                                  \
  X(ok, "ok", "packet handled")                                                               \
  X(truncated, "truncated", "packet shorter than the headers, IV, trailer and ICV it needs")  \
  X(bad_outer_header, "bad_outer_header",                                                     \
    "outer IPv4 header invalid (version, IHL, checksum, fragment, protocol)")                 \
  X(length_mismatch, "length_mismatch",                                                       \
    "IPv4 total length or UDP length disagrees with the bytes received")                      \
  X(not_esp, "not_esp", "UDP 4500 datagram that is not ESP (non-ESP marker or NAT keepalive)") \
  X(unknown_spi, "unknown_spi", "no inbound SA for this SPI")                                 \
  X(replayed, "replayed", "sequence number already received inside the anti-replay window")   \
  X(too_old, "too_old", "sequence number left of the anti-replay window")                     \
  X(icv_failed, "icv_failed", "AES-GCM integrity check value did not verify")                 \
  X(bad_padding, "bad_padding", "ESP padding length or padding bytes invalid (RFC 4303 2.4)") \
  X(bad_next_header, "bad_next_header", "ESP next header is not IPv4 (4) or IPv6 (41)")       \
  X(bad_inner_packet, "bad_inner_packet",                                                     \
    "decrypted inner packet malformed or its length field disagrees with the payload")        \
  X(no_room, "no_room", "buffer lacks the headroom or tailroom for ESP encapsulation")         \
  X(too_large, "too_large", "packet too large for ESP encapsulation")                         \
  X(sequence_exhausted, "sequence_exhausted", "outbound sequence numbers exhausted: rekey")   \
  X(crypto_error, "crypto_error", "the crypto backend reported an error")

enum class EspStatus : std::uint8_t {
#define MESHGW_X(name, metric, help) name,
  MESHGW_ESP_STATUS(MESHGW_X)
#undef MESHGW_X
};

inline constexpr std::size_t kEspStatusCount = 0
#define MESHGW_X(name, metric, help) +1
    MESHGW_ESP_STATUS(MESHGW_X)
#undef MESHGW_X
    ;

struct EspStatusInfo {
  std::string_view metric;
  std::string_view help;
};

inline constexpr EspStatusInfo kEspStatusInfo[kEspStatusCount] = {
#define MESHGW_X(name, metric, help) {metric, help},
    MESHGW_ESP_STATUS(MESHGW_X)
#undef MESHGW_X
};

constexpr std::string_view to_string(EspStatus s) noexcept {
  return kEspStatusInfo[static_cast<std::size_t>(s)].metric;
}

}  // namespace meshgw::crypto
