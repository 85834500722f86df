// SPDX-License-Identifier: BSD-3-Clause
// ArimaForecaster: ARIMA(p,d,q), p <= 3, d <= 1, q <= 2, fitted by
// conditional least squares, d chosen by unit-root tests and p, q by AIC
// (or a fixed order), then
// run online: one update keeps the last p differenced values and the last q
// one-step errors, so it costs O(p + q) = O(1) and never refits.
//   forecast: w(t+k) = mu + sum_i phi_i (w(t+k-i) - mu) + sum_{j>=k} theta_j e(t+k-j),
//   with future errors 0 and future w replaced by their forecasts;
//   y(t+h) = y(t) + w(t+1) + ... + w(t+h) when d = 1.
// Estimation details: arima_estimation.hpp. With too little history for any
// order it is ARIMA(0,1,0), i.e. persistence. Threads: see Forecaster.
#pragma once

#include <optional>

#include "arima_model.hpp"
#include "forecaster.hpp"

namespace meshgw::routing::predict {

class ArimaForecaster final : public CopyableForecaster<ArimaForecaster> {
 public:
  // order: fixed order, or nullopt to select it at every fit() (select_arima()).
  // Throws std::invalid_argument for an order outside p <= 3, d <= 1, q <= 2.
  explicit ArimaForecaster(std::optional<ArimaOrder> order = std::nullopt);

  std::string_view name() const override { return "arima"; }
  std::string describe() const override;
  std::size_t memory_bytes() const override { return sizeof(*this); }

  // The fitted model; mean is in the scaled units of the fit.
  const ArimaModel& model() const noexcept { return model_; }

 protected:
  void fit_scaled(std::span<const double> history) override;
  void update_scaled(double y) noexcept override;
  double forecast_scaled(int h) const override;
  void forecast_path_scaled(std::span<double> out) const override;
  void skip_scaled(std::uint64_t missing) noexcept override;

 private:
  std::optional<ArimaOrder> fixed_order_;
  ArimaModel model_;
  std::array<double, ArimaOrder::kMaxP> recent_w_{};  // w(t), w(t-1), w(t-2)
  std::array<double, ArimaOrder::kMaxQ> recent_e_{};  // e(t), e(t-1)
  double previous_y_ = 0.0;
  bool has_previous_ = false;
};

}  // namespace meshgw::routing::predict
