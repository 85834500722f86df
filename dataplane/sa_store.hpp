// SPDX-License-Identifier: BSD-3-Clause
// The SAs of a gateway, at stable addresses outside every snapshot: the
// outbound sequence counters and inbound replay windows live in them, so
// they survive snapshot swaps. Keys come from a KeyRing filled by the control
// plane (key files now, the TLS exporter between ingress and egress later).
//
// An SA, once made, stays in the store for as long as its key is in the
// ring: a tunnel that leaves the plan and comes back continues its sequence
// numbers rather than starting again at 1 under the same key (GCM nonce
// reuse). An outbound SA's outer endpoints are fixed: a tunnel whose next
// hop changes is a new tunnel with new SPIs (DESIGN.md), and the store
// refuses to rebind an SPI.
// Threads: control thread only; workers see the SAs through snapshots.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "crypto/esp.hpp"

namespace meshgw::dataplane {

class SaStore {
 public:
  SaStore(crypto::Backend backend, std::uint32_t replay_window);

  // Installs or replaces the key of an SPI. Replacing the key of an SPI whose
  // SA exists is refused (std::invalid_argument): a rekey uses a new SPI.
  void add_key(std::uint32_t spi, const crypto::SaKeyMaterial& keys);
  bool has_key(std::uint32_t spi) const { return keys_.count(spi) != 0; }
  // A new key for an SPI in use, when the other end lost the old one (it
  // restarted) and both agreed a fresh one: the SAs made from the old key
  // leave the store (snapshots that still hold them keep them alive until
  // retired) and the next compile makes new ones, counters and replay
  // window from zero. Safe because the key is new: no nonce is reused
  // under a key. The plan must change too (PlanTunnel::key_generation).
  void replace_key(std::uint32_t spi, const crypto::SaKeyMaterial& keys);
  // Drops the key and the SAs made from it (after a rekey retired them).
  void forget(std::uint32_t spi);

  // The SA for spi with these outer endpoints, made on first use. On error
  // returns nullptr and sets *error (no key; SPI bound to other endpoints).
  std::shared_ptr<crypto::OutboundSa> outbound(std::uint32_t spi, const crypto::UdpTunnelEndpoints& outer,
                                               std::string* error);
  std::shared_ptr<crypto::InboundSa> inbound(std::uint32_t spi, std::string* error);

  std::size_t outbound_count() const noexcept { return outbound_.size(); }
  std::size_t inbound_count() const noexcept { return inbound_.size(); }

 private:
  struct Outbound {
    std::shared_ptr<crypto::OutboundSa> sa;
    crypto::UdpTunnelEndpoints outer;
  };
  crypto::CryptoWorkspace ws_;  // for key schedules only (control thread)
  crypto::Backend backend_;
  std::uint32_t replay_window_;
  std::map<std::uint32_t, crypto::SaKeyMaterial> keys_;
  std::map<std::uint32_t, Outbound> outbound_;
  std::map<std::uint32_t, std::shared_ptr<crypto::InboundSa>> inbound_;
};

}  // namespace meshgw::dataplane
