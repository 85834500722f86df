// SPDX-License-Identifier: BSD-3-Clause
#include "normal_equations.hpp"

#include <algorithm>
#include <cmath>

namespace meshgw::routing::predict {

NormalEquations::NormalEquations(std::size_t columns) : k_(columns), xtx_(columns * columns, 0.0), xty_(columns, 0.0) {}

void NormalEquations::add_row(std::span<const double> x, double y) noexcept {
  for (std::size_t i = 0; i < k_; ++i) {
    xty_[i] += x[i] * y;
    for (std::size_t j = 0; j <= i; ++j) xtx_[i * k_ + j] += x[i] * x[j];
  }
  yty_ += y * y;
  ++rows_;
}

std::optional<std::vector<double>> NormalEquations::solve(double damping) const { return solve_for(xty_, damping); }

double NormalEquations::residual_sum_of_squares(std::span<const double> b) const noexcept {
  double explained = 0.0;
  for (std::size_t i = 0; i < k_; ++i) explained += b[i] * xty_[i];
  return std::max(yty_ - explained, 0.0);
}

std::optional<double> NormalEquations::standard_error(std::span<const double> b, std::size_t i) const {
  if (rows_ <= k_) return std::nullopt;
  std::vector<double> unit(k_, 0.0);
  unit[i] = 1.0;
  const auto column = solve_for(std::move(unit), 0.0);  // column i of inverse(X'X)
  if (!column) return std::nullopt;
  const double variance = residual_sum_of_squares(b) / static_cast<double>(rows_ - k_);
  return std::sqrt(variance * (*column)[i]);
}

std::optional<std::vector<double>> NormalEquations::solve_for(std::vector<double> b, double damping) const {
  // Cholesky A = L L' in place on a copy of the lower triangle.
  std::vector<double> l = xtx_;
  for (std::size_t i = 0; i < k_; ++i) l[i * k_ + i] *= 1.0 + damping;
  for (std::size_t j = 0; j < k_; ++j) {
    double diagonal = l[j * k_ + j];
    for (std::size_t m = 0; m < j; ++m) diagonal -= l[j * k_ + m] * l[j * k_ + m];
    // Relative threshold: a column that is (nearly) a combination of others.
    if (!(diagonal > 1e-12 * (xtx_[j * k_ + j] + 1e-300))) return std::nullopt;
    l[j * k_ + j] = std::sqrt(diagonal);
    for (std::size_t i = j + 1; i < k_; ++i) {
      double v = l[i * k_ + j];
      for (std::size_t m = 0; m < j; ++m) v -= l[i * k_ + m] * l[j * k_ + m];
      l[i * k_ + j] = v / l[j * k_ + j];
    }
  }
  for (std::size_t i = 0; i < k_; ++i) {  // L z = rhs
    for (std::size_t m = 0; m < i; ++m) b[i] -= l[i * k_ + m] * b[m];
    b[i] /= l[i * k_ + i];
  }
  for (std::size_t i = k_; i-- > 0;) {  // L' b = z
    for (std::size_t m = i + 1; m < k_; ++m) b[i] -= l[m * k_ + i] * b[m];
    b[i] /= l[i * k_ + i];
  }
  for (const double v : b)
    if (!std::isfinite(v)) return std::nullopt;
  return b;
}

}  // namespace meshgw::routing::predict
