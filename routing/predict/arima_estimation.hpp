// SPDX-License-Identifier: BSD-3-Clause
// ARIMA estimation by conditional least squares (CSS) and order selection by
// AIC, for ArimaForecaster. Control path, pure functions.
//
// CSS: the one-step errors e(t) of the model (see arima_model.hpp) are
// computed recursively with e(t) = 0 before the first p differenced samples
// (the "conditional" part); the parameters minimise the sum of e(t)^2 over
// y-indices t >= kConditioningSamples. Every order conditions on the same
// first samples, so the sums -- and the AICs -- compare the same data.
//   start:   Hannan & Rissanen (1982): a long AR fitted by least squares gives
//            residual estimates; regressing w(t) on its lags and those
//            residuals gives phi, theta (and the intercept -> mu).
//   refine:  Levenberg-Marquardt (damped Gauss-Newton) on the CSS, with the
//            error derivatives from their own recursion:
//            de/dphi_i = -(w(t-i) - mu) - sum_j theta_j de(t-j)/dphi_i, etc.
//            A step is taken only if it lowers the CSS and keeps the AR part
//            stationary and the MA part invertible (roots outside |z| = 1.01).
//   AIC:     N log(CSS / N) + 2 (free parameters + 1), N = counted errors.
//   d:       by unit-root tests by default (see DifferencingRule).
// Pure AR orders are linear in the parameters: the start is already the CSS
// optimum and the refinement stops after one step.
#pragma once

#include <span>
#include <vector>

#include "arima_model.hpp"

namespace meshgw::routing::predict {

// First y-index whose one-step error counts in the CSS (p + d at most 4).
inline constexpr int kConditioningSamples = ArimaOrder::kMaxP + ArimaOrder::kMaxD;

// Fits one order to y (undifferenced, finite; the caller scales it). If y is
// too short for that order (fewer than 20 counted errors, or fewer than 10
// per parameter), returns a model with residuals == 0 and no coefficients.
ArimaModel fit_arima(std::span<const double> y, ArimaOrder order);

// How select_arima() chooses d.
//   unit_root_tests: d from choose_differencing() (unit_root_tests.hpp: 0 only
//              if ADF and KPSS agree the series is stationary), then p, q by
//              AIC. The default: AIC over d prefers near-unit-root d = 0 fits
//              of wandering traffic levels, whose forecasts then revert to the
//              training mean -- worse out of sample at every horizon we tried.
//   aic:       d by AIC too, over the whole grid.
enum class DifferencingRule { unit_root_tests, aic };

// Fits the orders p <= 3, q <= 2 (and d in {0, 1} as the rule says) and
// returns the one with the smallest AIC (ties: fewest parameters). If y is
// too short for all of them, ARIMA(0,1,0) -- persistence. fitted, if given,
// receives every model that could be fitted.
ArimaModel select_arima(std::span<const double> y, DifferencingRule rule = DifferencingRule::unit_root_tests,
                        std::vector<ArimaModel>* fitted = nullptr);

// True if 1 - a_1 z - ... - a_k z^k has every root outside |z| = radius
// (Schur-Cohn step-down: all reflection coefficients of a scaled by radius^i
// are below 1 in magnitude). For an AR part pass phi; for an MA part, -theta.
bool roots_outside(std::span<const double> a, double radius);

}  // namespace meshgw::routing::predict
