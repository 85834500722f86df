// SPDX-License-Identifier: BSD-3-Clause
#include "beacon.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>

#include "crypto/bytes.hpp"

namespace meshgw::api {

namespace {

constexpr std::string_view kMetric[] = {
#define MESHGW_X(name, metric, help) metric,
    MESHGW_BEACON_OUTCOMES(MESHGW_X)
#undef MESHGW_X
};
constexpr std::string_view kHelp[] = {
#define MESHGW_X(name, metric, help) help,
    MESHGW_BEACON_OUTCOMES(MESHGW_X)
#undef MESHGW_X
};

constexpr std::uint8_t kMagic[4] = {'M', 'G', 'B', '1'};
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kFixedBytes = 42;

bool id_char_ok(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

bool id_ok(std::string_view id) noexcept {
  if (id.empty() || id.size() > kBeaconMaxIdBytes) return false;
  for (char c : id)
    if (!id_char_ok(c)) return false;
  return true;
}

// A bounds-checked reader: every take says whether the bytes were there.
struct Reader {
  std::span<const std::uint8_t> data;
  std::size_t at = 0;
  bool take(std::size_t n, const std::uint8_t*& p) noexcept {
    if (data.size() - at < n) return false;
    p = data.data() + at;
    at += n;
    return true;
  }
};

void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x));
}
void put32(std::vector<std::uint8_t>& v, std::uint32_t x) {
  put16(v, static_cast<std::uint16_t>(x >> 16));
  put16(v, static_cast<std::uint16_t>(x));
}
void put64(std::vector<std::uint8_t>& v, std::uint64_t x) {
  put32(v, static_cast<std::uint32_t>(x >> 32));
  put32(v, static_cast<std::uint32_t>(x));
}
void put_id(std::vector<std::uint8_t>& v, const std::string& id) {
  if (!id_ok(id)) throw std::invalid_argument("beacon: gateway id '" + id + "' (1..32 of [A-Za-z0-9._-])");
  v.push_back(static_cast<std::uint8_t>(id.size()));
  v.insert(v.end(), id.begin(), id.end());
}

}  // namespace

std::string_view metric_name(BeaconOutcome o) noexcept { return kMetric[static_cast<std::size_t>(o)]; }
std::string_view help_text(BeaconOutcome o) noexcept { return kHelp[static_cast<std::size_t>(o)]; }

std::vector<std::uint8_t> encode_beacon(const Beacon& b, std::span<const std::uint8_t> key) {
  if (b.role > 2) throw std::invalid_argument("beacon: role must be 0..2");
  if (b.addresses.size() > kBeaconMaxAddresses) throw std::invalid_argument("beacon: at most 8 addresses");
  if (b.neighbours.size() > kBeaconMaxNeighbours) throw std::invalid_argument("beacon: at most 64 neighbours");
  if (b.load_permille > 1000) throw std::invalid_argument("beacon: load_permille must be 0..1000");
  std::vector<std::uint8_t> v(kMagic, kMagic + 4);
  v.push_back(kVersion);
  v.push_back(b.role);
  v.push_back(static_cast<std::uint8_t>(b.addresses.size()));
  v.push_back(static_cast<std::uint8_t>(b.neighbours.size()));
  put64(v, b.sent_ms);
  put64(v, b.sequence);
  put64(v, b.declared_bps);
  put16(v, b.load_permille);
  put32(v, static_cast<std::uint32_t>(b.latitude_e6));
  put32(v, static_cast<std::uint32_t>(b.longitude_e6));
  put_id(v, b.gateway_id);
  for (const BeaconAddress& a : b.addresses) {
    v.push_back(a.v6 ? 6 : 4);
    put16(v, a.port);
    v.insert(v.end(), a.ip.begin(), a.ip.begin() + (a.v6 ? 16 : 4));
  }
  for (const BeaconNeighbour& n : b.neighbours) {
    put_id(v, n.id);
    put32(v, n.rtt_us);
    put32(v, n.jitter_us);
    put32(v, n.loss_ppm);
  }
  if (v.size() + kBeaconTagBytes > kBeaconMaxBytes) throw std::invalid_argument("beacon: larger than 1400 bytes");
  const BeaconKey k(key);
  v.resize(v.size() + kBeaconTagBytes);
  k.tag({v.data(), v.size() - kBeaconTagBytes}, v.data() + v.size() - kBeaconTagBytes);
  return v;
}

