// SPDX-License-Identifier: BSD-3-Clause
// NormalEquations: accumulates X'X and X'y one row at a time and solves the
// (optionally Levenberg-Marquardt damped) least-squares problem by Cholesky.
// Used for the ARIMA start (Hannan-Rissanen regressions) and its
// Gauss-Newton steps, where k <= ~25 columns and rows arrive from a
// recursion, so X itself is never stored. Threads: a plain value.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace meshgw::routing::predict {

class NormalEquations {
 public:
  explicit NormalEquations(std::size_t columns);

  std::size_t columns() const noexcept { return k_; }
  std::size_t rows() const noexcept { return rows_; }
  // x.size() == columns().
  void add_row(std::span<const double> x, double y) noexcept;

  // Solves (X'X + damping * diag(X'X)) b = X'y. Returns nullopt when the
  // system is singular (e.g. a constant column next to the intercept).
  std::optional<std::vector<double>> solve(double damping = 0.0) const;

  // Least-squares inference for an undamped fit with coefficients b (from
  // solve()): the residual sum of squares y'y - b'X'y, and the standard error
  // of coefficient i, sqrt(RSS / (rows - columns) * inverse(X'X)[i][i]).
  double residual_sum_of_squares(std::span<const double> b) const noexcept;
  std::optional<double> standard_error(std::span<const double> b, std::size_t i) const;

 private:
  std::size_t k_;
  std::size_t rows_ = 0;
  std::vector<double> xtx_;  // k x k, lower triangle filled
  std::vector<double> xty_;
  double yty_ = 0.0;

  // Solves (X'X + damping * diag(X'X)) b = rhs by Cholesky.
  std::optional<std::vector<double>> solve_for(std::vector<double> rhs, double damping) const;
};

}  // namespace meshgw::routing::predict
