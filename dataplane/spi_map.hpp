// SPDX-License-Identifier: BSD-3-Clause
// A read-only hash map from SPI to a small value, built once on the control
// thread and then read by workers: open addressing in a flat power-of-two
// array at most half full, so a lookup touches one or two cache lines and
// never allocates. SPIs are allocated by the controller (not chosen by an
// attacker), and a probe sequence is bounded by the table size anyway.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace meshgw::dataplane {

template <class Value>
class SpiMap {
 public:
  SpiMap() : slots_(2) {}

  // Control thread. Returns false if spi is already present (or is 0, the
  // empty marker; valid SPIs are >= 256).
  bool insert(std::uint32_t spi, const Value& value) {
    if (spi == 0) return false;
    if ((size_ + 1) * 2 > slots_.size()) grow();
    return place(spi, value);
  }

  // Workers. nullptr if absent.
  const Value* find(std::uint32_t spi) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash(spi) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.spi == spi) return &s.value;
      if (s.spi == 0) return nullptr;
    }
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t bytes() const noexcept { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    std::uint32_t spi = 0;
    Value value{};
  };
  static std::size_t hash(std::uint32_t spi) noexcept {
    return static_cast<std::size_t>((spi * 0x9e3779b97f4a7c15ull) >> 32);
  }
  bool place(std::uint32_t spi, const Value& value) {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash(spi) & mask;; i = (i + 1) & mask) {
      if (slots_[i].spi == spi) return false;
      if (slots_[i].spi == 0) {
        slots_[i] = {spi, value};
        ++size_;
        return true;
      }
    }
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& s : old) {
      if (s.spi != 0) place(s.spi, s.value);
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace meshgw::dataplane
