// SPDX-License-Identifier: BSD-3-Clause
// The lab WAN emulator's control commands (one line each on its socket):
// any bytes parse to a command or an error, and the changes of a "set"
// either apply whole or leave the link as it was.
#include <cstdint>
#include <string_view>

#include "link_shaper.hpp"
#include "wanem_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const meshgw::lab::ParsedCommand parsed = meshgw::lab::parse_command(line);
  if (!parsed.error.empty()) return 0;
  meshgw::lab::LinkParams p{.delay_ms = 5, .rate_mbit = 10};
  const meshgw::lab::LinkParams before = p;
  const std::string why = meshgw::lab::apply_changes(p, parsed.command.changes);
  if (!why.empty() && (p.delay_ms != before.delay_ms || p.loss != before.loss || p.rate_mbit != before.rate_mbit ||
                       p.jitter_ms != before.jitter_ms || p.queue_ms != before.queue_ms))
    __builtin_trap();  // a refused change must leave the link as it was
  if (why.empty() && !meshgw::lab::check_link_params(p).empty()) __builtin_trap();
  meshgw::lab::LinkShaper s(p, 1);
  (void)s.admit(1000, 1500);
  return 0;
}