BeaconOutcome parse_beacon(std::span<const std::uint8_t> datagram, Beacon& out) {
  using crypto::load_be16;
  using crypto::load_be32;
  using crypto::load_be64;
  if (datagram.size() < 4) return BeaconOutcome::truncated;
  if (std::memcmp(datagram.data(), kMagic, 4) != 0) return BeaconOutcome::bad_magic;
  if (datagram.size() < kFixedBytes + 1 + kBeaconTagBytes) return BeaconOutcome::truncated;
  if (datagram.size() > kBeaconMaxBytes) return BeaconOutcome::bad_field;
  const std::uint8_t* p = datagram.data();
  if (p[4] != kVersion) return BeaconOutcome::bad_version;
  if (p[5] > 2 || p[6] > kBeaconMaxAddresses || p[7] > kBeaconMaxNeighbours) return BeaconOutcome::bad_field;
  out.role = p[5];
  out.sent_ms = load_be64(p + 8);
  out.sequence = load_be64(p + 16);
  out.declared_bps = load_be64(p + 24);
  out.load_permille = load_be16(p + 32);
  if (out.load_permille > 1000) return BeaconOutcome::bad_field;
  out.latitude_e6 = static_cast<std::int32_t>(load_be32(p + 34));
  out.longitude_e6 = static_cast<std::int32_t>(load_be32(p + 38));
  if (out.latitude_e6 < -90'000'000 || out.latitude_e6 > 90'000'000 || out.longitude_e6 < -180'000'000 ||
      out.longitude_e6 > 180'000'000)
    return BeaconOutcome::bad_field;
  Reader r{datagram.first(datagram.size() - kBeaconTagBytes), kFixedBytes};
  auto read_id = [&r](std::string& id) -> BeaconOutcome {
    const std::uint8_t* q;
    if (!r.take(1, q)) return BeaconOutcome::truncated;
    const std::size_t len = *q;
    if (!r.take(len, q)) return BeaconOutcome::truncated;
    id.assign(reinterpret_cast<const char*>(q), len);
    return id_ok(id) ? BeaconOutcome::accepted : BeaconOutcome::bad_field;
  };
  if (const auto o = read_id(out.gateway_id); o != BeaconOutcome::accepted) return o;
  out.addresses.resize(p[6]);
  for (BeaconAddress& a : out.addresses) {
    const std::uint8_t* q;
    if (!r.take(3, q)) return BeaconOutcome::truncated;
    if (q[0] != 4 && q[0] != 6) return BeaconOutcome::bad_field;
    a.v6 = q[0] == 6;
    a.port = load_be16(q + 1);
    const std::size_t n = a.v6 ? 16 : 4;
    if (!r.take(n, q)) return BeaconOutcome::truncated;
    a.ip = {};
    std::memcpy(a.ip.data(), q, n);
  }
  out.neighbours.resize(p[7]);
  for (BeaconNeighbour& nb : out.neighbours) {
    if (const auto o = read_id(nb.id); o != BeaconOutcome::accepted) return o;
    const std::uint8_t* q;
    if (!r.take(12, q)) return BeaconOutcome::truncated;
    nb.rtt_us = load_be32(q);
    nb.jitter_us = load_be32(q + 4);
    nb.loss_ppm = load_be32(q + 8);
    if (nb.loss_ppm > 1'000'000) return BeaconOutcome::bad_field;
  }
  if (r.at != r.data.size()) return BeaconOutcome::trailing_bytes;
  return BeaconOutcome::accepted;
}

BeaconKey::BeaconKey(std::span<const std::uint8_t> key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  EVP_MAC_free(mac);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (ctx == nullptr || EVP_MAC_init(ctx, key.data(), key.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx);
    throw std::runtime_error("beacon: HMAC-SHA256 setup failed");
  }
  ctx_ = ctx;
}

BeaconKey::~BeaconKey() { EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(ctx_)); }

void BeaconKey::tag(std::span<const std::uint8_t> body, std::uint8_t* out) const {
  // The keyed context is duplicated per message: the key schedule (the
  // inner and outer pads) is computed once per gateway, not per beacon.
  EVP_MAC_CTX* c = EVP_MAC_CTX_dup(static_cast<EVP_MAC_CTX*>(ctx_));
  std::size_t len = 0;
  const bool ok = c != nullptr && EVP_MAC_update(c, body.data(), body.size()) == 1 &&
                  EVP_MAC_final(c, out, &len, kBeaconTagBytes) == 1 && len == kBeaconTagBytes;
  EVP_MAC_CTX_free(c);
  if (!ok) throw std::runtime_error("beacon: HMAC-SHA256 failed");
}

bool BeaconKey::verify(std::span<const std::uint8_t> datagram) const noexcept {
  if (datagram.size() < kBeaconTagBytes) return false;
  std::uint8_t computed[kBeaconTagBytes];
  try {
    tag(datagram.first(datagram.size() - kBeaconTagBytes), computed);
  } catch (...) {
    return false;
  }
  return CRYPTO_memcmp(computed, datagram.data() + datagram.size() - kBeaconTagBytes, kBeaconTagBytes) == 0;
}

BeaconOutcome ReplayGuard::check(const Beacon& b, std::uint64_t now_ms, std::uint64_t max_skew_ms) const noexcept {
  if (b.sequence <= last_sequence) return BeaconOutcome::replayed;
  const std::uint64_t skew = b.sent_ms > now_ms ? b.sent_ms - now_ms : now_ms - b.sent_ms;
  if (skew > max_skew_ms) return BeaconOutcome::stale;
  return BeaconOutcome::accepted;
}

}  // namespace meshgw::api
