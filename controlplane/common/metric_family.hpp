// SPDX-License-Identifier: BSD-3-Clause
// Building prometheus-cpp metric families by hand from counters a program
// already keeps (no prometheus Registry in between), for /metrics pages
// rendered with prometheus::TextSerializer. Header-only; control path.
#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <string>
#include <utility>
#include <vector>

namespace meshgw::common {

inline prometheus::MetricFamily metric_family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

inline void add_sample(prometheus::MetricFamily& f, double value,
                       std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == prometheus::MetricType::Gauge) {
    m.gauge.value = value;
  } else {
    m.counter.value = value;
  }
  f.metric.push_back(std::move(m));
}

}  // namespace meshgw::common
