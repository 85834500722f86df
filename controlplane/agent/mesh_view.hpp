// SPDX-License-Identifier: BSD-3-Clause
// The gateway's copy of the mesh state it follows from meshctld: a snapshot
// with the deltas applied in order (gateways, links, policy, the SPIs whose
// path crosses this gateway). Kept on disk (written to a temporary file and
// renamed; MeshLink saves every structural change at once, measurements at
// most every few seconds), so a gateway restarted while the controller is
// down starts from the state it last had. Control path; not thread-safe
// (MeshLink guards it). Throws std::runtime_error for an update it cannot
// understand (the caller then asks for a snapshot).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace meshgw::agent {

class MeshView {
 public:
  // {"epoch", "version", "snapshot"} or {"epoch", "version", "deltas"}, as
  // /v1/gw/state and /v1/gw/watch send them; heartbeats change nothing.
  // Returns whether the view changed.
  bool apply(const nlohmann::json& update);
  // Whether the last change was more than measurements (gateways, policy,
  // SPIs, a snapshot): what must be on disk at once.
  bool last_change_structural() const noexcept { return structural_; }

  const std::string& epoch() const noexcept { return epoch_; }
  std::uint64_t version() const noexcept { return version_; }
  bool empty() const noexcept { return epoch_.empty(); }
  // gateways: {id: {...}}, links: [...], policy: {...}, spis: {spi: {...}}.
  const nlohmann::json& gateways() const noexcept { return gateways_; }
  const nlohmann::json& links() const noexcept { return links_; }
  const nlohmann::json& policy() const noexcept { return policy_; }
  const nlohmann::json& spis() const noexcept { return spis_; }

  // Gateways the state lists without an underlay address (a controller
  // that restarted has not heard their beacons yet) keep the one they had
  // in `before`: their tunnels and relays need not stop meanwhile.
  void keep_addresses_from(const MeshView& before);

  // The same view without its SPIs and policy (what new measurements
  // change), and taking such a part into a whole view: the gateways and
  // links replaced, addresses kept as keep_addresses_from does.
  MeshView measurements_only() const;
  void take_measurements(MeshView&& part);

  nlohmann::json to_json() const;
  static MeshView from_json(const nlohmann::json& j);
  // Atomic save (0600: it names the tunnels through this gateway) and load;
  // load returns nullopt when there is no file yet, throws when it is unreadable.
  void save(const std::string& path) const;
  static std::optional<MeshView> load(const std::string& path);

 private:
  void apply_delta(const nlohmann::json& d);
  std::string epoch_;
  std::uint64_t version_ = 0;
  nlohmann::json gateways_ = nlohmann::json::object();
  nlohmann::json links_ = nlohmann::json::array();
  nlohmann::json policy_ = nlohmann::json::object();
  nlohmann::json spis_ = nlohmann::json::object();
  bool structural_ = false;
};

}  // namespace meshgw::agent
