// SPDX-License-Identifier: BSD-3-Clause
// meshgw logs through common/log ("meshgw[pid] LEVEL: message").
#pragma once

#include "controlplane/common/log.hpp"

namespace meshgw::agent {

using common::log_error;
using common::log_info;
using common::log_warning;

}  // namespace meshgw::agent
