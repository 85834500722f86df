// SPDX-License-Identifier: BSD-3-Clause
#include "arima_model.hpp"

#include <sstream>

namespace meshgw::routing::predict {

std::string ArimaOrder::to_string() const {
  return "ARIMA(" + std::to_string(p) + "," + std::to_string(d) + "," + std::to_string(q) + ")";
}

std::string ArimaModel::to_string() const {
  std::ostringstream s;
  s.precision(4);
  s << order.to_string();
  const auto list = [&s](const char* label, const double* v, int n) {
    if (n == 0) return;
    s << " " << label << "=[";
    for (int i = 0; i < n; ++i) s << (i ? "," : "") << v[i];
    s << "]";
  };
  list("phi", phi.data(), order.p);
  list("theta", theta.data(), order.q);
  if (order.d == 0) s << " mean(scaled)=" << mean;
  if (residuals > 0) s << " aic=" << aic;
  return s.str();
}

}  // namespace meshgw::routing::predict
