// SPDX-License-Identifier: BSD-3-Clause
// Published vectors on both backends: McGrew-Viega test cases 13-18, a NIST
// CAVP sample (with failing tags) and the AES-256 ESP cases of
// draft-mcgrew-gcm-test-01.
#include <gtest/gtest.h>

#include <cstring>

#include "crypto/aead.hpp"
#include "crypto/esp.hpp"
#include "crypto/hex.hpp"
#include "gcm_vectors.hpp"

namespace meshgw::crypto {
namespace {

std::vector<std::uint8_t> hex(const char* s) {
  auto v = from_hex(s);
  EXPECT_TRUE(v.has_value()) << s;
  return v.value_or(std::vector<std::uint8_t>{});
}

class GcmVectors : public ::testing::TestWithParam<Backend> {
 protected:
  void run(const test::GcmVector& v) {
    SCOPED_TRACE(v.name);
    const auto key = hex(v.key), iv = hex(v.iv), pt = hex(v.plaintext), aad = hex(v.aad),
               ct = hex(v.ciphertext), tag = hex(v.tag);
    ASSERT_EQ(key.size(), 32u);
    ASSERT_EQ(tag.size(), 16u);
    Aes256Gcm gcm(GetParam(), std::span<const std::uint8_t, 32>(key.data(), 32), ws_);
    const bool nonce96 = iv.size() == kGcmNonceBytes;
    std::vector<std::uint8_t> out(ct.size());
    if (v.valid) {
      std::uint8_t got_tag[16];
      ASSERT_TRUE(nonce96 ? gcm.seal(ws_, iv.data(), aad.data(), aad.size(), pt.data(), out.data(),
                                     pt.size(), got_tag)
                          : gcm.seal_any_iv(ws_, iv.data(), iv.size(), aad.data(), aad.size(),
                                            pt.data(), out.data(), pt.size(), got_tag));
      EXPECT_EQ(to_hex(out.data(), out.size()), v.ciphertext);
      EXPECT_EQ(to_hex(got_tag, 16), v.tag);
    }
    const bool opened =
        nonce96 ? gcm.open(ws_, iv.data(), aad.data(), aad.size(), ct.data(), out.data(), ct.size(),
                           tag.data())
                : gcm.open_any_iv(ws_, iv.data(), iv.size(), aad.data(), aad.size(), ct.data(),
                                  out.data(), ct.size(), tag.data());
    EXPECT_EQ(opened, v.valid);
    if (v.valid) {
      EXPECT_EQ(out, pt);
    }
  }

  CryptoWorkspace ws_;
};

TEST_P(GcmVectors, McGrewViegaTestCases13To18) {
  std::size_t n = 0;
  for (const auto& v : test::kGcmSpecVectors) run(v), ++n;
  for (const auto& v : test::kGcmSpecVarIvVectors) run(v), ++n;
  EXPECT_EQ(n, 6u);
}

TEST_P(GcmVectors, NistCavpSampleIncludingFailingTags) {
  std::size_t fails = 0;
  for (const auto& v : test::kCavpVectors) {
    run(v);
    fails += v.valid ? 0 : 1;
  }
  EXPECT_GE(fails, 4u);
}

// Each draft case as an ESP packet: SPI | seq | IV | ciphertext | ICV. Our
// decap builds the nonce and AAD itself; the ICV verifies only if they match
// the draft's. The draft's inner payloads use next header 1 or 6 (transport
// style), which our tunnel-mode SA then rejects.
TEST_P(GcmVectors, DraftMcgrewGcmTestEspPackets) {
  for (const auto& v : test::kEspDraftVectors) {
    SCOPED_TRACE(v.name);
    const auto key = hex(v.key), salt = hex(v.salt), iv = hex(v.iv), pt = hex(v.plaintext),
               ct = hex(v.ciphertext), tag = hex(v.tag), aad = hex(v.aad);
    // Our AAD construction (RFC 4106 section 5) equals the draft's.
    std::vector<std::uint8_t> our_aad(v.esn ? 12 : 8);
    store_be32(our_aad.data(), v.spi);
    if (v.esn) {
      store_be32(our_aad.data() + 4, static_cast<std::uint32_t>(v.seq >> 32));
      store_be32(our_aad.data() + 8, static_cast<std::uint32_t>(v.seq));
    } else {
      store_be32(our_aad.data() + 4, static_cast<std::uint32_t>(v.seq));
    }
    EXPECT_EQ(our_aad, aad);

    InboundSaConfig ic;
    ic.spi = v.spi;
    ic.esn = v.esn;
    std::memcpy(ic.keys.key.data(), key.data(), 32);
    std::memcpy(ic.keys.salt.data(), salt.data(), 4);
    ic.backend = GetParam();
    InboundSa sa(ic, ws_);
    if (v.seq > 1) sa.window().accept(v.seq - 1);  // as if the previous packet had arrived

    std::vector<std::uint8_t> esp(8);
    store_be32(esp.data(), v.spi);
    store_be32(esp.data() + 4, static_cast<std::uint32_t>(v.seq));
    esp.insert(esp.end(), iv.begin(), iv.end());
    esp.insert(esp.end(), ct.begin(), ct.end());
    esp.insert(esp.end(), tag.begin(), tag.end());
    std::vector<std::uint8_t> storage = esp;
    PacketView view{storage.data(), static_cast<std::uint32_t>(storage.size()), 0, 0};
    std::uint64_t seq = 0;
    const EspStatus st = sa.decap(ws_, view, &seq);
    EXPECT_EQ(seq, v.seq) << "ESN inference";
    EXPECT_NE(st, EspStatus::icv_failed);
    EXPECT_EQ(sa.window().top(), v.seq) << "window moves only after the ICV verified";
    const std::uint8_t next_header = pt.back();
    if (next_header == kNextHeaderIpv4 || next_header == kNextHeaderIpv6) {
      EXPECT_EQ(st, EspStatus::ok);
    } else {
      EXPECT_EQ(st, EspStatus::bad_next_header);
    }
    // And the raw AEAD with the draft's nonce gives the draft's plaintext.
    Aes256Gcm gcm(GetParam(), std::span<const std::uint8_t, 32>(key.data(), 32), ws_);
    std::uint8_t nonce[12];
    std::memcpy(nonce, salt.data(), 4);
    std::memcpy(nonce + 4, iv.data(), 8);
    std::vector<std::uint8_t> out(ct.size());
    ASSERT_TRUE(gcm.open(ws_, nonce, aad.data(), aad.size(), ct.data(), out.data(), ct.size(), tag.data()));
    EXPECT_EQ(out, pt);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, GcmVectors, ::testing::Values(Backend::ipsec_mb, Backend::openssl),
                         [](const auto& param_info) {
                           return param_info.param == Backend::ipsec_mb ? std::string("ipsec_mb")
                                                                  : std::string("openssl");
                         });

}  // namespace
}  // namespace meshgw::crypto
