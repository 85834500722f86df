// SPDX-License-Identifier: BSD-3-Clause
// ForwardingPlan -> Snapshot, whole or not at all. The plan is validated as a
// whole (routing::validate, then what only the data plane can check: keys for
// every SPI, SPIs bound to one set of endpoints, table capacities); on any
// error nothing is built and every reason is returned. Pieces whose inputs
// did not change since the last successful compile are reused as they are:
//   routes        <- plan routes + traffic classes
//   tunnels       <- plan tunnels (+ the SAs in the store)
//   destinations  <- active paths + the route table's egress list + tunnels
//   relays        <- plan relays
//   policy        <- plan policies + traffic classes
// so a path switch rebuilds only the destination map, and 100,000 routes are
// compiled once. Threads: the control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "routing/forwarding_plan.hpp"
#include "sa_store.hpp"
#include "snapshot.hpp"

namespace meshgw::dataplane {

// Bytes a snapshot's pieces hold (tables, arrays, rte_fib memory; the SAs it
// keeps alive counted too), for benchmarks and /v1/stats.
std::size_t snapshot_bytes(const Snapshot& snap);

class SnapshotCompiler {
 public:
  explicit SnapshotCompiler(SaStore& store) : store_(store) {}

  struct Result {
    std::unique_ptr<Snapshot> snapshot;  // null if the plan was rejected
    std::vector<std::string> errors;     // every reason, when rejected
    routing::PlanDiff rebuilt;           // which pieces were built anew
  };

  // neighbours: the current neighbour piece (not part of the plan).
  Result compile(const routing::ForwardingPlan& plan, std::shared_ptr<const NeighbourTable> neighbours);

  // The same snapshot with another neighbour piece (after ARP learned one).
  std::unique_ptr<Snapshot> with_neighbours(const Snapshot& current,
                                            std::shared_ptr<const NeighbourTable> neighbours);

  // A path switch without a whole plan: (egress, class) now uses the
  // tunnel. Checks the tunnel exists and goes to that egress; rebuilds only
  // the destination map (cost independent of the route count). The agent's
  // failover to a precomputed backup takes this way.
  Result switch_path(const std::string& egress, const std::string& traffic_class, const std::string& tunnel);

  // The same snapshot with its destination map built anew: what a path
  // switch costs, for benchmarks (meshgw --swap-rate).
  std::unique_ptr<Snapshot> with_new_destinations(const Snapshot& current);

  // Tunnel id -> the slot its counters use in every worker.
  const std::map<std::string, std::uint16_t>& tunnel_slots() const noexcept { return slots_; }

 private:
  std::shared_ptr<const RouteTable> build_routes(const routing::ForwardingPlan& plan,
                                                 const std::vector<std::string>& classes,
                                                 std::vector<std::string>& errors);
  std::shared_ptr<const TunnelTable> build_tunnels(const routing::ForwardingPlan& plan,
                                                   std::vector<std::string>& errors);
  std::shared_ptr<const DestinationMap> build_destinations(const routing::ForwardingPlan& plan,
                                                           const RouteTable& routes,
                                                           const TunnelTable& tunnels);
  std::shared_ptr<const RelayTable> build_relays(const routing::ForwardingPlan& plan);
  std::shared_ptr<const PolicyTable> build_policy(const routing::ForwardingPlan& plan,
                                                  const std::vector<std::string>& classes);
  std::uint16_t slot_for(const std::string& tunnel_id, std::vector<std::string>& errors);

  SaStore& store_;
  bool has_last_ = false;
  routing::ForwardingPlan last_plan_;
  std::vector<std::string> last_classes_;
  std::vector<std::string> route_classes_;  // the routes' traffic classes, sorted
  Snapshot last_;
  std::uint64_t version_ = 0;
  std::map<std::string, std::uint16_t> slots_;
  std::vector<std::uint16_t> free_slots_;
  std::uint16_t next_slot_ = 0;
};

}  // namespace meshgw::dataplane
