// SPDX-License-Identifier: BSD-3-Clause
// Unit-root tests that decide ARIMA's differencing order d:
//   KPSS (Kwiatkowski, Phillips, Schmidt & Shin 1992), null: level-stationary.
//     eta = sum_t S(t)^2 / (n^2 s2), S(t) = sum_{i<=t} (y(i) - mean(y)), s2 the
//     Newey-West long-run variance (Bartlett weights, l = floor(4 (n/100)^0.25)).
//     Rejects at 5% when eta > 0.463.
//   ADF (Said & Dickey 1984), null: unit root. The t statistic of g in
//     dy(t) = a + g y(t-1) + sum_{i=1..k} c_i dy(t-i) + e(t), k = floor((n-1)^(1/3)),
//     rejects at 5% when t < -2.86 (constant, no trend; asymptotic value).
// choose_differencing() differences unless both agree the series is
// stationary (ADF rejects a unit root and KPSS does not reject stationarity):
// a short series is too weak evidence for either test alone, and mistaking a
// wandering level for a stationary one costs far more (forecasts revert to a
// stale mean) than the reverse (a slightly noisier random-walk forecast).
// Threads: pure functions.
#pragma once

#include <span>

namespace meshgw::routing::predict {

inline constexpr double kKpssCritical5Percent = 0.463;  // KPSS (1992) table 1, level case
inline constexpr double kAdfCritical5Percent = -2.86;   // Dickey-Fuller with constant, n -> infinity

// The KPSS level statistic of y; 0 for fewer than 3 samples or a constant series.
double kpss_level_statistic(std::span<const double> y);

// The ADF t statistic; 0 (no rejection) if y is too short or degenerate.
double adf_statistic(std::span<const double> y);

// 0 or 1 as described above.
int choose_differencing(std::span<const double> y);

}  // namespace meshgw::routing::predict
