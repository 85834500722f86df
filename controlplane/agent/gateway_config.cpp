// SPDX-License-Identifier: BSD-3-Clause
#include "gateway_config.hpp"

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "controlplane/common/secret_file.hpp"
#include "controlplane/common/toml_reader.hpp"
#include "dataplane/sa_store.hpp"

namespace meshgw::agent {

namespace {

using dataplane::PortRole;

using common::TomlReader;
using Reader = common::TomlReader;

struct Parser {
  std::string source;
  std::string base_dir;
  GatewayConfig cfg;

  std::string resolve(const std::string& file) const {
    if (file.empty() || file[0] == '/' || base_dir.empty()) return file;
    return (std::filesystem::path(base_dir) / file).string();
  }

  void gateway(const Reader& top) {
    const toml::table* t = top.table("gateway");
    if (t == nullptr) top.fail("gateway", "is required ([gateway] with id)");
    Reader r(source, *t, "[gateway]");
    r.only({"id"});
    cfg.gateway_id = r.str("id");
    if (cfg.gateway_id.empty() || cfg.gateway_id.size() > 64) r.fail("id", "must be 1..64 characters");
    cfg.plan.gateway_id = cfg.gateway_id;
  }

  void eal(const Reader& top) {
    const toml::table* t = top.table("eal");
    if (t == nullptr) return;
    Reader r(source, *t, "[eal]");
    r.only({"args"});
    cfg.eal_args = r.strings("args");
    for (const auto& a : cfg.eal_args) {
      for (const char* owned : {"-l", "--lcores", "-c", "--main-lcore", "--vdev", "-a", "--allow", "-b", "--block", "--no-pci"}) {
        if (a == owned || a.rfind(std::string(owned) + "=", 0) == 0)
          r.fail("args", "'" + a + "' is set by meshgw from [dataplane] and [[port]]; remove it");
      }
    }
  }

  void dataplane_section(const Reader& top) {
    auto& d = cfg.dataplane;
    const toml::table* t = top.table("dataplane");
    if (t == nullptr) return;
    Reader r(source, *t, "[dataplane]");
    r.only({"main_cpu", "worker_cpus", "idle", "idle_sleep_max_us", "mbufs", "mbuf_cache",
            "icmp_errors_per_second", "twamp_port", "backend", "replay_window", "stuck_worker_ms"});
    cfg.main_cpu = static_cast<unsigned>(r.integer("main_cpu", 0, 1023, 0));
    if (r.has("worker_cpus")) {
      cfg.worker_cpus.clear();
      for (auto c : r.integers("worker_cpus", 0, 1023)) cfg.worker_cpus.push_back(static_cast<unsigned>(c));
      if (cfg.worker_cpus.empty() || cfg.worker_cpus.size() > 64)
        r.fail("worker_cpus", "must list 1..64 CPUs, one per worker (a CPU may repeat)");
    }
    const std::string idle = r.str("idle", std::string("poll"));
    if (idle == "poll") {
      d.idle = dataplane::IdleMode::poll;
    } else if (idle == "sleep") {
      d.idle = dataplane::IdleMode::sleep;
    } else {
      r.fail("idle", "must be \"poll\" (busy polling) or \"sleep\" (back off when idle)");
    }
    d.idle_sleep_max_us = static_cast<std::uint32_t>(r.integer("idle_sleep_max_us", 10, 100000, 1000));
    d.mbufs = static_cast<std::uint32_t>(r.integer("mbufs", 1023, 16777215, 16383));
    d.mbuf_cache = static_cast<std::uint32_t>(r.integer("mbuf_cache", 0, 512, 256));
    if (d.mbuf_cache * 1.5 > d.mbufs) r.fail("mbuf_cache", "must be at most mbufs / 1.5 (DPDK mempool rule)");
    d.icmp_errors_per_second = static_cast<std::uint32_t>(r.integer("icmp_errors_per_second", 1, 100000, 100));
    d.twamp_port = static_cast<std::uint16_t>(r.integer("twamp_port", 0, 65535, 862));
    if (d.twamp_port == 4500) r.fail("twamp_port", "4500 carries ESP");
    const std::string backend = r.str("backend", std::string("ipsec-mb"));
    const auto b = crypto::backend_from_string(backend);
    if (!b) r.fail("backend", "must be \"ipsec-mb\" or \"openssl\"");
    d.backend = *b;
    d.replay_window = static_cast<std::uint32_t>(
        r.integer("replay_window", 64, crypto::ReplayWindow::kMaxSize, crypto::ReplayWindow::kDefaultSize));
    d.stuck_worker_ms = static_cast<std::uint32_t>(r.integer("stuck_worker_ms", 10, 60000, 1000));
  }

