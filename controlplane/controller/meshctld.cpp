// SPDX-License-Identifier: BSD-3-Clause
// meshctld: the mesh controller. `init` creates a mesh (CA, server
// certificate, state database, first admin token); without a command it
// serves the mesh described by its configuration file.
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "controlplane/common/log.hpp"
#include "controlplane/common/secret_file.hpp"
#include "beacon_receiver.hpp"
#include "controller.hpp"
#include "key_relay.hpp"
#include "http_server.hpp"
#include "sqlite_storage.hpp"

namespace {

using namespace meshgw;
using namespace meshgw::controller;

constexpr const char* kUsage = R"(NAME
    meshctld - the controller of a meshgw VPN mesh

SYNOPSIS
    meshctld init --state-dir DIR [--name NAME] [--server-name DNS]...
                  [--server-ip IP]... [--token-file FILE]
    meshctld --config FILE [--check-config]
    meshctld --help | --version

DESCRIPTION
    meshctld is the mesh CA and the one service with the global view of the
    mesh. Gateways register with a join token and a CSR and get a
    short-lived certificate naming their mesh-unique ID and role; they beacon
    over UDP (HMAC-SHA256 with a per-gateway key) and follow the mesh state
    over mTLS (TLS 1.3) as versioned deltas. Operators use the REST API
    (bearer tokens, admin or read-only), usually through meshctl.

COMMANDS
    init       create the mesh in DIR (created 0700 if missing): ca.key and
               server.key (0600), ca.pem, server.pem (for the names and
               addresses given; default localhost, 127.0.0.1, ::1) and
               state.db. Prints the first admin token once (and writes it,
               0600, to --token-file if given). Refuses to overwrite a mesh.
    (none)     serve the mesh of --config FILE until SIGINT or SIGTERM.

OPTIONS
    --config FILE    the controller's configuration (TOML; see CONFIGURATION)
    --check-config   validate FILE and the state directory, then exit:
                     0 if valid, 1 with one message naming the key, the
                     value and the rule otherwise
    --help           this page
    --version        the version

CONFIGURATION
    [controller]  state_dir = "/var/lib/meshctld"   (required; made by init)
                  delta_log = 4096      deltas kept for resuming gateways
    [api]         listen = "127.0.0.1:8443"   HTTPS, TLS 1.3 only
                  max_body_bytes = 65536, max_connections = 2048,
                  requests_per_second = 500 (per client address)
    [beacons]     listen = "127.0.0.1:8444"   UDP
                  down_after_ms = 6000   no beacon for this long: down
                  max_skew_ms = 30000    older or newer beacons are stale
                  a beacon that declares no address (its gateway is behind
                  a NAT) makes its source the gateway's address
    [key_relay]   listen = API address, API port + 2   TCP, TLS 1.3: a
                  gateway behind a NAT parks a connection here and peers
                  reach its key exchange through it; the gateways' own
                  end-to-end TLS runs inside, so the relay never sees keys
    [gateways]    cert_lifetime_s = 86400, ephemeral_remove_after_s = 600
    [storage]     synchronous = "full"   or "normal" (faster; still loses
                                         nothing on a crash of meshctld,
                                         only on a power loss)
    Unknown keys are errors.

API
    GET  /healthz, /metrics                         no token
    POST /v1/register                               join token in the body
    GET  /v1/gateways, /v1/gateways/ID, /v1/links, /v1/topology, /v1/events
                                                    read-only or admin token
    POST /v1/tokens, GET /v1/tokens, DELETE /v1/tokens/ID,
    DELETE /v1/gateways/ID (evict), POST /v1/gateways/ID/revoke
                                                    admin token
    GET  /v1/gw/state?epoch=E&since=V, GET /v1/gw/watch?epoch=E&since=V,
    POST /v1/gw/renew                               gateway certificate

EXIT STATUS
    0 stopped cleanly (or the check passed); 1 bad configuration, state or
    failure to start; 2 bad command line.
)";

volatile std::sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }

[[noreturn]] void usage_error(const std::string& what) {
  std::cerr << "meshctld: " << what << " (try --help)\n";
  std::exit(2);
}

