// SPDX-License-Identifier: BSD-3-Clause
#include "log.hpp"

#include <unistd.h>

namespace meshgw::common {

namespace {
const char* g_program = "meshgw";

void write_record(const char* level, const std::string& message) {
  std::string line = g_program;
  line += '[';
  line += std::to_string(getpid());
  line += "] ";
  line += level;
  line += ": ";
  line += message;
  line += '\n';
  // One write(2) per record, so lines from several threads never interleave.
  [[maybe_unused]] const auto n = ::write(STDERR_FILENO, line.data(), line.size());
}
}  // namespace

void set_log_program(const char* name) noexcept { g_program = name; }
void log_info(const std::string& message) { write_record("info", message); }
void log_warning(const std::string& message) { write_record("warning", message); }
void log_error(const std::string& message) { write_record("error", message); }

}  // namespace meshgw::common
