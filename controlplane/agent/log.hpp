// SPDX-License-Identifier: BSD-3-Clause
// One-line log records on stderr: "meshgw[pid] LEVEL: message". Messages
// never carry key material (callers pass SPIs and file names, never keys).
// Threads: any control thread (each record is one write).
#pragma once

#include <string>

namespace meshgw::agent {

void log_info(const std::string& message);
void log_warning(const std::string& message);
void log_error(const std::string& message);

}  // namespace meshgw::agent
