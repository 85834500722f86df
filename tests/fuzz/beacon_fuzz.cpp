// SPDX-License-Identifier: BSD-3-Clause
// The beacon parser on arbitrary datagrams. Invariants: it never reads out
// of bounds (ASan), and whatever it accepts re-encodes to the same bytes up
// to the tag, so the parser and the encoder agree on one format.
#include <cstring>

#include "controlplane/api/beacon.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace meshgw::api;
  Beacon b;
  const BeaconOutcome o = parse_beacon({data, size}, b);
  (void)metric_name(o);
  if (o != BeaconOutcome::accepted) return 0;
  static const std::uint8_t key[32] = {1, 2, 3};
  const std::vector<std::uint8_t> again = encode_beacon(b, key);
  if (again.size() != size || std::memcmp(again.data(), data, size - kBeaconTagBytes) != 0) __builtin_trap();
  static const BeaconKey k(key);
  if (!k.verify(again)) __builtin_trap();
  return 0;
}