  double real(const Reader& r, const toml::table& t, const std::string& key, double lo, double hi) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return 0;
    if (!n->is_floating_point() && !n->is_integer()) r.fail(key, "must be a number");
    const double v = n->is_integer() ? static_cast<double>(*n->value<std::int64_t>()) : *n->value<double>();
    if (!(v >= lo && v <= hi)) r.fail(key, "must be in " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
  }

  bool sites_given_ = false;

  // Without [controller] sites, the LAN port's subnets are the site.
  void default_sites() {
    if (!cfg.controller || sites_given_) return;
    for (const auto& p : cfg.dataplane.ports) {
      if (p.role != dataplane::PortRole::lan) continue;
      routing::IpPrefix v4;
      const std::uint32_t mask = p.address.ipv4_prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - p.address.ipv4_prefix);
      const std::uint32_t net = p.address.ipv4 & mask;
      if (p.address.ipv4 != 0) {
        v4.bytes = {static_cast<std::uint8_t>(net >> 24), static_cast<std::uint8_t>(net >> 16),
                    static_cast<std::uint8_t>(net >> 8), static_cast<std::uint8_t>(net)};
        v4.length = p.address.ipv4_prefix;
        cfg.controller->sites.push_back(v4.to_string());
      }
      if (p.address.has_ipv6) {
        routing::IpPrefix v6;
        v6.v6 = true;
        v6.length = p.address.ipv6_prefix;
        for (unsigned b = 0; b < 16; ++b) {
          const unsigned keep = v6.length >= (b + 1) * 8 ? 8 : v6.length > b * 8 ? v6.length - b * 8 : 0;
          v6.bytes[b] = static_cast<std::uint8_t>(p.address.ipv6[b] & (keep == 0 ? 0 : 0xff << (8 - keep)));
        }
        cfg.controller->sites.push_back(v6.to_string());
      }
    }
  }

