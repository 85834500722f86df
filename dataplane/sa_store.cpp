// SPDX-License-Identifier: BSD-3-Clause
#include "sa_store.hpp"

#include "routing/forwarding_plan.hpp"

#include <stdexcept>

namespace meshgw::dataplane {

namespace {

using routing::spi_text;

bool same(const crypto::UdpTunnelEndpoints& a, const crypto::UdpTunnelEndpoints& b) {
  return a.src_ip == b.src_ip && a.dst_ip == b.dst_ip && a.src_port == b.src_port &&
         a.dst_port == b.dst_port && a.ttl == b.ttl;
}

}  // namespace

SaStore::SaStore(crypto::Backend backend, std::uint32_t replay_window)
    : backend_(backend), replay_window_(replay_window) {}

void SaStore::add_key(std::uint32_t spi, const crypto::SaKeyMaterial& keys) {
  if (outbound_.count(spi) != 0 || inbound_.count(spi) != 0)
    throw std::invalid_argument("SPI " + spi_text(spi) +
                                " is in use: a new key needs a new SPI (rekey), never the same one");
  keys_[spi] = keys;
}

void SaStore::replace_key(std::uint32_t spi, const crypto::SaKeyMaterial& keys) {
  forget(spi);
  keys_[spi] = keys;
}

void SaStore::forget(std::uint32_t spi) {
  keys_.erase(spi);
  outbound_.erase(spi);
  inbound_.erase(spi);
}

std::shared_ptr<crypto::OutboundSa> SaStore::outbound(std::uint32_t spi,
                                                      const crypto::UdpTunnelEndpoints& outer,
                                                      std::string* error) {
  if (const auto it = outbound_.find(spi); it != outbound_.end()) {
    if (same(it->second.outer, outer)) return it->second.sa;
    *error = "out_spi " + spi_text(spi) + " is bound to " + routing::ipv4_text(it->second.outer.src_ip) + " -> " +
             routing::ipv4_text(it->second.outer.dst_ip) + "; a tunnel on another next hop needs new SPIs";
    return nullptr;
  }
  const auto key = keys_.find(spi);
  if (key == keys_.end()) {
    *error = "no key for out_spi " + spi_text(spi);
    return nullptr;
  }
  crypto::OutboundSaConfig config;
  config.spi = spi;
  config.keys = key->second;
  config.outer = outer;
  config.backend = backend_;
  // new, not make_shared: the SA is over-aligned (alignas 64) and sits alone.
  std::shared_ptr<crypto::OutboundSa> sa(new crypto::OutboundSa(config, ws_));
  outbound_[spi] = {sa, outer};
  return sa;
}

std::shared_ptr<crypto::InboundSa> SaStore::inbound(std::uint32_t spi, std::string* error) {
  if (const auto it = inbound_.find(spi); it != inbound_.end()) return it->second;
  const auto key = keys_.find(spi);
  if (key == keys_.end()) {
    *error = "no key for in_spi " + spi_text(spi);
    return nullptr;
  }
  crypto::InboundSaConfig config;
  config.spi = spi;
  config.keys = key->second;
  config.replay_window = replay_window_;
  config.backend = backend_;
  std::shared_ptr<crypto::InboundSa> sa(new crypto::InboundSa(config, ws_));
  inbound_[spi] = sa;
  return sa;
}

}  // namespace meshgw::dataplane
