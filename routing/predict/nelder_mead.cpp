// SPDX-License-Identifier: BSD-3-Clause
#include "nelder_mead.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace meshgw::routing::predict {

namespace {

struct Vertex {
  std::vector<double> x;
  double value;
};

class Simplex {
 public:
  Simplex(const std::function<double(std::span<const double>)>& objective, int budget)
      : objective_(objective), budget_(budget) {}

  double evaluate(std::span<const double> x) {
    ++evaluations_;
    const double v = objective_(x);
    return std::isfinite(v) ? v : std::numeric_limits<double>::infinity();
  }
  bool out_of_budget() const { return evaluations_ >= budget_; }
  int evaluations() const { return evaluations_; }

  std::vector<Vertex> vertices;

  void sort() {
    std::sort(vertices.begin(), vertices.end(), [](const Vertex& a, const Vertex& b) { return a.value < b.value; });
  }
  // Centroid of all vertices but the worst.
  std::vector<double> centroid() const {
    std::vector<double> c(vertices[0].x.size(), 0.0);
    for (std::size_t i = 0; i + 1 < vertices.size(); ++i)
      for (std::size_t k = 0; k < c.size(); ++k) c[k] += vertices[i].x[k];
    for (double& v : c) v /= static_cast<double>(vertices.size() - 1);
    return c;
  }
  // centroid + t * (centroid - worst)
  Vertex along(const std::vector<double>& c, double t) {
    Vertex v{c, 0.0};
    for (std::size_t k = 0; k < c.size(); ++k) v.x[k] = c[k] + t * (c[k] - vertices.back().x[k]);
    v.value = evaluate(v.x);
    return v;
  }
  void shrink_towards_best() {
    for (std::size_t i = 1; i < vertices.size(); ++i) {
      for (std::size_t k = 0; k < vertices[i].x.size(); ++k)
        vertices[i].x[k] = vertices[0].x[k] + 0.5 * (vertices[i].x[k] - vertices[0].x[k]);
      vertices[i].value = evaluate(vertices[i].x);
    }
  }

 private:
  const std::function<double(std::span<const double>)>& objective_;
  int budget_;
  int evaluations_ = 0;
};

// One Nelder-Mead iteration on a sorted simplex.
void step(Simplex& s) {
  const std::vector<double> c = s.centroid();
  const double best = s.vertices.front().value;
  const double second_worst = s.vertices[s.vertices.size() - 2].value;
  const double worst = s.vertices.back().value;
  Vertex reflected = s.along(c, 1.0);
  if (reflected.value < best) {
    Vertex expanded = s.along(c, 2.0);
    s.vertices.back() = expanded.value < reflected.value ? std::move(expanded) : std::move(reflected);
  } else if (reflected.value < second_worst) {
    s.vertices.back() = std::move(reflected);
  } else {
    // Contract outside if the reflection helped a little, inside otherwise.
    const bool outside = reflected.value < worst;
    Vertex contracted = s.along(c, outside ? 0.5 : -0.5);
    if (contracted.value < (outside ? reflected.value : worst))
      s.vertices.back() = std::move(contracted);
    else
      s.shrink_towards_best();
  }
}

}  // namespace

NelderMeadResult minimize_nelder_mead(const std::function<double(std::span<const double>)>& objective,
                                      std::vector<double> start, const NelderMeadOptions& options) {
  Simplex s(objective, options.max_evaluations);
  const std::size_t n = start.size();
  s.vertices.push_back({start, s.evaluate(start)});
  for (std::size_t k = 0; k < n; ++k) {
    std::vector<double> x = start;
    x[k] += options.initial_step;
    const double v = s.evaluate(x);
    s.vertices.push_back({std::move(x), v});
  }
  s.sort();
  while (n > 0 && !s.out_of_budget()) {
    const double spread = s.vertices.back().value - s.vertices.front().value;
    if (std::isfinite(spread) &&
        spread <= options.value_tolerance * (std::fabs(s.vertices.front().value) + 1.0))
      break;
    step(s);
    s.sort();
  }
  return {s.vertices.front().x, s.vertices.front().value, s.evaluations()};
}

}  // namespace meshgw::routing::predict
