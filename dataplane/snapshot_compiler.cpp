// SPDX-License-Identifier: BSD-3-Clause
#include "snapshot_compiler.hpp"

#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_memory.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>
#include <string_view>
#include <unordered_map>

namespace meshgw::dataplane {

namespace {

// rte_fib names are process-wide (memzones): one fresh name per table.
std::string fib_name(const char* kind) {
  static std::atomic<std::uint64_t> counter{0};
  return std::string(kind) + std::to_string(counter.fetch_add(1));
}

std::size_t index_of(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

std::uint32_t v4_of(const routing::IpPrefix& p) {
  return (std::uint32_t{p.bytes[0]} << 24) | (std::uint32_t{p.bytes[1]} << 16) |
         (std::uint32_t{p.bytes[2]} << 8) | p.bytes[3];
}

}  // namespace

RouteTable::~RouteTable() {
  rte_fib_free(v4_);
  rte_fib6_free(v6_);
}

void RouteTable::lookup_v4(const std::uint32_t* dst, std::uint32_t* target, unsigned n) const noexcept {
  if (v4_ == nullptr) {
    for (unsigned i = 0; i < n; ++i) target[i] = kNoEntry;
    return;
  }
  std::uint64_t nh[64];
  // rte_fib's lookup takes non-const pointers but reads only.
  rte_fib_lookup_bulk(v4_, const_cast<std::uint32_t*>(dst), nh, static_cast<int>(n));
  for (unsigned i = 0; i < n; ++i)
    target[i] = nh[i] == no_route_ ? kNoEntry : static_cast<std::uint32_t>(nh[i]);
}

void RouteTable::lookup_v6(std::uint8_t (*dst)[16], std::uint32_t* target, unsigned n) const noexcept {
  if (v6_ == nullptr) {
    for (unsigned i = 0; i < n; ++i) target[i] = kNoEntry;
    return;
  }
  std::uint64_t nh[64];
  rte_fib6_lookup_bulk(v6_, dst, nh, static_cast<int>(n));
  for (unsigned i = 0; i < n; ++i)
    target[i] = nh[i] == no_route_ ? kNoEntry : static_cast<std::uint32_t>(nh[i]);
}

std::size_t TunnelTable::bytes() const noexcept {
  return tunnels.capacity() * sizeof(TunnelRuntime) + inbound.bytes() + by_out_spi.bytes() +
         sites.capacity() * sizeof(routing::IpPrefix) +
         owners.size() * (sizeof(crypto::OutboundSa) + sizeof(crypto::InboundSa)) / 2 +
         ids.capacity() * sizeof(std::string);
}

const std::array<std::uint8_t, 6>* NeighbourTable::find_v6(std::uint16_t port,
                                                           const std::uint8_t* ip) const noexcept {
  for (const V6& e : v6) {
    if (e.port == port && std::memcmp(e.ip.data(), ip, 16) == 0) return &e.mac;
  }
  return nullptr;
}

std::size_t snapshot_bytes(const Snapshot& s) {
  std::size_t n = sizeof(Snapshot);
  if (s.routes) n += s.routes->bytes();
  if (s.tunnels) n += s.tunnels->bytes();
  if (s.destinations) n += s.destinations->tunnel_of.capacity() * sizeof(std::uint32_t);
  if (s.relays) n += s.relays->relays.bytes();
  if (s.policy) n += s.policy->verdicts.capacity() * sizeof(PolicyTable::Verdict) + s.policy->acl_bytes;
  if (s.neighbours) {
    for (const auto& m : s.neighbours->v4) n += m.bytes();
    n += s.neighbours->v6.capacity() * sizeof(NeighbourTable::V6);
  }
  return n;
}

std::shared_ptr<const RouteTable> SnapshotCompiler::build_routes(const routing::ForwardingPlan& plan,
                                                                 const std::vector<std::string>& classes,
                                                                 std::vector<std::string>& errors) {
  auto table = std::make_shared<RouteTable>();
  std::map<std::pair<std::uint16_t, std::uint16_t>, std::uint32_t> target_index;
  std::vector<std::uint32_t> route_target(plan.routes.size());
  std::size_t v4_routes = 0, v6_routes = 0, v4_long = 0, v6_tbl8 = 0;
  for (std::size_t i = 0; i < plan.routes.size(); ++i) {
    const auto& r = plan.routes[i];
    std::size_t e = index_of(table->egresses_, r.egress);
    if (e == table->egresses_.size()) table->egresses_.push_back(r.egress);
    const RouteTable::Target t{static_cast<std::uint16_t>(e),
                               static_cast<std::uint16_t>(index_of(classes, r.traffic_class))};
    auto [it, fresh] = target_index.emplace(std::make_pair(t.egress, t.traffic_class),
                                            static_cast<std::uint32_t>(table->targets_.size()));
    if (fresh) table->targets_.push_back(t);
    route_target[i] = it->second;
    if (r.prefix.v6) {
      ++v6_routes;
      v6_tbl8 += r.prefix.length > 24 ? (r.prefix.length - 24 + 7) / 8 : 0;
    } else {
      ++v4_routes;
      v4_long += r.prefix.length > 24;
    }
  }
  if (table->egresses_.size() > 0xffff) {
    errors.push_back("routes: more than 65535 egress gateways");
    return nullptr;
  }
  // The smallest next-hop size that holds the targets, the tbl8 groups and
  // the "no route" value: DIR-24-8 keeps one flag bit per entry, so an
  // n-byte entry holds values up to 2^(8n-1) - 1 (rte_fib's own limit).
  const std::size_t need = std::max(table->targets_.size() + 1, v4_long + 16);
  const auto size4 = need <= 0x7f ? RTE_FIB_DIR24_8_1B : need <= 0x7fff ? RTE_FIB_DIR24_8_2B : RTE_FIB_DIR24_8_4B;
  const std::size_t nh_bytes = size4 == RTE_FIB_DIR24_8_1B ? 1 : size4 == RTE_FIB_DIR24_8_2B ? 2 : 4;
  const std::size_t need6 = std::max(table->targets_.size() + 1, v6_tbl8 + 16);
  const auto size6 = need6 <= 0x7fff ? RTE_FIB6_TRIE_2B : RTE_FIB6_TRIE_4B;
  if (table->targets_.size() >= 0x7fffffff) {
    errors.push_back("routes: too many distinct (egress, class) targets");
    return nullptr;
  }
  const std::uint64_t max4 = (std::uint64_t{1} << (8 * nh_bytes - 1)) - 1;
  const std::uint64_t max6 = size6 == RTE_FIB6_TRIE_2B ? 0x7fff : 0x7fffffff;
  // One "no route" value for both tables: the smaller maximum.
  table->no_route_ = std::min(max4, max6);

  rte_fib_conf c4{};
  c4.type = RTE_FIB_DIR24_8;
  c4.default_nh = table->no_route_;
  c4.max_routes = static_cast<int>(std::max<std::size_t>(v4_routes, 16));
  c4.dir24_8.nh_sz = size4;
  c4.dir24_8.num_tbl8 = static_cast<std::uint32_t>(v4_long + 16);
  // A family without routes gets no table (a DIR-24-8 tbl24 is 16-64 MiB).
  if (v4_routes != 0) table->v4_ = rte_fib_create(fib_name("mgw4_").c_str(), SOCKET_ID_ANY, &c4);
  rte_fib6_conf c6{};
  c6.type = RTE_FIB6_TRIE;
  c6.default_nh = table->no_route_;
  c6.max_routes = static_cast<int>(std::max<std::size_t>(v6_routes, 16));
  c6.trie.nh_sz = size6;
  c6.trie.num_tbl8 = static_cast<std::uint32_t>(v6_tbl8 + 16);
  if (v6_routes != 0) table->v6_ = rte_fib6_create(fib_name("mgw6_").c_str(), SOCKET_ID_ANY, &c6);
  if ((v4_routes != 0 && table->v4_ == nullptr) || (v6_routes != 0 && table->v6_ == nullptr)) {
    errors.push_back(std::string("routes: cannot allocate the route tables (") + rte_strerror(rte_errno) +
                     "); give the EAL more memory (-m)");
    return nullptr;
  }
  for (std::size_t i = 0; i < plan.routes.size(); ++i) {
    const auto& p = plan.routes[i].prefix;
    const int rc = p.v6 ? rte_fib6_add(table->v6_, p.bytes.data(), p.length, route_target[i])
                        : rte_fib_add(table->v4_, v4_of(p), p.length, route_target[i]);
    if (rc != 0) {
      errors.push_back("route " + p.to_string() + ": rte_fib add failed (" + rte_strerror(-rc) + ")");
      return nullptr;
    }
  }
  table->classes_ = classes;
  const std::size_t nh6_bytes = size6 == RTE_FIB6_TRIE_2B ? 2 : 4;
  table->bytes_ = (v4_routes != 0 ? (std::size_t{1} << 24) * nh_bytes + c4.dir24_8.num_tbl8 * 256 * nh_bytes : 0) +
                  (v6_routes != 0 ? (std::size_t{1} << 24) * nh6_bytes + c6.trie.num_tbl8 * 256 * nh6_bytes : 0) +
                  (v4_routes + v6_routes) * 64 +
                  table->targets_.size() * sizeof(RouteTable::Target);
  return table;
}

std::uint16_t SnapshotCompiler::slot_for(const std::string& tunnel_id, std::vector<std::string>& errors) {
  if (const auto it = slots_.find(tunnel_id); it != slots_.end()) return it->second;
  std::uint16_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else if (next_slot_ < kMaxTunnelSlots) {
    slot = next_slot_++;
  } else {
    errors.push_back("tunnels: more than " + std::to_string(kMaxTunnelSlots) + " tunnels");
    return 0;
  }
  slots_[tunnel_id] = slot;
  return slot;
}

std::shared_ptr<const TunnelTable> SnapshotCompiler::build_tunnels(const routing::ForwardingPlan& plan,
                                                                   std::vector<std::string>& errors) {
  auto table = std::make_shared<TunnelTable>();
  for (const auto& t : plan.tunnels) {
    const std::string where = "tunnel '" + t.id + "': ";
    std::string error;
    crypto::UdpTunnelEndpoints outer;
    outer.src_ip = t.local.ip;
    outer.src_port = t.local.port;
    outer.dst_ip = t.next_hop.ip;
    outer.dst_port = t.next_hop.port;
    auto out = store_.outbound(t.out_spi, outer, &error);
    if (!out) errors.push_back(where + error);
    auto in = store_.inbound(t.in_spi, &error);
    if (!in) errors.push_back(where + error);
    const std::uint16_t slot = slot_for(t.id, errors);
    if (!out || !in) continue;
    table->tunnels.push_back({out.get(), t.local.ip, t.next_hop.ip, t.mtu, slot});
    table->ids.push_back(t.id);
    const auto index = static_cast<std::uint32_t>(table->tunnels.size() - 1);
    InboundRuntime rt{in.get(), static_cast<std::uint32_t>(table->sites.size()),
                      static_cast<std::uint32_t>(t.remote_sites.size()), slot, index};
    table->by_out_spi.insert(t.out_spi, index);
    table->sites.insert(table->sites.end(), t.remote_sites.begin(), t.remote_sites.end());
    table->inbound.insert(t.in_spi, rt);
    table->owners.push_back(std::move(out));
    table->owners.push_back(std::move(in));
  }
  return errors.empty() ? table : nullptr;
}

std::shared_ptr<const DestinationMap> SnapshotCompiler::build_destinations(
    const routing::ForwardingPlan& plan, const RouteTable& routes, const TunnelTable& tunnels) {
  auto map = std::make_shared<DestinationMap>();
  const auto& classes = routes.classes();
  map->classes = static_cast<std::uint32_t>(classes.size());
  map->tunnel_of.assign(std::max<std::size_t>(routes.egresses().size(), 1) * map->classes, kNoEntry);
  // Hash maps, not scans: a path switch with 1,000 egresses and 1,000
  // tunnels must stay linear.
  std::unordered_map<std::string_view, std::uint32_t> egress_index, tunnel_index, first_tunnel;
  for (std::size_t e = 0; e < routes.egresses().size(); ++e)
    egress_index.emplace(routes.egresses()[e], static_cast<std::uint32_t>(e));
  for (std::size_t t = 0; t < tunnels.ids.size(); ++t) tunnel_index.emplace(tunnels.ids[t], static_cast<std::uint32_t>(t));
  // Without an explicit path, an egress's first tunnel in the plan carries
  // its default class.
  for (const auto& t : plan.tunnels) first_tunnel.emplace(t.egress, tunnel_index.at(t.id));
  for (const auto& [egress, tunnel] : first_tunnel) {
    if (const auto e = egress_index.find(egress); e != egress_index.end())
      map->tunnel_of[std::size_t{e->second} * map->classes] = tunnel;
  }
  std::unordered_map<std::string_view, std::uint32_t> class_index;
  for (std::size_t c = 0; c < classes.size(); ++c) class_index.emplace(classes[c], static_cast<std::uint32_t>(c));
  for (const auto& a : plan.active) {
    const auto e = egress_index.find(a.egress);
    if (e == egress_index.end()) continue;  // no route uses this egress
    map->tunnel_of[std::size_t{e->second} * map->classes + class_index.at(a.traffic_class)] = tunnel_index.at(a.tunnel);
  }
  return map;
}

std::shared_ptr<const RelayTable> SnapshotCompiler::build_relays(const routing::ForwardingPlan& plan) {
  auto table = std::make_shared<RelayTable>();
  for (const auto& r : plan.relays)
    table->relays.insert(r.spi, {r.next_hop.ip, r.next_hop.port, r.expected_prev_hop.value_or(0)});
  return table;
}

std::shared_ptr<const PolicyTable> SnapshotCompiler::build_policy(const routing::ForwardingPlan& plan,
                                                                  const std::vector<std::string>& classes) {
  auto table = std::make_shared<PolicyTable>();
  const routing::PolicyClassifier ranked(plan.policies);  // validates and orders by precedence
  if (!ranked.rules().empty()) {
    table->acl = std::make_unique<PolicyAcl>(ranked.rules());
    table->acl_bytes = table->acl->bytes();
  }
  for (const auto& rule : ranked.rules()) {
    table->verdicts.push_back({rule.action == routing::PolicyAction::deny,
                               static_cast<std::uint16_t>(index_of(classes, rule.traffic_class))});
  }
  return table;
}

SnapshotCompiler::Result SnapshotCompiler::compile(const routing::ForwardingPlan& plan,
                                                   std::shared_ptr<const NeighbourTable> neighbours) {
  Result result;
  const routing::PlanDiff d = has_last_ ? routing::diff(last_plan_, plan)
                                        : routing::PlanDiff{true, true, true, true, true};
  result.errors = routing::validate(plan, d);
  if (!result.errors.empty()) return result;
  // Traffic classes: the routes' part is recomputed only when they change.
  if (d.routes) {
    std::set<std::string> names;
    for (const auto& r : plan.routes) names.insert(r.traffic_class);
    route_classes_.assign(names.begin(), names.end());
  }
  routing::ForwardingPlan class_view;
  for (const auto& c : route_classes_) class_view.routes.push_back({{}, {}, c});
  class_view.active = plan.active;
  class_view.policies = plan.policies;
  const std::vector<std::string> classes = routing::traffic_classes(class_view);
  if (classes.size() > 0xffff) {
    result.errors.push_back("policy: more than 65535 traffic classes");
    return result;
  }
  const bool classes_changed = !has_last_ || classes != last_classes_;

  auto snap = std::make_unique<Snapshot>();
  snap->routes = (d.routes || classes_changed) ? build_routes(plan, classes, result.errors) : last_.routes;
  snap->tunnels = d.tunnels ? build_tunnels(plan, result.errors) : last_.tunnels;
  if (!result.errors.empty()) return result;
  const bool dest_inputs = d.active || d.tunnels || d.routes || classes_changed;
  snap->destinations = dest_inputs ? build_destinations(plan, *snap->routes, *snap->tunnels) : last_.destinations;
  snap->relays = d.relays ? build_relays(plan) : last_.relays;
  try {
    snap->policy = (d.policies || classes_changed) ? build_policy(plan, classes) : last_.policy;
  } catch (const std::exception& e) {
    result.errors.push_back(std::string("policy: ") + e.what());
    return result;
  }
  snap->neighbours = neighbours ? std::move(neighbours) : std::make_shared<NeighbourTable>();
  snap->version = ++version_;

  // Counter slots of tunnels that left the plan go back to the pool.
  std::set<std::string> live;
  for (const auto& t : plan.tunnels) live.insert(t.id);
  for (auto it = slots_.begin(); it != slots_.end();) {
    if (live.count(it->first) == 0) {
      free_slots_.push_back(it->second);
      it = slots_.erase(it);
    } else {
      ++it;
    }
  }
  result.rebuilt = {snap->routes != last_.routes, snap->tunnels != last_.tunnels,
                    snap->destinations != last_.destinations, snap->relays != last_.relays,
                    snap->policy != last_.policy};
  last_ = *snap;
  // Only changed pieces are copied: a path switch does not copy 100,000 routes.
  if (d.routes) last_plan_.routes = plan.routes;
  if (d.tunnels) last_plan_.tunnels = plan.tunnels;
  if (d.active) last_plan_.active = plan.active;
  if (d.relays) last_plan_.relays = plan.relays;
  if (d.policies) last_plan_.policies = plan.policies;
  last_plan_.gateway_id = plan.gateway_id;
  last_classes_ = classes;
  has_last_ = true;
  result.snapshot = std::move(snap);
  return result;
}

SnapshotCompiler::Result SnapshotCompiler::switch_path(const std::string& egress,
                                                       const std::string& traffic_class,
                                                       const std::string& tunnel) {
  Result result;
  if (!has_last_) {
    result.errors.push_back("switch_path: no plan compiled yet");
    return result;
  }
  const auto& ids = last_.tunnels->ids;
  const auto t = std::find(ids.begin(), ids.end(), tunnel);
  if (t == ids.end() || last_plan_.tunnels[static_cast<std::size_t>(t - ids.begin())].egress != egress) {
    result.errors.push_back("path (" + egress + ", " + traffic_class + "): tunnel '" + tunnel +
                            "' does not exist or does not go to " + egress);
    return result;
  }
  if (std::find(last_classes_.begin(), last_classes_.end(), traffic_class) == last_classes_.end()) {
    result.errors.push_back("path (" + egress + ", " + traffic_class + "): unknown traffic class");
    return result;
  }
  auto a = std::find_if(last_plan_.active.begin(), last_plan_.active.end(), [&](const routing::PlanActivePath& p) {
    return p.egress == egress && p.traffic_class == traffic_class;
  });
  if (a == last_plan_.active.end()) {
    last_plan_.active.push_back({egress, traffic_class, tunnel});
  } else {
    a->tunnel = tunnel;
  }
  auto snap = std::make_unique<Snapshot>(last_);
  snap->destinations = build_destinations(last_plan_, *last_.routes, *last_.tunnels);
  snap->version = ++version_;
  last_ = *snap;
  result.rebuilt.active = true;
  result.snapshot = std::move(snap);
  return result;
}

std::unique_ptr<Snapshot> SnapshotCompiler::with_new_destinations(const Snapshot& current) {
  auto snap = std::make_unique<Snapshot>(current);
  snap->destinations = build_destinations(last_plan_, *current.routes, *current.tunnels);
  snap->version = ++version_;
  last_.destinations = snap->destinations;
  return snap;
}

std::unique_ptr<Snapshot> SnapshotCompiler::with_neighbours(const Snapshot& current,
                                                            std::shared_ptr<const NeighbourTable> neighbours) {
  auto snap = std::make_unique<Snapshot>(current);
  snap->neighbours = std::move(neighbours);
  snap->version = ++version_;
  last_.neighbours = snap->neighbours;
  return snap;
}

}  // namespace meshgw::dataplane
