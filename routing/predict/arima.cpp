// SPDX-License-Identifier: BSD-3-Clause
#include "arima.hpp"

#include <cmath>
#include <stdexcept>

#include "arima_estimation.hpp"

namespace meshgw::routing::predict {

namespace {

template <std::size_t N>
void push_front(std::array<double, N>& recent, double v) noexcept {
  for (std::size_t i = N - 1; i > 0; --i) recent[i] = recent[i - 1];
  recent[0] = v;
}

}  // namespace

ArimaForecaster::ArimaForecaster(std::optional<ArimaOrder> order) : fixed_order_(order) {
  if (order && !order->valid()) throw std::invalid_argument("ARIMA order out of range: " + order->to_string());
}

std::string ArimaForecaster::describe() const {
  std::string text = model_.to_string();
  if (model_.residuals == 0) text += " (history too short to fit: persistence)";
  return text;
}

void ArimaForecaster::fit_scaled(std::span<const double> history) {
  model_ = fixed_order_ ? fit_arima(history, *fixed_order_) : select_arima(history);
  if (model_.residuals == 0) model_ = ArimaModel{};  // ARIMA(0,1,0): persistence
  recent_w_ = {};
  recent_e_ = {};
  has_previous_ = false;
  // Replay the history through the same recursion the fit used, so the
  // online state starts exactly where the CSS residuals ended.
  std::size_t differenced = 0;
  for (const double y : history) {
    if (model_.order.d == 1 && !has_previous_) {
      previous_y_ = y, has_previous_ = true;
      continue;
    }
    const double w = model_.order.d == 1 ? y - previous_y_ : y;
    double e = 0.0;
    if (differenced >= static_cast<std::size_t>(model_.order.p)) {
      double prediction = model_.mean;
      for (int i = 0; i < model_.order.p; ++i) prediction += model_.phi[i] * (recent_w_[i] - model_.mean);
      for (int j = 0; j < model_.order.q; ++j) prediction += model_.theta[j] * recent_e_[j];
      e = w - prediction;
    }
    push_front(recent_w_, w);
    push_front(recent_e_, e);
    previous_y_ = y, has_previous_ = true;
    ++differenced;
  }
}

void ArimaForecaster::skip_scaled(std::uint64_t) noexcept {
  // Forget the pre-gap differences and errors: the next sample starts over,
  // as at the start of the history.
  has_previous_ = false;
  recent_w_ = {};
  recent_e_ = {};
}

void ArimaForecaster::update_scaled(double y) noexcept {
  if (!has_previous_ && model_.order.d == 0) recent_w_.fill(y);  // AR lags start at the sample
  if (model_.order.d == 1 && !has_previous_) {
    previous_y_ = y, has_previous_ = true;
    return;
  }
  const double w = model_.order.d == 1 ? y - previous_y_ : y;
  double prediction = model_.mean;
  for (int i = 0; i < model_.order.p; ++i) prediction += model_.phi[i] * (recent_w_[i] - model_.mean);
  for (int j = 0; j < model_.order.q; ++j) prediction += model_.theta[j] * recent_e_[j];
  double e = w - prediction;
  // Only absurd inputs overflow here; forgetting that error beats carrying inf.
  if (!std::isfinite(e)) e = 0.0;
  push_front(recent_w_, std::isfinite(w) ? w : 0.0);
  push_front(recent_e_, e);
  previous_y_ = y, has_previous_ = true;
}

void ArimaForecaster::forecast_path_scaled(std::span<double> out) const {
  const int p = model_.order.p, q = model_.order.q;
  std::array<double, ArimaOrder::kMaxP> w = recent_w_;
  double y = previous_y_;
  for (std::size_t k1 = 0; k1 < out.size(); ++k1) {
    const int k = static_cast<int>(k1) + 1;
    double next = model_.mean;
    for (int i = 0; i < p; ++i) next += model_.phi[i] * (w[i] - model_.mean);
    for (int j = k - 1; j < q; ++j) next += model_.theta[j] * recent_e_[j - (k - 1)];
    push_front(w, next);
    y += next;
    out[k1] = model_.order.d == 1 ? y : next;
  }
}

double ArimaForecaster::forecast_scaled(int h) const {
  const int p = model_.order.p, q = model_.order.q;
  std::array<double, ArimaOrder::kMaxP> w = recent_w_;  // becomes forecasts as k advances
  double y = previous_y_;
  double last_w = 0.0;
  for (int k = 1; k <= h; ++k) {
    double next = model_.mean;
    for (int i = 0; i < p; ++i) next += model_.phi[i] * (w[i] - model_.mean);
    for (int j = k - 1; j < q; ++j) next += model_.theta[j] * recent_e_[j - (k - 1)];
    push_front(w, next);
    y += next;
    last_w = next;
    // Past the MA terms a stationary AR part has converged to its mean; stop early.
    if (k > q && p == 0) {
      y += static_cast<double>(h - k) * next;
      last_w = next;
      break;
    }
  }
  return model_.order.d == 1 ? y : last_w;
}

}  // namespace meshgw::routing::predict
