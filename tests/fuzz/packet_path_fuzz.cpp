// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for the worker's packet path: byte 0 picks the port
// (even: LAN, odd: WAN); the rest is a frame off that port, parsed and
// forwarded as a poll would (frame checks, ARP, ICMP, NDP, TWAMP, policy,
// routes, MTU, MSS, encryption, SPI lookup, relay, decryption).
// Invariants: no crash or sanitizer report; each frame leaves as at most one
// drop count plus what it caused to be sent; every mbuf returns to the pool.
#include <cstdint>

#include "dataplane_fixture.hpp"

using namespace meshgw::dataplane;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  fuzz::Fixture& f = fuzz::fixture();
  const auto port = static_cast<std::uint16_t>(data[0] & 1);
  std::uint64_t drops_before = 0;
  for (const auto& c : f.counters->drops) drops_before += c.get();
  f.run(port, f.frame(data + 1, size - 1));
  std::uint64_t drops_after = 0;
  for (const auto& c : f.counters->drops) drops_after += c.get();
  const std::size_t sent = f.drain();
  fuzz::check(drops_after - drops_before <= 1, "a frame is dropped at most once");
  fuzz::check(sent <= 2, "a frame causes at most a reply and an ARP request");
  return 0;
}
