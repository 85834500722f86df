// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for the pcap reader (meshctl esp --in): any file either
// yields records or a PcapError; records never exceed the announced bounds.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "controlplane/common/pcap_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = std::make_unique<std::istringstream>(std::string(reinterpret_cast<const char*>(data), size));
  try {
    meshgw::common::PcapReader reader(std::move(in), "fuzz.pcap");
    std::size_t total = 0;
    while (auto r = reader.next()) {
      total += r->data.size();
      if (r->data.size() > meshgw::common::kPcapMaxRecord || total > size) std::abort();
    }
  } catch (const meshgw::common::PcapError&) {
  }
  return 0;
}
