// SPDX-License-Identifier: BSD-3-Clause
// ArimaModel: the fitted parameters of an ARIMA(p,d,q) model,
//   w(t) = (1 - B)^d y(t)
//   w(t) - mu = sum_i phi_i (w(t-i) - mu) + e(t) + sum_j theta_j e(t-j)
// with mu = 0 when d = 1 (no drift: a drift term extrapolates a trend for
// ever, which traffic does not do). Sizes are fixed (p <= 3, q <= 2, d <= 1)
// so a model is a small flat value. Threads: a plain value.
#pragma once

#include <array>
#include <string>

namespace meshgw::routing::predict {

struct ArimaOrder {
  static constexpr int kMaxP = 3;
  static constexpr int kMaxD = 1;
  static constexpr int kMaxQ = 2;
  int p = 0;
  int d = 1;
  int q = 0;
  bool operator==(const ArimaOrder&) const = default;
  bool valid() const noexcept { return p >= 0 && p <= kMaxP && d >= 0 && d <= kMaxD && q >= 0 && q <= kMaxQ; }
  std::string to_string() const;
};

struct ArimaModel {
  ArimaOrder order;
  std::array<double, ArimaOrder::kMaxP> phi{};
  std::array<double, ArimaOrder::kMaxQ> theta{};
  double mean = 0.0;          // mu, in the units the model was fitted in
  double sum_of_squares = 0.0;  // conditional sum of squared one-step errors
  double sigma2 = 0.0;        // sum_of_squares / residuals
  double aic = 0.0;           // residuals*log(sigma2) + 2*(free parameters + 1)
  int residuals = 0;          // one-step errors counted in sum_of_squares
  std::string to_string() const;
};

}  // namespace meshgw::routing::predict