  // [controller]: join a mesh (registration, beacons, the mesh state).
  void controller(const Reader& top) {
    const toml::table* t = top.table("controller");
    if (t == nullptr) return;
    Reader r(source, *t, "[controller]");
    r.only({"url", "ca_file", "join_token_file", "state_dir", "role", "beacon_interval_ms", "renew_before_s",
            "declared_bps", "latitude", "longitude", "probe_interval_ms", "probe_timeout_ms", "probe_down_after", "failover_confirm_ms",
            "tunnel_probe_interval_ms",
            "sites", "key_port", "tunnel_mtu", "backups", "rekey_after_s", "rekey_after_bytes", "predict", "behind_nat", "nat_keepalive_ms",
            "forecast_interval_ms", "forecast_horizon", "forecast_season", "forecast_trend_window", "path_hold_ms",
            "path_hold_jitter", "path_migration_rate"});
    ControllerSettings c;
    c.url = r.str("url");
    if (c.url.rfind("https://", 0) != 0) r.fail("url", "must be https://HOST:PORT of meshctld");
    c.ca_file = resolve(r.str("ca_file"));
    c.join_token_file = resolve(r.str("join_token_file", std::string()));
    c.state_dir = resolve(r.str("state_dir"));
    c.role = r.str("role", std::string());
    if (!c.role.empty() && !routing::role_from_string(c.role)) r.fail("role", "must be core, edge or transit");
    c.beacon_interval_ms = static_cast<unsigned>(r.integer("beacon_interval_ms", 100, 60000, 2000));
    c.renew_before_s = static_cast<unsigned>(r.integer("renew_before_s", 60, 30 * 86400, 3600));
    c.declared_bps = static_cast<std::uint64_t>(r.integer("declared_bps", 0, std::int64_t{1} << 50, 0));
    if (r.has("latitude") != r.has("longitude")) r.fail(r.has("latitude") ? "latitude" : "longitude", "latitude and longitude go together");
    c.latitude_e6 = static_cast<std::int32_t>(real(r, *t, "latitude", -90, 90) * 1e6);
    c.longitude_e6 = static_cast<std::int32_t>(real(r, *t, "longitude", -180, 180) * 1e6);
    c.probe_interval_ms = static_cast<unsigned>(r.integer("probe_interval_ms", 5, 60000, 100));
    c.probe_timeout_ms = static_cast<unsigned>(r.integer("probe_timeout_ms", 5, 60000, 250));
    c.probe_down_after = static_cast<unsigned>(r.integer("probe_down_after", 1, 100, 3));
    c.failover_confirm_ms = static_cast<unsigned>(r.integer("failover_confirm_ms", 0, 60000, 200));
    c.tunnel_probe_interval_ms = static_cast<unsigned>(r.integer("tunnel_probe_interval_ms", 0, 60000, 500));
    c.key_port = static_cast<std::uint16_t>(r.integer("key_port", 1, 65535, 4501));
    if (c.key_port == 4500 || c.key_port == 862) r.fail("key_port", "must not be the ESP (4500) or TWAMP (862) port");
    c.tunnel_mtu = static_cast<std::uint16_t>(r.integer("tunnel_mtu", 576, 9000, 1400));
    c.backups = static_cast<unsigned>(r.integer("backups", 0, 3, 1));
    c.rekey_after_s = static_cast<unsigned>(r.integer("rekey_after_s", 10, 30 * 86400, 3600));
    c.rekey_after_bytes = static_cast<std::uint64_t>(r.integer("rekey_after_bytes", 0, std::int64_t{1} << 50, 0));
    if (c.rekey_after_bytes != 0 && c.rekey_after_bytes < 1'000'000)
      r.fail("rekey_after_bytes", "must be 0 (by time only) or at least 1000000");
    c.behind_nat = r.boolean("behind_nat", false);
    c.nat_keepalive_ms = static_cast<unsigned>(r.integer("nat_keepalive_ms", 100, 120000, 10000));
    if (c.behind_nat) {
      for (const auto& p : cfg.dataplane.ports) {
        if (p.role != dataplane::PortRole::wan) continue;
        if (p.exception_iface.empty() || p.address.ipv4 == 0)
          r.fail("behind_nat", "needs the wan port's address and exception_iface (beacons leave through it)");
        c.beacon_bind_ipv4 = p.address.ipv4;
      }
    }
    c.predict = r.boolean("predict", true);
    c.forecast_interval_ms = static_cast<unsigned>(r.integer("forecast_interval_ms", 100, 3600000, 1000));
    c.forecast_horizon = static_cast<unsigned>(r.integer("forecast_horizon", 1, 1000, 5));
    c.forecast_season = static_cast<unsigned>(r.integer("forecast_season", 0, 100000, 0));
    if (c.forecast_season == 1) r.fail("forecast_season", "must be 0 (none) or at least 2 samples");
    c.forecast_trend_window = static_cast<unsigned>(r.integer("forecast_trend_window", 0, 10000, 20));
    if (c.forecast_trend_window == 1 || c.forecast_trend_window == 2)
      r.fail("forecast_trend_window", "must be 0 (off) or at least 3 samples");
    c.path_hold_ms = static_cast<unsigned>(r.integer("path_hold_ms", 0, 3600000, 10000));
    c.path_hold_jitter = r.has("path_hold_jitter") ? real(r, *t, "path_hold_jitter", 0, 10) : 0.5;
    c.path_migration_rate = r.has("path_migration_rate") ? real(r, *t, "path_migration_rate", 0, 1) : 0.5;
    if (r.has("sites")) {
      for (const std::string& text : r.strings("sites")) c.sites.push_back(r.prefix("sites", text).to_string());
      sites_given_ = true;
    }
    cfg.controller = c;
  }

