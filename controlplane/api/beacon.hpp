// SPDX-License-Identifier: BSD-3-Clause
// Gateway beacons: one UDP datagram every few seconds from each gateway to
// meshctld, binary and big-endian, authenticated with the gateway's beacon
// key (HMAC-SHA256, RFC 2104, over every byte before the tag):
//
//   0  "MGB1"                      4   magic
//   4  version = 1                 1
//   5  role (0 core, 1 edge, 2 transit)
//   6  address count (<= 8)        1
//   7  neighbour count (<= 64)     1
//   8  sent_ms                     8   sender's Unix time, ms (staleness)
//  16  sequence                    8   strictly increasing per gateway (replay)
//  24  declared_bps                8
//  32  load_permille               2   0..1000
//  34  latitude_e6, longitude_e6   4+4 signed micro-degrees
//  42  id length (1..32), id       1+n gateway ID, [A-Za-z0-9._-]
//      addresses: family (4|6) 1, port 2, address 4|16
//      neighbours: id length 1, id n, rtt_us 4, jitter_us 4, loss_ppm 4
//      tag                         32  HMAC-SHA256
//
// parse_beacon checks the structure only; verify_tag needs the sender's key
// (found by the parsed ID) and ReplayGuard the sender's last sequence.
// Any thread; nothing here allocates per call except the parsed strings.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace meshgw::api {

inline constexpr std::size_t kBeaconTagBytes = 32;
inline constexpr std::size_t kBeaconMaxBytes = 1400;
inline constexpr std::size_t kBeaconMaxAddresses = 8;
inline constexpr std::size_t kBeaconMaxNeighbours = 64;
inline constexpr std::size_t kBeaconMaxIdBytes = 32;

// Why a beacon was refused: enum, metric name, help text in one table.
#define MESHGW_BEACON_OUTCOMES(X)                                                 \
  X(accepted, "accepted", "beacons accepted")                                     \
  X(truncated, "truncated", "shorter than its fields say")                       \
  X(bad_magic, "bad_magic", "not a meshgw beacon")                               \
  X(bad_version, "bad_version", "beacon version not supported")                  \
  X(bad_field, "bad_field", "a field out of range (role, counts, id, family)")  \
  X(trailing_bytes, "trailing_bytes", "bytes between the last field and the tag") \
  X(unknown_gateway, "unknown_gateway", "sender not registered")                 \
  X(revoked_gateway, "revoked_gateway", "sender revoked")                        \
  X(bad_tag, "bad_tag", "HMAC does not verify (forged or wrong key)")            \
  X(replayed, "replayed", "sequence not above the last accepted one")            \
  X(stale, "stale", "sent too long ago (or too far in the future)")

enum class BeaconOutcome : std::uint8_t {
#define MESHGW_X(name, metric, help) name,
  MESHGW_BEACON_OUTCOMES(MESHGW_X)
#undef MESHGW_X
};
inline constexpr std::size_t kBeaconOutcomeCount = 0
#define MESHGW_X(name, metric, help) +1
    MESHGW_BEACON_OUTCOMES(MESHGW_X)
#undef MESHGW_X
    ;
std::string_view metric_name(BeaconOutcome o) noexcept;
std::string_view help_text(BeaconOutcome o) noexcept;

struct BeaconAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> ip{};  // IPv4 in the first 4 bytes
  std::uint16_t port = 0;
  bool operator==(const BeaconAddress&) const = default;
};

struct BeaconNeighbour {
  std::string id;
  std::uint32_t rtt_us = 0;
  std::uint32_t jitter_us = 0;
  std::uint32_t loss_ppm = 0;
  bool operator==(const BeaconNeighbour&) const = default;
};

struct Beacon {
  std::uint8_t role = 1;
  std::uint64_t sent_ms = 0;
  std::uint64_t sequence = 0;
  std::uint64_t declared_bps = 0;
  std::uint16_t load_permille = 0;
  std::int32_t latitude_e6 = 0;
  std::int32_t longitude_e6 = 0;
  std::string gateway_id;
  std::vector<BeaconAddress> addresses;
  std::vector<BeaconNeighbour> neighbours;
  bool operator==(const Beacon&) const = default;
};

// Encodes and tags a beacon; throws std::invalid_argument for a field out of range.
std::vector<std::uint8_t> encode_beacon(const Beacon& b, std::span<const std::uint8_t> key);

// Parses the structure (tag not checked). On failure returns the reason.
BeaconOutcome parse_beacon(std::span<const std::uint8_t> datagram, Beacon& out);

// HMAC-SHA256 verification with a key prepared once per gateway.
class BeaconKey {
 public:
  explicit BeaconKey(std::span<const std::uint8_t> key);
  ~BeaconKey();
  BeaconKey(const BeaconKey&) = delete;
  BeaconKey& operator=(const BeaconKey&) = delete;
  // The tag over datagram[0, size - 32), compared in constant time.
  bool verify(std::span<const std::uint8_t> datagram) const noexcept;
  void tag(std::span<const std::uint8_t> body, std::uint8_t* out) const;

 private:
  void* ctx_;  // EVP_MAC_CTX, keyed; duplicated per call
};

// Per gateway: sequences strictly increase; sent_ms within max_skew_ms of now.
struct ReplayGuard {
  std::uint64_t last_sequence = 0;
  BeaconOutcome check(const Beacon& b, std::uint64_t now_ms, std::uint64_t max_skew_ms) const noexcept;
  void accept(const Beacon& b) noexcept { last_sequence = b.sequence; }
};

}  // namespace meshgw::api
