// SPDX-License-Identifier: BSD-3-Clause
// A small Nelder-Mead simplex minimiser (Nelder & Mead 1965, with the
// standard coefficients: reflection 1, expansion 2, contraction 1/2, shrink
// 1/2), for the few (<= 6) unconstrained parameters of the forecasters'
// fits. Bounded parameters are mapped to unconstrained ones by the caller.
// No external optimisation library: routing/ depends on std only.
// Threads: pure function, any thread.
#pragma once

#include <functional>
#include <span>
#include <vector>

namespace meshgw::routing::predict {

struct NelderMeadOptions {
  int max_evaluations = 300;
  // Stops when the simplex's values differ by less than this (relative to
  // the best value, plus the same amount absolute).
  double value_tolerance = 1e-9;
  double initial_step = 0.5;  // simplex edge along each coordinate
};

struct NelderMeadResult {
  std::vector<double> x;
  double value = 0.0;
  int evaluations = 0;
};

// Minimises objective starting from start. A non-finite objective value is
// treated as +infinity (the simplex moves away from it).
NelderMeadResult minimize_nelder_mead(const std::function<double(std::span<const double>)>& objective,
                                      std::vector<double> start, const NelderMeadOptions& options = {});

}  // namespace meshgw::routing::predict
