// SPDX-License-Identifier: BSD-3-Clause
// Is a forecasting method better than a baseline on the same backtest, by
// more than chance? A Diebold-Mariano style comparison (Diebold & Mariano
// 1995) of the paired errors (forecast - actual) at h = 1 and h = H:
//   L(o)  = ( |e1_c(o)| / MAE1_b + |eH_c(o)| / MAEH_b ) / 2   per origin o
//   score = mean L       (the baseline itself scores 1)
//   d(o)  = L(o) - L_b(o), its mean's variance by Newey-West with Bartlett
//           weights over H - 1 lags (H-step errors of neighbouring origins
//           overlap, so they are correlated)
//   upper = score + z * sqrt(var(mean d))
// AutoForecaster accepts a method over persistence only if upper < 1: on a
// short validation window a few percent is noise, on a long one it is not.
// Threads: pure function.
#pragma once

#include <cstddef>

#include "rolling_evaluation.hpp"

namespace meshgw::routing::predict {

struct BaselineComparison {
  double score = 1.0;
  double score_upper_bound = 1.0;
  std::size_t origins = 0;  // origins where both methods were scored at both horizons
};

// horizon: the H of the errors (>= 1). z: standard errors added to the score
// for the bound (1.645: one-sided 5%). Origins with a NaN in either input are
// skipped; with none left the result is the neutral {1, 1, 0}.
BaselineComparison compare_to_baseline(const PairedErrors& candidate, const PairedErrors& baseline, int horizon,
                                       double z);

}  // namespace meshgw::routing::predict
