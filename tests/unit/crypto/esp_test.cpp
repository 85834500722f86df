// SPDX-License-Identifier: BSD-3-Clause
#include "crypto/esp.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <algorithm>
#include <new>
#include <random>
#include <thread>

#include "test_packets.hpp"

namespace meshgw::crypto {
namespace {

using test::make_ipv4_udp;
using test::make_ipv6;
using test::TestBuffer;

constexpr std::uint32_t kSpi = 0x00001001;
constexpr std::uint32_t kSrc = 0xc6120001;  // 198.18.0.1
constexpr std::uint32_t kDst = 0xc6120002;  // 198.18.0.2

SaKeyMaterial test_keys(std::uint64_t seed) {
  SaKeyMaterial k;
  std::mt19937_64 rng(seed);
  for (auto& b : k.key) b = static_cast<std::uint8_t>(rng());
  for (auto& b : k.salt) b = static_cast<std::uint8_t>(rng());
  return k;
}

class EspTest : public ::testing::TestWithParam<Backend> {
 protected:
  void make_sas(bool esn = true, std::uint64_t first_seq = 1,
                std::optional<Backend> in_backend = std::nullopt) {
    OutboundSaConfig oc;
    oc.spi = kSpi;
    oc.esn = esn;
    oc.keys = test_keys(1);
    oc.outer = {kSrc, kDst, 4500, 4500, 64};
    oc.backend = GetParam();
    oc.first_seq = first_seq;
    out_ = std::make_unique<OutboundSa>(oc, ws_);
    InboundSaConfig ic;
    ic.spi = kSpi;
    ic.esn = esn;
    ic.keys = oc.keys;
    ic.backend = in_backend.value_or(GetParam());
    in_ = std::make_unique<InboundSa>(ic, ws_);
  }
  EspStatus decap_full(TestBuffer& buf, OuterUdpInfo& info) {
    return decap_udp_ipv4(
        ws_, [&](std::uint32_t spi) { return spi == kSpi ? in_.get() : nullptr; }, buf.view, info);
  }

