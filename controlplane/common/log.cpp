// SPDX-License-Identifier: BSD-3-Clause
#include "log.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace meshgw::common {

namespace {
const char* g_program = "meshgw";

void write_record(const char* level, const std::string& message) {
  std::string line = g_program;
  line += '[';
  line += std::to_string(getpid());
  line += "] ";
  // UTC to the millisecond: the lines of several programs (a mesh on one
  // machine, a gateway and its controller) can be put in one order.
  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  std::tm utc{};
  ::gmtime_r(&tv.tv_sec, &utc);
  char stamp[80];  // room for any int the format could see (-Wformat-truncation)
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(tv.tv_usec / 1000));
  line += stamp;
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
