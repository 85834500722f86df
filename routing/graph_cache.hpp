// SPDX-License-Identifier: BSD-3-Clause
// Keeps the CSR form of a topology current as Topology::version() moves: the
// same version costs nothing, a new version is first patched in place
// (metrics only, CsrGraph::refresh) and rebuilt only when the structure
// changed. One cache per (cost model, constraints), i.e. per traffic class.
// Threads: the owner's (agent or controller thread).
#pragma once

#include <cstdint>
#include <optional>

#include "csr_graph.hpp"

namespace meshgw::routing {

class GraphCache {
 public:
  GraphCache(CostModel model, Constraints constraints)
      : model_(std::move(model)), constraints_(std::move(constraints)) {}

  // The graph for this topology, current for its version.
  const CsrGraph& graph(const Topology& topology) {
    if (built_ && topology.version() == version_) return graph_;
    if (built_ && graph_.refresh(topology, model_, constraints_)) {
      ++refreshes_;
    } else {
      graph_ = CsrGraph(topology, model_, constraints_);
      built_ = true;
      ++rebuilds_;
    }
    version_ = topology.version();
    return graph_;
  }

  std::uint64_t rebuilds() const noexcept { return rebuilds_; }
  std::uint64_t refreshes() const noexcept { return refreshes_; }

 private:
  CostModel model_;
  Constraints constraints_;
  CsrGraph graph_;
  bool built_ = false;
  std::uint64_t version_ = 0;
  std::uint64_t rebuilds_ = 0, refreshes_ = 0;
};

}  // namespace meshgw::routing
