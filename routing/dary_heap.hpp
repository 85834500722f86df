// SPDX-License-Identifier: BSD-3-Clause
// Indexed d-ary min-heap over node indices with decrease-key, for Dijkstra
// and A*. Keys live next to their node in the heap array so a sift touches
// one cache line per level; positions are kept per node for decrease-key.
// Arity 4 is the usual sweet spot (shallower than binary, children in one line).
#pragma once

#include <cstdint>
#include <vector>

namespace meshgw::routing {

template <unsigned Arity = 4>
class DaryHeap {
 public:
  static constexpr std::uint32_t kAbsent = ~std::uint32_t{0};

  void reset(std::size_t node_count) {
    heap_.clear();
    pos_.assign(node_count, kAbsent);
  }
  bool empty() const noexcept { return heap_.empty(); }

  void push_or_decrease(std::uint32_t node, double key) {
    std::uint32_t i = pos_[node];
    if (i == kAbsent) {
      i = static_cast<std::uint32_t>(heap_.size());
      heap_.push_back({key, node});
    } else {
      heap_[i].key = key;
    }
    sift_up(i);
  }

  // Removes and returns the node with the smallest key.
  std::uint32_t pop(double* key_out = nullptr) {
    const Entry top = heap_.front();
    pos_[top.node] = kAbsent;
    const Entry last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) {
      heap_[0] = last;
      sift_down(0);
    }
    if (key_out) *key_out = top.key;
    return top.node;
  }

 private:
  struct Entry {
    double key;
    std::uint32_t node;
  };

  void sift_up(std::uint32_t i) {
    const Entry e = heap_[i];
    while (i > 0) {
      const std::uint32_t parent = (i - 1) / Arity;
      if (!(e.key < heap_[parent].key)) break;
      heap_[i] = heap_[parent];
      pos_[heap_[i].node] = i;
      i = parent;
    }
    heap_[i] = e;
    pos_[e.node] = i;
  }

  // Index of the smallest of the children [first, end), without branches on
  // the keys (they are unpredictable, and mispredictions were the cost).
  std::uint32_t min_child(std::uint32_t first, std::uint32_t end) const noexcept {
    std::uint32_t best = first;
    double best_key = heap_[first].key;
    for (std::uint32_t c = first + 1; c < end; ++c) {
      const double k = heap_[c].key;
      const bool less = k < best_key;
      best = less ? c : best;
      best_key = less ? k : best_key;
    }
    return best;
  }

  // Bottom-up: move the hole at i down to a leaf along the smaller children,
  // then sift the displaced entry up from there. The entry being placed is
  // usually a leaf's, so it rarely climbs back; this saves a compare per level.
  void sift_down(std::uint32_t i) {
    const Entry e = heap_[i];
    const auto n = static_cast<std::uint32_t>(heap_.size());
    for (;;) {
      const std::uint32_t first = i * Arity + 1;
      if (first >= n) break;
      const std::uint32_t best = min_child(first, first + Arity < n ? first + Arity : n);
      heap_[i] = heap_[best];
      pos_[heap_[i].node] = i;
      i = best;
    }
    heap_[i] = e;
    pos_[e.node] = i;
    sift_up(i);
  }

  std::vector<Entry> heap_;
  std::vector<std::uint32_t> pos_;
};

}  // namespace meshgw::routing
