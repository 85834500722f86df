// SPDX-License-Identifier: BSD-3-Clause
// Randomized cross-check: the two backends agree bit for bit, and ESP
// decap(encap(p)) == p, over thousands of random keys and lengths 0..9000.
#include "crypto/aead.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "crypto/esp.hpp"
#include "test_packets.hpp"

namespace meshgw::crypto {
namespace {

TEST(Aead, BackendNames) {
  EXPECT_EQ(backend_from_string("ipsec-mb"), Backend::ipsec_mb);
  EXPECT_EQ(backend_from_string("openssl"), Backend::openssl);
  EXPECT_EQ(backend_from_string("aesni"), std::nullopt);
  EXPECT_EQ(to_string(Backend::ipsec_mb), "ipsec-mb");
}

TEST(Aead, WorkspacePicksAnArchitecture) {
  CryptoWorkspace ws;
  EXPECT_NE(ws.imb_arch(), "none");
}

TEST(Aead, RandomKeysAndLengthsAgreeAcrossBackends) {
  CryptoWorkspace ws;
  std::mt19937_64 rng(2026);
  for (int iter = 0; iter < 3000; ++iter) {
    std::array<std::uint8_t, kGcmKeyBytes> key;
    for (auto& b : key) b = static_cast<std::uint8_t>(rng());
    std::uint8_t nonce[kGcmNonceBytes];
    for (auto& b : nonce) b = static_cast<std::uint8_t>(rng());
    // Lengths cluster at the edges that matter (block boundaries, 0) and spread to 9000.
    const std::size_t len = iter < 100 ? static_cast<std::size_t>(iter) : rng() % 9001;
    const std::size_t aad_len = rng() % 3 == 0 ? 12 : rng() % 64;
    std::vector<std::uint8_t> pt(len), aad(aad_len);
    for (auto& b : pt) b = static_cast<std::uint8_t>(rng());
    for (auto& b : aad) b = static_cast<std::uint8_t>(rng());

    Aes256Gcm fast(Backend::ipsec_mb, key, ws);
    Aes256Gcm ref(Backend::openssl, key, ws);
    std::vector<std::uint8_t> ct_fast(len + 16), ct_ref(len + 16);
    std::uint8_t tag_fast[16], tag_ref[16];
    ASSERT_TRUE(fast.seal(ws, nonce, aad.data(), aad_len, pt.data(), ct_fast.data(), len, tag_fast));
    ASSERT_TRUE(ref.seal(ws, nonce, aad.data(), aad_len, pt.data(), ct_ref.data(), len, tag_ref));
    ct_fast.resize(len);
    ct_ref.resize(len);
    ASSERT_EQ(ct_fast, ct_ref) << "len " << len;
    ASSERT_EQ(0, std::memcmp(tag_fast, tag_ref, 16)) << "len " << len;

    // Each opens the other's output, in place.
    std::vector<std::uint8_t> a = ct_ref, b = ct_fast;
    ASSERT_TRUE(fast.open(ws, nonce, aad.data(), aad_len, a.data(), a.data(), len, tag_ref));
    ASSERT_TRUE(ref.open(ws, nonce, aad.data(), aad_len, b.data(), b.data(), len, tag_fast));
    ASSERT_EQ(a, pt);
    ASSERT_EQ(b, pt);

    // A wrong tag or AAD fails on both.
    tag_ref[rng() % 16] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    a = ct_fast;
    EXPECT_FALSE(fast.open(ws, nonce, aad.data(), aad_len, a.data(), a.data(), len, tag_ref));
    a = ct_fast;
    EXPECT_FALSE(ref.open(ws, nonce, aad.data(), aad_len, a.data(), a.data(), len, tag_ref));
  }
}

TEST(Aead, RandomEspRoundTripsOnBothBackends) {
  CryptoWorkspace ws;
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 2000; ++iter) {
    SaKeyMaterial keys;
    for (auto& b : keys.key) b = static_cast<std::uint8_t>(rng());
    for (auto& b : keys.salt) b = static_cast<std::uint8_t>(rng());
    const auto spi = static_cast<std::uint32_t>(256 + rng() % 0xfffffe00u);
    const bool esn = rng() % 2 == 0;
    const std::uint64_t first = 1 + (esn ? rng() % (std::uint64_t{1} << 40) : rng() % 0xffff0000u);
    OutboundSaConfig oc{spi, esn, keys, {0xc6120001, 0xc6130001}, Backend::ipsec_mb, first};
    OutboundSa fast(oc, ws);
    oc.backend = Backend::openssl;
    OutboundSa ref(oc, ws);
    InboundSaConfig ic{spi, esn, keys, 1024, iter % 2 ? Backend::ipsec_mb : Backend::openssl};
    InboundSa in(ic, ws);
    // A receiver that has seen the stream up to here (a real SA starts at 1).
    if (first > 1) in.window().accept(first - 1);

    // Inner packet lengths 0..9000 as far as a valid IP packet allows (IPv4 needs 28 here).
    const std::uint32_t len = 28 + static_cast<std::uint32_t>(rng() % (9000 - 28 + 1));
    auto inner = rng() % 2 ? test::make_ipv4_udp(len, rng) : test::make_ipv6(std::max(len, 40u), rng);
    test::TestBuffer bf(inner), br(inner);
    ASSERT_EQ(fast.encap(ws, bf.view), EspStatus::ok);
    ASSERT_EQ(ref.encap(ws, br.view), EspStatus::ok);
    ASSERT_EQ(bf.bytes(), br.bytes()) << "iteration " << iter;
    OuterUdpInfo info;
    ASSERT_EQ(decap_udp_ipv4(ws, [&](std::uint32_t s) { return s == spi ? &in : nullptr; }, bf.view, info),
              EspStatus::ok);
    ASSERT_EQ(bf.bytes(), inner);
    ASSERT_EQ(info.seq, first);
  }
}

}  // namespace
}  // namespace meshgw::crypto
