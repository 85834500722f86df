// SPDX-License-Identifier: BSD-3-Clause
#include "arima_estimation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "normal_equations.hpp"
#include "unit_root_tests.hpp"

namespace meshgw::routing::predict {

namespace {

constexpr double kRootRadius = 1.05;   // keeps MA(1) theta away from -1 (over-differencing)
constexpr double kSigma2Floor = 1e-30;  // an exact fit (constant series) must not give log(0)
constexpr int kMaxIterations = 40;
constexpr int kMinCountedErrors = 20;
constexpr int kCountedErrorsPerParameter = 10;

int free_parameters(const ArimaOrder& o) { return o.p + o.q + (o.d == 0 ? 1 : 0); }

// The parameter vector the optimiser moves: phi_1..p, theta_1..q, then mu if d == 0.
std::vector<double> pack(const ArimaModel& m) {
  std::vector<double> b;
  for (int i = 0; i < m.order.p; ++i) b.push_back(m.phi[i]);
  for (int j = 0; j < m.order.q; ++j) b.push_back(m.theta[j]);
  if (m.order.d == 0) b.push_back(m.mean);
  return b;
}

ArimaModel unpack(const ArimaOrder& order, std::span<const double> b) {
  ArimaModel m;
  m.order = order;
  std::size_t k = 0;
  for (int i = 0; i < order.p; ++i) m.phi[i] = b[k++];
  for (int j = 0; j < order.q; ++j) m.theta[j] = b[k++];
  if (order.d == 0) m.mean = b[k];
  return m;
}

bool admissible(const ArimaModel& m) {
  std::array<double, ArimaOrder::kMaxQ> minus_theta{};
  for (int j = 0; j < m.order.q; ++j) minus_theta[j] = -m.theta[j];
  return roots_outside(std::span(m.phi).first(m.order.p), kRootRadius) &&
         roots_outside(std::span(minus_theta).first(m.order.q), kRootRadius);
}

std::vector<double> differenced(std::span<const double> y, int d) {
  if (d == 0) return {y.begin(), y.end()};
  std::vector<double> w;
  for (std::size_t t = 1; t < y.size(); ++t) w.push_back(y[t] - y[t - 1]);
  return w;
}

// One pass of the CSS recursion over w. With normal != nullptr also the error
// derivatives, accumulated as the Gauss-Newton system J'J delta = -J'e.
double css_pass(std::span<const double> w, const ArimaModel& m, std::size_t first_counted, NormalEquations* normal) {
  const int p = m.order.p, q = m.order.q;
  const std::size_t k = static_cast<std::size_t>(free_parameters(m.order));
  double phi_sum = 0.0;
  for (int i = 0; i < p; ++i) phi_sum += m.phi[i];
  std::array<double, ArimaOrder::kMaxQ> past_e{};  // e(t-1), e(t-2)
  std::vector<double> past_de(ArimaOrder::kMaxQ * k, 0.0), de(k, 0.0);  // de/dbeta at t-1, t-2
  double sse = 0.0;
  for (std::size_t t = static_cast<std::size_t>(p); t < w.size(); ++t) {
    double prediction = m.mean;
    for (int i = 0; i < p; ++i) prediction += m.phi[i] * (w[t - 1 - i] - m.mean);
    for (int j = 0; j < q; ++j) prediction += m.theta[j] * past_e[j];
    const double e = w[t] - prediction;
    if (normal != nullptr) {
      std::size_t c = 0;
      for (int i = 0; i < p; ++i) de[c++] = -(w[t - 1 - i] - m.mean);
      for (int j = 0; j < q; ++j) de[c++] = -past_e[j];
      if (m.order.d == 0) de[c] = -(1.0 - phi_sum);
      for (int j = 0; j < q; ++j)
        for (std::size_t c2 = 0; c2 < k; ++c2) de[c2] -= m.theta[j] * past_de[j * k + c2];
      if (t >= first_counted) normal->add_row(de, -e);
      for (int j = q - 1; j > 0; --j) std::copy_n(&past_de[(j - 1) * k], k, &past_de[j * k]);
      if (q > 0) std::copy_n(de.begin(), k, past_de.begin());
    }
    if (t >= first_counted) sse += e * e;
    for (int j = q - 1; j > 0; --j) past_e[j] = past_e[j - 1];
    if (q > 0) past_e[0] = e;
  }
  return sse;
}

// Least squares of w(t) on rows built by make_row(t), for t in [first, w.size()).
template <typename RowFn>
std::optional<std::vector<double>> regress(std::span<const double> w, std::size_t first, std::size_t columns,
                                           RowFn make_row) {
  NormalEquations normal(columns);
  std::vector<double> row(columns);
  for (std::size_t t = first; t < w.size(); ++t) {
    make_row(t, row);
    normal.add_row(row, w[t]);
  }
  return normal.solve();
}

// AR(order) by least squares with an intercept if wanted; returns the
// residuals (0 before index `order`) or nullopt if singular.
std::optional<std::vector<double>> long_ar_residuals(std::span<const double> w, std::size_t order, bool intercept) {
  const std::size_t columns = order + (intercept ? 1 : 0);
  const auto lags = [&](std::size_t t, std::vector<double>& row) {
    for (std::size_t i = 0; i < order; ++i) row[i] = w[t - 1 - i];
    if (intercept) row[order] = 1.0;
  };
  const auto b = regress(w, order, columns, lags);
  if (!b) return std::nullopt;
  std::vector<double> residuals(w.size(), 0.0);
  std::vector<double> row(columns);
  for (std::size_t t = order; t < w.size(); ++t) {
    lags(t, row);
    double fitted = 0.0;
    for (std::size_t c = 0; c < columns; ++c) fitted += (*b)[c] * row[c];
    residuals[t] = w[t] - fitted;
  }
  return residuals;
}

// Hannan-Rissanen: regress w(t) on its p lags, q lagged long-AR residuals and 1.
ArimaModel hannan_rissanen_start(std::span<const double> w, const ArimaOrder& order) {
  ArimaModel m;
  m.order = order;
  const bool intercept = order.d == 0;
  double mean = 0.0;
  for (const double v : w) mean += v;
  mean /= static_cast<double>(w.size());
  if (intercept) m.mean = mean;
  if (order.p + order.q == 0) return m;

  std::vector<double> innovations;
  std::size_t first = static_cast<std::size_t>(order.p);
  if (order.q > 0) {
    const std::size_t long_order = std::clamp<std::size_t>(w.size() / 20, static_cast<std::size_t>(order.p + order.q + 2), 20);
    auto r = long_ar_residuals(w, long_order, intercept);
    if (!r) return m;
    innovations = std::move(*r);
    first = long_order + static_cast<std::size_t>(order.q);
  }
  const std::size_t p = static_cast<std::size_t>(order.p), q = static_cast<std::size_t>(order.q);
  const auto b = regress(w, first, p + q + (intercept ? 1 : 0), [&](std::size_t t, std::vector<double>& row) {
    for (std::size_t i = 0; i < p; ++i) row[i] = w[t - 1 - i];
    for (std::size_t j = 0; j < q; ++j) row[p + j] = innovations[t - 1 - j];
    if (intercept) row[p + q] = 1.0;
  });
  if (!b) return m;
  double phi_sum = 0.0;
  for (std::size_t i = 0; i < p; ++i) phi_sum += m.phi[i] = (*b)[i];
  for (std::size_t j = 0; j < q; ++j) m.theta[j] = (*b)[p + j];
  // intercept = mu (1 - sum phi); near a unit root that is ill-conditioned, keep the mean.
  if (intercept && std::fabs(1.0 - phi_sum) > 1e-3) m.mean = (*b)[p + q] / (1.0 - phi_sum);
  // Shrink towards white noise until stationary and invertible.
  for (int i = 0; i < 60 && !admissible(m); ++i) {
    for (double& v : m.phi) v *= 0.9;
    for (double& v : m.theta) v *= 0.9;
  }
  if (!admissible(m)) m.phi = {}, m.theta = {};
  return m;
}

// One Levenberg-Marquardt step: raises the damping until a step lowers the
// CSS and stays admissible. Returns false when no such step exists (converged).
bool levenberg_marquardt_step(std::span<const double> w, std::size_t first_counted, ArimaModel& m, double& sse,
                              double& damping) {
  const std::size_t k = static_cast<std::size_t>(free_parameters(m.order));
  NormalEquations normal(k);
  css_pass(w, m, first_counted, &normal);
  for (; damping < 1e8; damping *= 10.0) {
    const auto delta = normal.solve(damping);
    if (!delta) continue;
    std::vector<double> b = pack(m);
    for (std::size_t c = 0; c < k; ++c) b[c] += (*delta)[c];
    const ArimaModel candidate = unpack(m.order, b);
    if (!admissible(candidate)) continue;
    const double candidate_sse = css_pass(w, candidate, first_counted, nullptr);
    if (candidate_sse < sse) {
      m = candidate;
      sse = candidate_sse;
      damping = std::max(damping * 0.1, 1e-9);
      return true;
    }
  }
  return false;
}

// Minimises the CSS from `m`; returns the best admissible point found.
ArimaModel refine(std::span<const double> w, ArimaModel m, std::size_t first_counted) {
  double sse = css_pass(w, m, first_counted, nullptr);
  double damping = 1e-3;
  if (free_parameters(m.order) > 0) {
    for (int iteration = 0; iteration < kMaxIterations; ++iteration) {
      const double before = sse;
      if (!levenberg_marquardt_step(w, first_counted, m, sse, damping)) break;
      if (before - sse <= 1e-7 * before) break;  // AIC then moves by < N * 1e-7
    }
  }
  m.sum_of_squares = sse;
  return m;
}

}  // namespace

bool roots_outside(std::span<const double> a, double radius) {
  // Scaling z -> radius*z moves the test circle to |z| = 1.
  std::array<double, 8> c{};
  if (a.size() > c.size()) return false;
  double power = 1.0;
  for (std::size_t i = 0; i < a.size(); ++i) c[i] = a[i] * (power *= radius);
  for (std::size_t k = a.size(); k > 0; --k) {
    const double reflection = c[k - 1];
    if (!(std::fabs(reflection) < 1.0)) return false;
    const double denominator = 1.0 - reflection * reflection;
    std::array<double, 8> next{};
    for (std::size_t i = 0; i + 1 < k; ++i) next[i] = (c[i] + reflection * c[k - 2 - i]) / denominator;
    c = next;
  }
  return true;
}

ArimaModel fit_arima(std::span<const double> y, ArimaOrder order) {
  ArimaModel empty;
  empty.order = order;
  const int counted = static_cast<int>(y.size()) - kConditioningSamples;
  if (!order.valid() || counted < std::max(kMinCountedErrors, kCountedErrorsPerParameter * (free_parameters(order) + 1)))
    return empty;
  const std::vector<double> w = differenced(y, order.d);
  const std::size_t first_counted = static_cast<std::size_t>(kConditioningSamples - order.d);
  ArimaModel m = refine(w, hannan_rissanen_start(w, order), first_counted);
  m.residuals = counted;
  m.sigma2 = std::max(m.sum_of_squares / counted, kSigma2Floor);
  m.aic = counted * std::log(m.sigma2) + 2.0 * (free_parameters(order) + 1);
  return m;
}

ArimaModel select_arima(std::span<const double> y, DifferencingRule rule, std::vector<ArimaModel>* fitted) {
  ArimaModel best;
  best.order = {0, 1, 0};
  bool found = false;
  int only_d = -1;
  if (rule == DifferencingRule::unit_root_tests) only_d = choose_differencing(y);
  // Simplest first, so that a tie keeps the model with fewer parameters.
  for (int size = 0; size <= ArimaOrder::kMaxP + ArimaOrder::kMaxQ + 1; ++size)
    for (int d = ArimaOrder::kMaxD; d >= 0; --d)
      for (int p = 0; p <= ArimaOrder::kMaxP; ++p)
        for (int q = 0; q <= ArimaOrder::kMaxQ; ++q) {
          const ArimaOrder order{p, d, q};
          if (free_parameters(order) != size || (only_d >= 0 && d != only_d)) continue;
          const ArimaModel m = fit_arima(y, order);
          if (m.residuals == 0) continue;
          if (fitted != nullptr) fitted->push_back(m);
          if (!found || m.aic < best.aic) best = m, found = true;
        }
  return best;
}

}  // namespace meshgw::routing::predict