  void stats(const Reader& top) {
    const toml::table* t = top.table("stats");
    if (t == nullptr) return;
    Reader r(source, *t, "[stats]");
    r.only({"listen"});
    const std::string listen = r.str("listen");
    const auto colon = listen.rfind(':');
    StatsListen s;
    in_addr a{};
    if (colon == std::string::npos || inet_pton(AF_INET, listen.substr(0, colon).c_str(), &a) != 1)
      r.fail("listen", "must be IPv4:PORT (e.g. 127.0.0.1:9464)");
    s.address = listen.substr(0, colon);
    const std::string port = listen.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(port) > 65535)
      r.fail("listen", "port must be 0..65535");
    s.port = static_cast<std::uint16_t>(std::stoul(port));
    cfg.stats = s;
  }

  void ports(const Reader& top) {
    const auto tables = top.tables("port");
    if (tables.empty()) top.fail("port", "at least one [[port]] is required (one with role = \"wan\")");
    std::set<std::string> names;
    int wan = 0, lan = 0;
    for (std::size_t i = 0; i < tables.size(); ++i) {
      Reader r(source, *tables[i], "[[port]] #" + std::to_string(i + 1));
      r.only({"name", "role", "device", "address", "address6", "mac", "rx_descriptors", "tx_descriptors",
              "exception_iface", "router"});
      dataplane::PortSettings p;
      p.name = r.str("name");
      if (p.name.empty() || !names.insert(p.name).second) r.fail("name", "must be unique and not empty");
      const std::string role = r.str("role");
      if (role == "lan") {
        p.role = PortRole::lan;
        ++lan;
      } else if (role == "wan") {
        p.role = PortRole::wan;
        ++wan;
      } else {
        r.fail("role", "must be \"lan\" (the site) or \"wan\" (the underlay)");
      }
      p.device = r.str("device");
      const std::string dev = p.device.substr(0, p.device.find(','));
      const bool vdev = dev.rfind("net_", 0) == 0;
      const bool pci = dev.find(':') != std::string::npos && dev.find('.') != std::string::npos;
      if (!vdev && !pci)
        r.fail("device", "must be a DPDK virtual device (net_pcap0,..., net_tap0,..., net_af_packet0,..., net_memif0,..., net_ring0, net_null0) or a PCI address (0000:03:00.0)");
      interface_address(r, "address", false, p.address);
      if (r.has("address6")) interface_address(r, "address6", true, p.address);
      if (r.has("mac")) p.mac = r.mac("mac");
      if (r.has("router")) {
        const std::string text = r.str("router");
        in_addr a{};
        if (inet_pton(AF_INET, text.c_str(), &a) != 1) r.fail("router", "must be an IPv4 address");
        const std::uint32_t ip = ntohl(a.s_addr);
        const std::uint32_t mask = p.address.ipv4_prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - p.address.ipv4_prefix);
        if (p.address.ipv4 == 0 || ip == p.address.ipv4 || ((ip ^ p.address.ipv4) & mask) != 0)
          r.fail("router", "must be another address inside the port's own subnet (address = \"A.B.C.D/LEN\")");
        p.address.ipv4_router = ip;
      }
      if (r.has("exception_iface")) {
        if (p.role != PortRole::wan) r.fail("exception_iface", "only the wan port has an exception path");
        p.exception_iface = r.str("exception_iface");
        if (p.exception_iface.empty() || p.exception_iface.size() > 15 ||
            p.exception_iface.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
                std::string::npos)
          r.fail("exception_iface", "must be a Linux interface name: 1..15 of [A-Za-z0-9_.-]");
      }
      p.rx_descriptors = static_cast<std::uint16_t>(r.integer("rx_descriptors", 64, 4096, 1024));
      p.tx_descriptors = static_cast<std::uint16_t>(r.integer("tx_descriptors", 64, 4096, 1024));
      cfg.dataplane.ports.push_back(std::move(p));
    }
    if (wan != 1) top.fail("port", "exactly one [[port]] needs role = \"wan\" (found " + std::to_string(wan) + ")");
    if (lan > 1) top.fail("port", "at most one [[port]] may have role = \"lan\" (found " + std::to_string(lan) + ")");
    if (cfg.dataplane.ports.size() > 4) top.fail("port", "at most 4 ports");
  }

  // "ADDRESS/LEN" of an interface (host bits set, unlike a route prefix).
  static void interface_address(const Reader& r, const std::string& key, bool v6, dataplane::InterfaceAddress& out) {
    const std::string text = r.str(key);
    const auto slash = text.find('/');
    const std::string addr = text.substr(0, slash);
    unsigned long len = v6 ? 128 : 32;
    if (slash != std::string::npos) {
      const std::string l = text.substr(slash + 1);
      if (l.empty() || l.size() > 3 || l.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(l) > (v6 ? 128u : 32u))
        r.fail(key, v6 ? "prefix length must be 0..128" : "prefix length must be 0..32");
      len = std::stoul(l);
    }
    if (v6) {
      in6_addr a6{};
      if (inet_pton(AF_INET6, addr.c_str(), &a6) != 1) r.fail(key, "is not IPv6 ADDRESS/LEN");
      out.has_ipv6 = true;
      std::memcpy(out.ipv6.data(), &a6, 16);
      out.ipv6_prefix = static_cast<std::uint8_t>(len);
    } else {
      in_addr a4{};
      if (inet_pton(AF_INET, addr.c_str(), &a4) != 1) r.fail(key, "is not IPv4 ADDRESS/LEN (use address6 for IPv6)");
      out.ipv4 = ntohl(a4.s_addr);
      if (out.ipv4 == 0) r.fail(key, "0.0.0.0 is not an interface address");
      out.ipv4_prefix = static_cast<std::uint8_t>(len);
    }
  }

  std::uint32_t wan_address() const {
    for (const auto& p : cfg.dataplane.ports)
      if (p.role == PortRole::wan) return p.address.ipv4;
    return 0;
  }

  void neighbours(const Reader& top) {
    const auto tables = top.tables("neighbour");
    for (std::size_t i = 0; i < tables.size(); ++i) {
      Reader r(source, *tables[i], "[[neighbour]] #" + std::to_string(i + 1));
      r.only({"port", "ip", "mac"});
      dataplane::StaticNeighbour n;
      n.port = r.str("port");
      if (std::none_of(cfg.dataplane.ports.begin(), cfg.dataplane.ports.end(),
                       [&](const auto& p) { return p.name == n.port; }))
        r.fail("port", "names no [[port]]");
      const std::string ip = r.str("ip");
      in6_addr a6{};
      in_addr a4{};
      if (inet_pton(AF_INET, ip.c_str(), &a4) == 1) {
        std::memcpy(n.ip.data(), &a4, 4);
      } else if (inet_pton(AF_INET6, ip.c_str(), &a6) == 1) {
        n.v6 = true;
        std::memcpy(n.ip.data(), &a6, 16);
      } else {
        r.fail("ip", "is not an IPv4 or IPv6 address");
      }
      n.mac = r.mac("mac");
      cfg.dataplane.neighbours.push_back(n);
    }
  }

  std::uint32_t spi(const Reader& r, const std::string& key) {
    return static_cast<std::uint32_t>(r.integer(key, 256, 0xffffffffll));
  }

  void key_file(const Reader& r, const std::string& key, std::uint32_t spi_value) {
    const std::string file = resolve(r.str(key));
    if (const auto it = cfg.key_files.find(spi_value); it != cfg.key_files.end() && it->second != file)
      r.fail(key, "SPI already has another key file");
    cfg.key_files[spi_value] = file;
  }

  void tunnels(const Reader& top) {
    const auto tables = top.tables("tunnel");
    for (std::size_t i = 0; i < tables.size(); ++i) {
      Reader r(source, *tables[i], "[[tunnel]] #" + std::to_string(i + 1));
      r.only({"id", "egress", "path", "out_spi", "out_key_file", "in_spi", "in_key_file", "next_hop",
              "mtu", "remote_sites"});
      routing::PlanTunnel t;
      t.id = r.str("id");
      t.egress = r.str("egress");
      t.path = r.strings("path");
      if (t.path.empty()) t.path = {cfg.gateway_id, t.egress};
      t.out_spi = spi(r, "out_spi");
      key_file(r, "out_key_file", t.out_spi);
      t.in_spi = spi(r, "in_spi");
      key_file(r, "in_key_file", t.in_spi);
      t.next_hop = {r.ipv4("next_hop"), 4500};
      t.local = {wan_address(), 4500};
      t.mtu = static_cast<std::uint16_t>(r.integer("mtu", 576, 9000, 1400));
      for (const auto& s : r.strings("remote_sites")) t.remote_sites.push_back(r.prefix("remote_sites", s));
      if (t.remote_sites.empty()) r.fail("remote_sites", "is required: the prefixes whose packets this tunnel may bring in");
      cfg.plan.tunnels.push_back(std::move(t));
    }
  }

  void routes(const Reader& top) {
    const auto tables = top.tables("route");
    for (std::size_t i = 0; i < tables.size(); ++i) {
      Reader r(source, *tables[i], "[[route]] #" + std::to_string(i + 1));
      r.only({"prefix", "egress", "class"});
      cfg.plan.routes.push_back({r.prefix("prefix", r.str("prefix")), r.str("egress"),
                                 r.str("class", std::string("default"))});
    }
    const auto paths = top.tables("path");
    for (std::size_t i = 0; i < paths.size(); ++i) {
      Reader r(source, *paths[i], "[[path]] #" + std::to_string(i + 1));
      r.only({"egress", "class", "tunnel"});
      cfg.plan.active.push_back({r.str("egress"), r.str("class", std::string("default")), r.str("tunnel")});
    }
    const auto relays = top.tables("relay");
    for (std::size_t i = 0; i < relays.size(); ++i) {
      Reader r(source, *relays[i], "[[relay]] #" + std::to_string(i + 1));
      r.only({"spi", "next_hop", "next_hop_port", "prev_hop"});
      routing::PlanRelay relay;
      relay.spi = spi(r, "spi");
      relay.next_hop = {r.ipv4("next_hop"), static_cast<std::uint16_t>(r.integer("next_hop_port", 1, 65535, 4500))};
      if (r.has("prev_hop")) relay.expected_prev_hop = r.ipv4("prev_hop");
      cfg.plan.relays.push_back(relay);
    }
  }

  // PORT (an integer or a string) or "LO-HI".
  routing::PortRange port_range(const Reader& r, const toml::table& t, const std::string& key) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return {};
    if (n->is_integer()) {
      const auto v = static_cast<std::uint16_t>(r.integer(key, 0, 65535));
      return {v, v};
    }
    const auto range = routing::PortRange::parse(r.str(key));
    if (!range) r.fail(key, "must be PORT or \"LO-HI\" with ports 0..65535 and LO <= HI");
    return *range;
  }

  void policies(const Reader& top) {
    const auto tables = top.tables("policy");
    for (std::size_t i = 0; i < tables.size(); ++i) {
      Reader r(source, *tables[i], "[[policy]] #" + std::to_string(i + 1));
      r.only({"name", "priority", "src", "dst", "protocol", "src_ports", "dst_ports", "dscp", "action", "class"});
      routing::PolicyRule rule;
      rule.name = r.str("name");
      rule.priority = static_cast<int>(r.integer("priority", 0, 1000000, 1000));
      if (r.has("src")) rule.src = r.prefix("src", r.str("src"));
      if (r.has("dst")) rule.dst = r.prefix("dst", r.str("dst"));
      if (r.has("protocol")) {
        const toml::node* n = tables[i]->get("protocol");
        if (n->is_string()) {
          rule.protocol = routing::protocol_from_name(r.str("protocol"));
          if (!rule.protocol) r.fail("protocol", "must be tcp, udp, icmp, icmpv6, sctp or a number 0..255");
        } else {
          rule.protocol = static_cast<std::uint8_t>(r.integer("protocol", 0, 255));
        }
      }
      rule.src_ports = port_range(r, *tables[i], "src_ports");
      rule.dst_ports = port_range(r, *tables[i], "dst_ports");
      if (r.has("dscp")) {
        rule.dscp.reset();
        for (auto v : r.integers("dscp", 0, 63)) rule.dscp.set(static_cast<std::size_t>(v));
      }
      const std::string action = r.str("action", std::string("route"));
      if (action == "deny") {
        rule.action = routing::PolicyAction::deny;
      } else if (action != "route") {
        r.fail("action", "must be \"route\" or \"deny\"");
      }
      rule.traffic_class = r.str("class", std::string("default"));
      cfg.plan.policies.push_back(std::move(rule));
    }
  }

  void parse(const toml::table& root) {
    Reader top(source, root, "");
    top.only({"gateway", "eal", "dataplane", "stats", "controller", "port", "neighbour", "tunnel", "route", "path",
              "relay", "policy"});
    gateway(top);
    eal(top);
    dataplane_section(top);
    stats(top);
    ports(top);
    controller(top);  // after the ports: behind_nat needs the wan port
    default_sites();
    neighbours(top);
    tunnels(top);
    routes(top);
    policies(top);
    cfg.dataplane.workers = static_cast<unsigned>(cfg.worker_cpus.size());
    if (cfg.dataplane.backend == crypto::Backend::openssl && cfg.dataplane.workers > 1)
      throw ConfigError(source + ": [dataplane] backend = \"openssl\": an OpenSSL SA serves one thread; use one worker or ipsec-mb");
    const auto errors = routing::validate(cfg.plan);
    if (!errors.empty()) throw ConfigError(source + ": " + errors.front());
  }
};