  CryptoWorkspace ws_;
  std::unique_ptr<OutboundSa> out_;
  std::unique_ptr<InboundSa> in_;
  std::mt19937_64 rng_{42};
};

TEST_P(EspTest, RoundTripIpv4AndIpv6AllSizes) {
  make_sas();
  for (std::uint32_t len = 20; len <= 2000; len += 1) {
    auto inner = (len % 2 == 0 && len >= 40) ? make_ipv6(len, rng_)
                                            : make_ipv4_udp(std::max(len, 28u), rng_);
    TestBuffer buf(inner);
    ASSERT_EQ(out_->encap(ws_, buf.view), EspStatus::ok);
    ASSERT_EQ(buf.view.len % 4, (20 + 8) % 4) << "ESP part must end on a 4-byte boundary";
    OuterUdpInfo info;
    ASSERT_EQ(decap_full(buf, info), EspStatus::ok) << len;
    ASSERT_EQ(buf.bytes(), inner) << len;
    EXPECT_EQ(info.spi, kSpi);
    EXPECT_EQ(info.src_ip, kSrc);
  }
}

TEST_P(EspTest, OuterHeadersAreWellFormed) {
  make_sas();
  auto inner = make_ipv4_udp(100, rng_, /*tos=*/0xb9);  // DSCP 46 + ECT(1)
  TestBuffer buf(inner);
  ASSERT_EQ(out_->encap(ws_, buf.view), EspStatus::ok);
  const std::uint8_t* p = buf.view.data;
  // 100 inner + 2 trailer -> 102, padded to 104; + 16 ICV + 44 headers.
  EXPECT_EQ(buf.view.len, 44u + 104u + 16u);
  EXPECT_EQ(p[0], 0x45);
  EXPECT_EQ(p[1], 0xb9);
  EXPECT_EQ(load_be16(p + 2), buf.view.len);
  EXPECT_EQ(load_be16(p + 6), 0x4000);
  EXPECT_EQ(p[8], 64);
  EXPECT_EQ(p[9], 17);
  EXPECT_EQ(internet_checksum(p, 20), 0);
  EXPECT_EQ(load_be32(p + 12), kSrc);
  EXPECT_EQ(load_be32(p + 16), kDst);
  EXPECT_EQ(load_be16(p + 20), 4500);
  EXPECT_EQ(load_be16(p + 22), 4500);
  EXPECT_EQ(load_be16(p + 24), buf.view.len - 20);
  EXPECT_EQ(load_be16(p + 26), 0);
  EXPECT_EQ(load_be32(p + 28), kSpi);
  EXPECT_EQ(load_be32(p + 32), 1u);
  std::uint8_t iv[8];
  store_be64(iv, 1);
  EXPECT_EQ(0, std::memcmp(p + 36, iv, 8));
  EXPECT_EQ(buf.view.headroom, TestBuffer::kHeadroom - 44);
  EXPECT_EQ(out_->next_seq(), 2u);
}

TEST_P(EspTest, BackendsProduceIdenticalBytes) {
  OutboundSaConfig oc;
  oc.spi = kSpi;
  oc.keys = test_keys(9);
  oc.backend = Backend::ipsec_mb;
  OutboundSa a(oc, ws_);
  oc.backend = Backend::openssl;
  OutboundSa b(oc, ws_);
  for (std::uint32_t len : {28u, 64u, 333u, 1420u, 9000u}) {
    auto inner = make_ipv4_udp(len, rng_);
    TestBuffer ba(inner), bb(inner);
    ASSERT_EQ(a.encap(ws_, ba.view), EspStatus::ok);
    ASSERT_EQ(b.encap(ws_, bb.view), EspStatus::ok);
    EXPECT_EQ(ba.bytes(), bb.bytes()) << len;
  }
}

TEST_P(EspTest, CrossBackendDecap) {
  const Backend other = GetParam() == Backend::openssl ? Backend::ipsec_mb : Backend::openssl;
  make_sas(true, 1, other);
  auto inner = make_ipv6(1280, rng_);
  TestBuffer buf(inner);
  ASSERT_EQ(out_->encap(ws_, buf.view), EspStatus::ok);
  OuterUdpInfo info;
  ASSERT_EQ(decap_full(buf, info), EspStatus::ok);
  EXPECT_EQ(buf.bytes(), inner);
}

TEST_P(EspTest, ExtendedSequenceNumbersAcrossTheWrap) {
  make_sas(true, 0xfffffff0u);
  for (int i = 0; i < 40; ++i) {
    auto inner = make_ipv4_udp(60, rng_);
    TestBuffer buf(inner);
    const std::uint64_t seq = out_->next_seq();
    ASSERT_EQ(out_->encap(ws_, buf.view), EspStatus::ok);
    EXPECT_EQ(load_be32(buf.view.data + 32), static_cast<std::uint32_t>(seq));
    OuterUdpInfo info;
    ASSERT_EQ(decap_full(buf, info), EspStatus::ok) << i;
    EXPECT_EQ(info.seq, seq);
    EXPECT_EQ(buf.bytes(), inner);
  }
  EXPECT_EQ(in_->window().top() >> 32, 1u);
}

TEST_P(EspTest, Without32BitEsnTheSequenceRunsOut) {
  make_sas(false, 0xffffffffu);
  auto inner = make_ipv4_udp(60, rng_);
  TestBuffer buf(inner);
  ASSERT_EQ(out_->encap(ws_, buf.view), EspStatus::ok);
  TestBuffer buf2(inner);
  EXPECT_EQ(out_->encap(ws_, buf2.view), EspStatus::sequence_exhausted);
  EXPECT_EQ(buf2.bytes(), inner);
}

TEST_P(EspTest, EsnMismatchFailsIcv) {
  // The high half is in the AAD: a receiver without ESN cannot verify.
  make_sas(true, (std::uint64_t{1} << 32) + 5);
  InboundSaConfig ic;
  ic.spi = kSpi;
  ic.esn = false;
  ic.keys = test_keys(1);
  ic.backend = GetParam();
  InboundSa plain(ic, ws_);
  auto inner = make_ipv4_udp(60, rng_);
  TestBuffer buf(inner);
  ASSERT_EQ(out_->encap(ws_, buf.view), EspStatus::ok);
  OuterUdpInfo info;
  EXPECT_EQ(decap_udp_ipv4(ws_, [&](std::uint32_t) { return &plain; }, buf.view, info),
            EspStatus::icv_failed);
}

TEST_P(EspTest, EncapRefusesWhatItCannotCarry) {
  make_sas();
  auto inner = make_ipv4_udp(100, rng_);
  TestBuffer low_head(inner, 43, 64);
  EXPECT_EQ(out_->encap(ws_, low_head.view), EspStatus::no_room);
  TestBuffer low_tail(inner, 64, 17);  // needs 2 pad + 2 + 16
  EXPECT_EQ(out_->encap(ws_, low_tail.view), EspStatus::no_room);
  EXPECT_EQ(low_tail.bytes(), inner);
  auto lying = inner;
  store_be16(&lying[2], 90);
  TestBuffer lie(lying);
  EXPECT_EQ(out_->encap(ws_, lie.view), EspStatus::bad_inner_packet);
  std::vector<std::uint8_t> junk(50, 0x11);
  TestBuffer j(junk);
  EXPECT_EQ(out_->encap(ws_, j.view), EspStatus::bad_inner_packet);
  auto big = make_ipv4_udp(65535 - 30, rng_);
  TestBuffer b(big);
  EXPECT_EQ(out_->encap(ws_, b.view), EspStatus::too_large);
  EXPECT_EQ(out_->next_seq(), 1u) << "failed encaps consume no sequence number";
}

TEST_P(EspTest, ReplayAndTooOldAreRejectedBeforeDecryption) {
  for (const bool esn : {false, true}) {
    SCOPED_TRACE(esn ? "ESN" : "32-bit");
    make_sas(esn);
    std::vector<std::vector<std::uint8_t>> wire;
    for (int i = 0; i < 1100; ++i) {
      TestBuffer buf(make_ipv4_udp(80, rng_));
      ASSERT_EQ(out_->encap(ws_, buf.view), EspStatus::ok);
      wire.push_back(buf.bytes());
    }
    OuterUdpInfo info;
    TestBuffer newest(wire[1099]);
    ASSERT_EQ(decap_full(newest, info), EspStatus::ok);
    TestBuffer again(wire[1099]);
    EXPECT_EQ(decap_full(again, info), EspStatus::replayed);
    EXPECT_EQ(again.bytes(), wire[1099]);
    // seq 1 with top 1100 and a 1024 window. With ESN, RFC 4303 A2.2 reads a
    // low half below the window as the next 2^32 subspace, so the packet can
    // only fail its ICV; without ESN it is plainly too old.
    TestBuffer old(wire[0]);
    EXPECT_EQ(decap_full(old, info), esn ? EspStatus::icv_failed : EspStatus::too_old);
    if (!esn) {
      EXPECT_EQ(old.bytes(), wire[0]) << "rejected before decryption: untouched";
    }
    EXPECT_EQ(in_->window().top(), 1100u);
    TestBuffer inside(wire[200]);
    EXPECT_EQ(decap_full(inside, info), EspStatus::ok);
  }
}

// A packet sealed with the right key but a hand-made payload: authentic, yet
// malformed inside. Checks every post-decryption error (the bytes are then
// undefined: the data plane drops the packet, it never re-encrypts it).
std::vector<std::uint8_t> seal_custom(CryptoWorkspace& ws, const SaKeyMaterial& keys,
                                      std::uint64_t seq, std::vector<std::uint8_t> text) {
  Aes256Gcm aead(Backend::openssl, keys.key, ws);
  std::vector<std::uint8_t> pkt(44 + text.size() + 16);
  std::uint8_t* ip = pkt.data();
  ip[0] = 0x45;
  store_be16(ip + 2, static_cast<std::uint16_t>(pkt.size()));
  ip[8] = 64;
  ip[9] = 17;
  store_be32(ip + 12, kSrc);
  store_be32(ip + 16, kDst);
  store_be16(ip + 10, internet_checksum(ip, 20));
  store_be16(ip + 20, 4500);
  store_be16(ip + 22, 4500);
  store_be16(ip + 24, static_cast<std::uint16_t>(pkt.size() - 20));
  store_be32(ip + 28, kSpi);
  store_be32(ip + 32, static_cast<std::uint32_t>(seq));
  store_be64(ip + 36, seq);
  std::uint8_t nonce[12], aad[12];
  std::memcpy(nonce, keys.salt.data(), 4);
  store_be64(nonce + 4, seq);
  store_be32(aad, kSpi);
  store_be32(aad + 4, static_cast<std::uint32_t>(seq >> 32));
  store_be32(aad + 8, static_cast<std::uint32_t>(seq));
  EXPECT_TRUE(aead.seal(ws, nonce, aad, 12, text.data(), pkt.data() + 44, text.size(),
                        pkt.data() + 44 + text.size()));
  return pkt;
}

TEST_P(EspTest, AuthenticButMalformedPayloadsAreRejected) {
  make_sas();
  const SaKeyMaterial keys = test_keys(1);
  auto inner = make_ipv4_udp(30, rng_);
  auto with_trailer = [&](std::vector<std::uint8_t> body, std::vector<std::uint8_t> pad,
                          std::uint8_t pad_len, std::uint8_t nh) {
    body.insert(body.end(), pad.begin(), pad.end());
    body.push_back(pad_len);
    body.push_back(nh);
    return body;
  };
  struct Case {
    const char* what;
    std::vector<std::uint8_t> text;
    EspStatus expected;
  };
  auto lying = inner;
  store_be16(&lying[2], 200);
  auto v6_as_v4 = make_ipv6(40, rng_);
  const std::vector<Case> cases = {
      {"good, 0 pad", with_trailer(inner, {}, 0, 4), EspStatus::ok},
      {"good, 3 pad", with_trailer(inner, {1, 2, 3}, 3, 4), EspStatus::ok},
      {"pad bytes wrong", with_trailer(inner, {1, 7, 3}, 3, 4), EspStatus::bad_padding},
      {"pad longer than payload", with_trailer({}, {}, 200, 4), EspStatus::bad_padding},
      {"next header 17", with_trailer(inner, {}, 0, 17), EspStatus::bad_next_header},
      {"dummy packet nh 59", with_trailer(inner, {}, 0, 59), EspStatus::bad_next_header},
      {"inner length lies", with_trailer(lying, {}, 0, 4), EspStatus::bad_inner_packet},
      {"IPv6 packet, nh IPv4", with_trailer(v6_as_v4, {1, 2}, 2, 4), EspStatus::bad_inner_packet},
      {"empty payload", with_trailer({}, {}, 0, 4), EspStatus::bad_inner_packet},
  };
  std::uint64_t seq = 1;
  for (const auto& c : cases) {
    const auto wire = seal_custom(ws_, keys, seq, c.text);
    TestBuffer buf(wire);
    OuterUdpInfo info;
    EXPECT_EQ(decap_full(buf, info), c.expected) << c.what;
    if (c.expected == EspStatus::ok) {
      EXPECT_EQ(buf.bytes(), inner) << c.what;
    }
    // Authentic packets move the window even if malformed (RFC 4303 3.4.3).
    EXPECT_EQ(in_->window().top(), seq) << c.what;
    ++seq;
  }
}

TEST_P(EspTest, ForgeriesFailIcvAndDoNotMoveTheWindow) {
  make_sas();
  TestBuffer good(make_ipv4_udp(300, rng_));
  ASSERT_EQ(out_->encap(ws_, good.view), EspStatus::ok);
  const auto wire = good.bytes();
  // Flip one bit at each ESP byte position after the SPI (seq, IV, text, ICV).
  for (std::size_t pos = 32; pos < wire.size(); pos += 7) {
    auto forged = wire;
    forged[pos] ^= 0x10;
    TestBuffer buf(forged);
    OuterUdpInfo info;
    const EspStatus st = decap_full(buf, info);
    EXPECT_TRUE(st == EspStatus::icv_failed || st == EspStatus::too_old) << pos;
  }
  EXPECT_EQ(in_->window().top(), 0u) << "no forgery may move the window";
  TestBuffer real(wire);
  OuterUdpInfo info;
  EXPECT_EQ(decap_full(real, info), EspStatus::ok);
}

TEST_P(EspTest, OuterHeaderErrorsHaveTheirOwnReasons) {
  make_sas();
  TestBuffer good(make_ipv4_udp(100, rng_));
  ASSERT_EQ(out_->encap(ws_, good.view), EspStatus::ok);
  const auto wire = good.bytes();
  auto fix_ip_csum = [](std::vector<std::uint8_t>& p) {
    store_be16(&p[10], 0);
    store_be16(&p[10], internet_checksum(p.data(), 20));
  };
  struct Case {
    const char* what;
    std::vector<std::uint8_t> bytes;
    EspStatus expected;
  };
  std::vector<Case> cases;
  cases.push_back({"empty", {}, EspStatus::truncated});
  cases.push_back({"19 bytes", {wire.begin(), wire.begin() + 19}, EspStatus::truncated});
  {
    auto p = wire; p[0] = 0x65; cases.push_back({"version 6", p, EspStatus::bad_outer_header});
  }
  {
    auto p = wire; p[0] = 0x44; cases.push_back({"IHL 4", p, EspStatus::bad_outer_header});
  }
  {
    auto p = wire; p[11] ^= 1; cases.push_back({"checksum", p, EspStatus::bad_outer_header});
  }
  {
    auto p = wire; store_be16(&p[6], 0x2000); fix_ip_csum(p);
    cases.push_back({"more fragments", p, EspStatus::bad_outer_header});
  }
  {
    auto p = wire; p[9] = 6; fix_ip_csum(p); cases.push_back({"TCP", p, EspStatus::not_esp});
  }
  {
    auto p = wire; store_be16(&p[2], static_cast<std::uint16_t>(p.size() + 1)); fix_ip_csum(p);
    cases.push_back({"IP length > bytes", p, EspStatus::length_mismatch});
  }
  {
    auto p = wire; store_be16(&p[2], 27); fix_ip_csum(p);
    cases.push_back({"IP length < headers", p, EspStatus::length_mismatch});
  }
  {
    auto p = wire; store_be16(&p[24], static_cast<std::uint16_t>(load_be16(&p[24]) - 4));
    cases.push_back({"UDP length lies", p, EspStatus::length_mismatch});
  }
  {
    auto p = wire; std::memset(&p[28], 0, 4);
    cases.push_back({"non-ESP marker", p, EspStatus::not_esp});
  }
  {
    std::vector<std::uint8_t> p(wire.begin(), wire.begin() + 29);
    p[28] = 0xff; store_be16(&p[2], 29); store_be16(&p[24], 9); fix_ip_csum(p);
    cases.push_back({"NAT keepalive", p, EspStatus::not_esp});
  }
  {
    std::vector<std::uint8_t> p(wire.begin(), wire.begin() + 60);
    store_be16(&p[2], 60); store_be16(&p[24], 40); fix_ip_csum(p);
    cases.push_back({"ESP shorter than IV+ICV", p, EspStatus::truncated});
  }
  {
    auto p = wire; store_be32(&p[28], kSpi + 1);
    cases.push_back({"unknown SPI", p, EspStatus::unknown_spi});
  }
  for (const auto& c : cases) {
    TestBuffer buf(c.bytes);
    OuterUdpInfo info;
    EXPECT_EQ(decap_full(buf, info), c.expected) << c.what;
    EXPECT_EQ(buf.bytes(), c.bytes) << c.what;
  }
  // Ethernet padding after the IP packet is trimmed, not an error.
  auto padded = wire;
  padded.resize(padded.size() + 6, 0);
  TestBuffer buf(padded);
  OuterUdpInfo info;
  EXPECT_EQ(decap_full(buf, info), EspStatus::ok);
}

TEST(EspConfig, ReservedSpiIsRefused) {
  CryptoWorkspace ws;
  OutboundSaConfig oc;
  oc.spi = 255;
  EXPECT_THROW(OutboundSa(oc, ws), std::invalid_argument);
  InboundSaConfig ic;
  ic.spi = 0;
  EXPECT_THROW(InboundSa(ic, ws), std::invalid_argument);
}

TEST_P(EspTest, BurstsNumberGoodPacketsConsecutivelyAndSkipBadOnes) {
  make_sas();
  std::vector<TestBuffer> bufs;
  std::vector<std::vector<std::uint8_t>> inners;
  for (int i = 0; i < 32; ++i) {
    auto inner = make_ipv4_udp(60 + i, rng_);
    if (i % 5 == 3) store_be16(&inner[2], 999);  // length lies: refused
    inners.push_back(inner);
    bufs.emplace_back(inner);
  }
  PacketView views[32];
  EspStatus status[32];
  for (int i = 0; i < 32; ++i) views[i] = bufs[i].view;
  const std::uint16_t good = out_->encap_burst(ws_, views, 32, status);
  EXPECT_EQ(good, 26);
  EXPECT_EQ(out_->next_seq(), 27u) << "one sequence number per encapsulated packet";
  std::uint64_t expect_seq = 1;
  PacketView in_views[32];
  EspStatus in_status[32];
  std::uint64_t seqs[32];
  std::uint16_t m = 0;
  for (int i = 0; i < 32; ++i) {
    if (i % 5 == 3) {
      EXPECT_EQ(status[i], EspStatus::bad_inner_packet);
      EXPECT_EQ(std::vector<std::uint8_t>(views[i].data, views[i].data + views[i].len), inners[i]);
      continue;
    }
    ASSERT_EQ(status[i], EspStatus::ok);
    EXPECT_EQ(load_be32(views[i].data + 32), expect_seq++) << "in index order";
    OuterUdpInfo info;
    ASSERT_EQ(parse_outer_udp_ipv4(views[i], info), EspStatus::ok);
    in_views[m++] = views[i];
  }
  in_views[3].data[20] ^= 1;  // one forgery in the middle of the burst
  in_views[7] = in_views[6];  // and one replay of its predecessor
  EXPECT_EQ(in_->decap_burst(ws_, in_views, m, in_status, seqs), m - 2);
  EXPECT_EQ(in_status[3], EspStatus::icv_failed);
  EXPECT_EQ(in_status[7], EspStatus::replayed) << "the window moved inside the burst";
  EXPECT_EQ(in_status[0], EspStatus::ok);
  EXPECT_EQ(seqs[m - 1], 26u);
}

TEST_P(EspTest, ConcurrentBurstsNeverReuseASequenceNumber) {
  if (GetParam() == Backend::openssl)
    GTEST_SKIP() << "an OpenSSL SA keeps one EVP context: one thread at a time (esp.hpp)";
  make_sas();
  constexpr int kThreads = 2, kBursts = 2000;
  std::vector<std::vector<std::uint64_t>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      CryptoWorkspace ws;
      std::mt19937_64 rng(t);
      const auto inner = make_ipv4_udp(64, rng);
      for (int b = 0; b < kBursts; ++b) {
        std::vector<TestBuffer> bufs;
        for (int i = 0; i < 8; ++i) bufs.emplace_back(inner);
        PacketView views[8];
        EspStatus st[8];
        for (int i = 0; i < 8; ++i) views[i] = bufs[i].view;
        if (out_->encap_burst(ws, views, 8, st) != 8) return;
        for (int i = 0; i < 8; ++i) seen[t].push_back(load_be64(views[i].data + 36));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<std::uint64_t> all;
  for (auto& v : seen) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), std::size_t{kThreads * kBursts * 8});
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 1) << "dense and unique";
}

TEST(SaKeyMaterial, WipesItselfWhenItDies) {
  alignas(SaKeyMaterial) unsigned char storage[sizeof(SaKeyMaterial)];
  auto* k = new (storage) SaKeyMaterial;
  k->key.fill(0xab);
  k->salt.fill(0xcd);
  k->~SaKeyMaterial();
  for (unsigned char c : storage) EXPECT_EQ(c, 0);
}

TEST(EspStatusTable, EveryReasonHasANameAndHelp) {
  for (const auto& info : kEspStatusInfo) {
    EXPECT_FALSE(info.metric.empty());
    EXPECT_FALSE(info.help.empty());
  }
  EXPECT_EQ(to_string(EspStatus::icv_failed), "icv_failed");
}

INSTANTIATE_TEST_SUITE_P(Backends, EspTest, ::testing::Values(Backend::ipsec_mb, Backend::openssl),
                         [](const auto& param_info) {
                           return param_info.param == Backend::ipsec_mb ? std::string("ipsec_mb")
                                                                  : std::string("openssl");
                         });

}  // namespace
}  // namespace meshgw::crypto