std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string random_epoch() {
  unsigned char raw[8];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("no randomness");
  static const char* d = "0123456789abcdef";
  std::string s;
  for (unsigned char c : raw) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

int run_init(int argc, char** argv) {
  std::string dir, token_file;
  CaInitOptions options;
  bool names_given = false, ips_given = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--state-dir") dir = value();
    else if (a == "--name") options.mesh_name = value();
    else if (a == "--server-name") {
      if (!names_given) options.server_dns.clear();
      names_given = true;
      options.server_dns.push_back(value());
    } else if (a == "--server-ip") {
      if (!ips_given) options.server_ips.clear();
      ips_given = true;
      options.server_ips.push_back(value());
    } else if (a == "--token-file") token_file = value();
    else usage_error("init: unknown argument '" + a + "'");
  }
  if (dir.empty()) usage_error("init needs --state-dir DIR");
  try {
    std::filesystem::create_directories(dir);
    ::chmod(dir.c_str(), 0700);
    if (std::filesystem::exists(dir + "/ca.key") || std::filesystem::exists(dir + "/state.db"))
      throw std::runtime_error(dir + " already holds a mesh (ca.key or state.db exists); refusing to overwrite it");
    MeshCa::init(dir, options, now_s());
    const MeshCa ca(dir);
    SqliteStorage storage(dir + "/state.db");
    Registry registry(storage, ca, {});
    TokenRequest admin;
    admin.kind = TokenKind::admin;
    admin.lifetime_s = 0;
    admin.description = "first admin token (meshctld init)";
    CreatedToken t = registry.create_token(admin, now_s());
    if (!token_file.empty()) common::write_secret_text(token_file, t.text + "\n", false);
    std::cout << "meshctld: mesh '" << options.mesh_name << "' created in " << dir << "\n"
              << "meshctld: give gateways " << dir << "/ca.pem; the controller serves as";
    for (const auto& n : options.server_dns) std::cout << " " << n;
    for (const auto& n : options.server_ips) std::cout << " " << n;
    std::cout << "\nadmin token (shown once; keep it secret, e.g. in MESHCTL_TOKEN): " << t.text << "\n";
    OPENSSL_cleanse(t.text.data(), t.text.size());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "meshctld: init: " << e.what() << "\n";
    return 1;
  }
}

int run_serve(const std::string& config_path, bool check_only) {
  ControllerConfig config;
  try {
    config = ControllerConfig::from_file(config_path);
  } catch (const common::ConfigError& e) {
    std::cerr << "meshctld: " << e.what() << "\n";
    return 1;
  }
  try {
    const MeshCa ca(config.state_dir);
    auto storage = std::make_unique<SqliteStorage>(config.state_dir + "/state.db",
                                                   config.sync_full ? SqliteStorage::Sync::full : SqliteStorage::Sync::normal);
    if (check_only) {
      std::cout << "meshctld: " << config_path << ": configuration and state in " << config.state_dir << " are valid\n";
      return 0;
    }
    // One descriptor per connected gateway: raise the soft limit as far as allowed.
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &files);
    }
    const std::string epoch = random_epoch();
    Controller controller(config, std::move(storage), ca, epoch);
    HttpServer http(controller, config, ca);
    BeaconReceiver beacons(controller, config.beacons.address, config.beacons.port);
    controller.set_beacon_port(beacons.port());
    const Listen relay_at = config.key_relay.value_or(
        Listen{config.api.address, static_cast<std::uint16_t>(config.api.port == 0 ? 0 : config.api.port + 2)});
    // Optional: without it (an address it cannot take, e.g. IPv6 today)
    // gateways behind NAT only set up their own tunnels.
    std::unique_ptr<KeyRelay> relay;
    try {
      relay = std::make_unique<KeyRelay>(
          common::TlsFiles{ca.server_cert_path(), ca.server_key_path(), ca.ca_cert_path()}, relay_at.address,
          relay_at.port,
          [&controller](const std::string& id, const std::string& serial) { return controller.client_allowed(id, serial); });
      controller.set_key_relay_port(relay->port());
    } catch (const std::exception& e) {
      common::log_warning(std::string("no key relay: ") + e.what());
    }
    controller.set_change_listener([&http] { http.notify(); });
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    common::log_info("serving api " + config.api.address + ":" + std::to_string(http.port()) + " beacons " +
                     config.beacons.address + ":" + std::to_string(beacons.port()) + " state " + config.state_dir +
                     " epoch " + epoch);
    std::cout << "meshctld: ready api_port=" << http.port() << " beacon_port=" << beacons.port() << " epoch=" << epoch
              << " key_relay_port=" << (relay ? relay->port() : 0)
              << std::endl;
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    controller.set_change_listener(nullptr);
    common::log_info("stopping: " + std::to_string(beacons.received()) + " beacon datagrams received, " +
                     std::to_string(controller.beacon_count(api::BeaconOutcome::accepted)) + " accepted");
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "meshctld: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  common::set_log_program("meshctld");
  if (argc >= 2 && std::strcmp(argv[1], "init") == 0) return run_init(argc, argv);
  std::string config;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--version") {
      std::cout << "meshctld 0.1.0\n";
      return 0;
    }
    if (a == "--config") {
      if (i + 1 >= argc) usage_error("--config needs a file");
      config = argv[++i];
    } else if (a == "--check-config") {
      check = true;
    } else {
      usage_error("unknown argument '" + a + "'");
    }
  }
  if (config.empty()) usage_error("--config FILE is required (or: meshctld init --state-dir DIR)");
  return run_serve(config, check);
}