GatewayConfig parse_text(const std::string& text, const std::string& source, const std::string& base_dir) {
  Parser p;
  p.source = source;
  p.base_dir = base_dir;
  p.cfg.source = source;
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    throw ConfigError(msg.str());
  }
  p.parse(root);
  return std::move(p.cfg);
}

}  // namespace

GatewayConfig GatewayConfig::from_string(const std::string& text, const std::string& source_name,
                                         const std::string& base_dir) {
  return parse_text(text, source_name, base_dir);
}

GatewayConfig GatewayConfig::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return parse_text(text.str(), path, std::filesystem::path(path).parent_path().string());
}

void load_keys(const GatewayConfig& config, dataplane::SaStore& store) {
  for (const auto& [spi, file] : config.key_files) {
    std::vector<std::uint8_t> keymat;
    try {
      keymat = common::read_hex_secret(file, 36);
    } catch (const std::exception& e) {
      throw ConfigError(config.source + ": key for SPI " + routing::spi_text(spi) + ": " + e.what());
    }
    crypto::SaKeyMaterial keys;
    std::memcpy(keys.key.data(), keymat.data(), 32);
    std::memcpy(keys.salt.data(), keymat.data() + 32, 4);
    crypto::secure_wipe(keymat.data(), keymat.size());
    store.add_key(spi, keys);
  }
}

}  // namespace meshgw::agent
