// SPDX-License-Identifier: BSD-3-Clause
// One-line log records on stderr: "PROGRAM[pid] 2026-12-02T16:06:01.123Z
// LEVEL: message" (UTC, milliseconds). Messages
// never carry key material or tokens (callers pass SPIs, token ids, file
// names, never secrets). Threads: any (each record is one write).
#pragma once

#include <string>

namespace meshgw::common {

// The name records start with ("meshgw" unless set); call once at start.
void set_log_program(const char* name) noexcept;
void log_info(const std::string& message);
void log_warning(const std::string& message);
void log_error(const std::string& message);

}  // namespace meshgw::common
