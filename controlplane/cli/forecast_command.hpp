// SPDX-License-Identifier: BSD-3-Clause
// meshctl forecast: offline backtest of the routing engine's demand
// forecasters (routing/predict) on one pair of a traffic-matrix CSV. Fits on
// the first part of the series, forecasts 1..H steps ahead at every point of
// the rest from earlier samples only (MAE and sMAPE per method and horizon),
// shows what the automatic selection picked, and forecasts the next H values.
#pragma once

#include <string>
#include <vector>

namespace meshgw::cli {

// args: what follows "meshctl forecast". Returns 0 on success, 1 if the file
// cannot be read or used (bad CSV line, unknown pair, series too short), 2 on
// bad usage.
int forecast_command(const std::vector<std::string>& args);

}  // namespace meshgw::cli
