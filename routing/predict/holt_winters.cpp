// SPDX-License-Identifier: BSD-3-Clause
#include "holt_winters.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <sstream>
#include <vector>

#include "nelder_mead.hpp"

namespace meshgw::routing::predict {

namespace {

constexpr double kPhiMin = 0.8;
constexpr double kPhiMax = 0.98;

double logistic(double u) { return 1.0 / (1.0 + std::exp(-u)); }
double logit(double p) { return std::log(p / (1.0 - p)); }

// What the fit varies: which components exist decides which parameters are free.
struct Shape {
  bool trend = false;
  bool damped = false;
  bool season = false;
};

// Unconstrained coordinates u -> parameters inside their bounds, so that
// Nelder-Mead needs no constraint handling: beta and gamma are fractions of
// what alpha leaves them (beta < alpha, gamma < 1 - alpha). u holds only the
// free parameters, in the order alpha, beta, gamma, phi.
HoltWintersParams params_from(std::span<const double> u, const Shape& shape) {
  std::size_t next = 0;
  HoltWintersParams p;
  p.alpha = logistic(u[next++]);
  p.beta = shape.trend ? p.alpha * logistic(u[next++]) : 0.0;
  p.gamma = shape.season ? (1.0 - p.alpha) * logistic(u[next++]) : 0.0;
  p.phi = shape.damped ? kPhiMin + (kPhiMax - kPhiMin) * logistic(u[next++]) : 1.0;
  return p;
}

std::vector<double> coordinates_of(const Shape& shape, double alpha, double beta_fraction, double gamma_fraction,
                                   double phi) {
  std::vector<double> u{logit(alpha)};
  if (shape.trend) u.push_back(logit(beta_fraction));
  if (shape.season) u.push_back(logit(gamma_fraction));
  if (shape.damped) u.push_back(logit((phi - kPhiMin) / (kPhiMax - kPhiMin)));
  return u;
}

double damped_sum(double phi, int h) {
  if (phi >= 1.0) return static_cast<double>(h);
  return phi * (1.0 - std::pow(phi, h)) / (1.0 - phi);
}

double mean_of(std::span<const double> v) {
  double sum = 0.0;
  for (const double x : v) sum += x;
  return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
}

// Classic start: level and trend from the first two seasons' means, seasonal
// states as the average deviation from each season's mean over (up to) the
// first four seasons. The state is placed just before sample 0.
HoltWintersForecaster::Components initial_components(std::span<const double> y, std::size_t m, bool trend) {
  HoltWintersForecaster::Components c;
  if (m == 0) {
    c.level = y[0];
    return c;
  }
  const double first = mean_of(y.first(m));
  const double second = mean_of(y.subspan(m, m));
  c.trend = trend ? (second - first) / static_cast<double>(m) : 0.0;
  c.level = first - c.trend * static_cast<double>(m + 1) / 2.0;
  const std::size_t seasons = std::min<std::size_t>(y.size() / m, 4);
  std::vector<double> season_means(seasons);
  for (std::size_t k = 0; k < seasons; ++k) season_means[k] = mean_of(y.subspan(k * m, m));
  c.season.assign(m);
  for (std::size_t i = 0; i < m; ++i) {
    double deviation = 0.0;
    for (std::size_t k = 0; k < seasons; ++k) deviation += y[k * m + i] - season_means[k];
    c.season.replace_oldest(deviation / static_cast<double>(seasons));
  }
  return c;
}

double one_step(const HoltWintersForecaster::Components& c, const HoltWintersParams& p) {
  return c.level + p.phi * c.trend + (c.season.empty() ? 0.0 : c.season.from_oldest(0));
}

// The error-correction recursions; returns the one-step error e(t).
double advance(HoltWintersForecaster::Components& c, const HoltWintersParams& p, double y) {
  const double error = y - one_step(c, p);
  const double damped_trend = p.phi * c.trend;
  c.level += damped_trend + p.alpha * error;
  c.trend = damped_trend + p.beta * error;
  if (!c.season.empty()) c.season.replace_oldest(c.season.from_oldest(0) + p.gamma * error);
  return error;
}

double sum_of_squared_errors(std::span<const double> y, const HoltWintersForecaster::Components& start,
                             const HoltWintersParams& p, HoltWintersForecaster::Components& scratch) {
  scratch.level = start.level;
  scratch.trend = start.trend;
  scratch.season = start.season;
  double sse = 0.0;
  for (const double v : y) {
    const double e = advance(scratch, p, v);
    sse += e * e;
  }
  return sse;
}

struct FittedShape {
  Shape shape;
  HoltWintersParams params;
  HoltWintersForecaster::Components start;
  double sse = 0.0;
  double aicc = 0.0;
};

// Coarse grid (alpha x beta x gamma), then Nelder-Mead from its best point.
FittedShape fit_shape(std::span<const double> y, const Shape& shape, std::size_t season) {
  FittedShape fitted{shape, {}, initial_components(y, shape.season ? season : 0, shape.trend)};
  HoltWintersForecaster::Components scratch;
  const auto objective = [&](std::span<const double> u) {
    return sum_of_squared_errors(y, fitted.start, params_from(u, shape), scratch);
  };
  const std::initializer_list<double> fractions{0.02, 0.2};
  const std::initializer_list<double> unused{0.5};
  std::vector<double> best_u;
  double best = std::numeric_limits<double>::infinity();
  for (const double alpha : {0.05, 0.2, 0.4, 0.6, 0.8, 0.95})
    for (const double beta_fraction : shape.trend ? fractions : unused)
      for (const double gamma_fraction : shape.season ? fractions : unused) {
        std::vector<double> u = coordinates_of(shape, alpha, beta_fraction, gamma_fraction, 0.9);
        const double v = objective(u);
        if (v < best || best_u.empty()) best = v, best_u = std::move(u);
      }
  NelderMeadOptions options;
  options.max_evaluations = 60 * static_cast<int>(best_u.size());
  const NelderMeadResult r = minimize_nelder_mead(objective, best_u, options);
  fitted.params = params_from(r.x, shape);
  fitted.sse = r.value;
  // AICc as for ETS models (Hyndman et al. 2008, 7.1): the smoothing
  // parameters, phi and the initial states (l, b, m - 1 seasonal) are all
  // estimated from the data, plus the error variance.
  const double n = static_cast<double>(y.size());
  const double k = 2.0 + (shape.trend ? 2.0 : 0.0) + (shape.damped ? 1.0 : 0.0) +
                   (shape.season ? static_cast<double>(season) : 0.0) + 1.0;
  const double sigma2 = std::max(fitted.sse / n, 1e-30);
  fitted.aicc = n - k - 1.0 > 0.0 ? n * std::log(sigma2) + 2.0 * k + 2.0 * k * (k + 1.0) / (n - k - 1.0)
                                  : std::numeric_limits<double>::infinity();
  return fitted;
}

}  // namespace

HoltWintersForecaster::HoltWintersForecaster(HoltWintersOptions options) : options_(options) {}

std::string HoltWintersForecaster::describe() const {
  std::ostringstream s;
  s.precision(4);
  s << "Holt-Winters additive (alpha=" << params_.alpha;
  if (trend_in_use_) s << " beta=" << params_.beta << " phi=" << params_.phi;
  if (season_in_use() != 0) s << " gamma=" << params_.gamma << " season=" << season_in_use();
  s << ")";
  if (options_.season != 0 && season_in_use() == 0)
    s << (history_too_short_for_season_ ? ", no season: history shorter than two seasons"
                                        : ", no season: it did not pay for its states (AICc)");
  return s.str();
}

void HoltWintersForecaster::fit_scaled(std::span<const double> history) {
  params_ = HoltWintersParams{};
  trend_in_use_ = false;
  restart_pending_ = false;
  components_ = Components{};
  const bool season = options_.season != 0 && history.size() >= std::max(2 * options_.season, kMinHistory);
  history_too_short_for_season_ = options_.season != 0 && !season;
  if (history.size() < kMinHistory) {  // persistence: alpha = 1, level = last sample
    components_.level = history.empty() ? 0.0 : history.back();
    return;
  }
  // Each component must earn its parameters: the configured shape and every
  // simpler one (without trend, without season) compete on AICc.
  const bool trend = options_.trend != TrendKind::none;
  std::optional<FittedShape> best;
  for (const bool with_trend : {false, true})
    for (const bool with_season : {false, true}) {
      if ((with_trend && !trend) || (with_season && !season)) continue;
      if (!options_.select_components && (with_trend != trend || with_season != season)) continue;
      const Shape shape{with_trend, with_trend && options_.trend == TrendKind::damped, with_season};
      FittedShape candidate = fit_shape(history, shape, options_.season);
      if (!best || candidate.aicc < best->aicc) best = std::move(candidate);
    }
  params_ = best->params;
  trend_in_use_ = best->shape.trend;
  components_ = std::move(best->start);
  for (const double y : history) advance(components_, params_, y);
}

void HoltWintersForecaster::skip_scaled(std::uint64_t missing) noexcept {
  components_.season.advance(missing);
  restart_pending_ = true;
}

void HoltWintersForecaster::update_scaled(double y) noexcept {
  if (restart_pending_) {
    // Level anew from this sample; the trend before a hole says nothing
    // reliable about after it. The seasonal state of this position stays.
    restart_pending_ = false;
    const double seasonal = components_.season.empty() ? 0.0 : components_.season.from_oldest(0);
    components_.level = y - seasonal;
    components_.trend = 0.0;
    if (!components_.season.empty()) components_.season.replace_oldest(seasonal);
    return;
  }
  advance(components_, params_, y);
  // Only reachable with absurd inputs (values near the double range): restart
  // from the sample rather than carry inf/NaN forever.
  if (!std::isfinite(components_.level) || !std::isfinite(components_.trend)) {
    components_.level = y;
    components_.trend = 0.0;
  }
}

double HoltWintersForecaster::forecast_scaled(int h) const {
  const Components& c = components_;
  double f = c.level + damped_sum(params_.phi, h) * c.trend;
  if (!c.season.empty()) f += c.season.from_oldest(static_cast<std::size_t>(h - 1) % c.season.size());
  return f;
}

}  // namespace meshgw::routing::predict
