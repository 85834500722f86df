// SPDX-License-Identifier: BSD-3-Clause
// wanem, the lab's WAN emulator: its command line (run, --check-config,
// and the ctl client of the control socket). The switch and the links are
// emulator.*; the link model link_shaper.*; the file and commands
// wanem_config.*.
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "controlplane/common/log.hpp"
#include "controlplane/common/toml_reader.hpp"
#include "emulator.hpp"
#include "wanem_config.hpp"

namespace meshgw::lab {
namespace {

const char* kUsage = R"(usage: wanem --config FILE [--check-config]
       wanem --check-config FILE
       wanem ctl --socket PATH COMMAND...

The meshgw lab's WAN emulator. It joins the gateways' underlay interfaces
(veths in the emulator's network namespace) like a switch, and carries the
IPv4 between two gateways (UDP: ESP and probes; ICMP) over their [[link]]
with that link's one-way delay, jitter, random loss and rate limit with a
bounded queue. IPv4 between two gateways without a link is dropped, so
probes and ESP see only the links of the topology; TCP (the tunnels' key
exchange) and everything not IPv4 (ARP) cross directly, unshaped. Each direction of a link is shaped on its own. Frames are never
reordered. Runs until SIGINT or SIGTERM, then prints its counters.

Options:
  --config FILE     the emulator's TOML file:
                      [emulator] control_socket = "PATH" (required), seed = 1,
                                 frames = 32768 (frames all queues may hold)
                      [[port]]   name = "c1", iface = "to-c1"
                      [[link]]   a = "c1", b = "c2", delay_ms = 5.7,
                                 jitter_ms = 0.2, loss = 0.001, rate_mbit = 50,
                                 queue_ms = 50 (the longest wait before drops)
                    Unknown keys and bad values are errors naming file,
                    line, key, value and rule.
  --check-config    validate the file and exit (0 if valid, 2 if not).
  -h, --help        this text.

Commands (wanem ctl, or a line on the control socket; one JSON line back):
  cut A-B           drop everything on the link A-B (A>B: one direction)
  restore A-B       bring it back
  set A-B k=v...    change delay_ms, jitter_ms, loss, rate_mbit, queue_ms
  stats             ports, links (state, parameters, packets, bytes, drops
                    by reason: cut, loss, queue_full; bytes queued; queueing
                    delay p50/p99/max since the last reset) and the
                    switch's own drops (no_link, pool_empty, oversize,
                    tx_error)
  reset             clear the queueing-delay histograms
  help              the list of commands

Exit status: 0 done, 1 a run-time failure (an interface missing, the
socket taken), 2 a bad command line or configuration; ctl exits 1 when the
emulator answers with an error.
)";

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// wanem ctl: one command, its reply on stdout.
int control_client(int argc, char** argv) {
  std::string socket_path, command;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--socket" && i + 1 < argc) {
      socket_path = argv[++i];
    } else {
      command += (command.empty() ? "" : " ") + a;
    }
  }
  if (socket_path.empty() || command.empty()) {
    std::cerr << "wanem ctl: usage: wanem ctl --socket PATH COMMAND... (try wanem --help)\n";
    return 2;
  }
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, socket_path.c_str(), sizeof sun.sun_path - 1);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
    std::cerr << "wanem ctl: cannot connect to " << socket_path << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  command += "\n";
  if (send(fd, command.data(), command.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(command.size())) {
    std::cerr << "wanem ctl: send: " << std::strerror(errno) << "\n";
    return 1;
  }
  std::string reply;
  char buf[65536];
  while (reply.find('\n') == std::string::npos) {
    const ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got <= 0) break;
    reply.append(buf, static_cast<std::size_t>(got));
  }
  close(fd);
  std::cout << reply;
  try {
    return nlohmann::json::parse(reply).contains("error") ? 1 : 0;
  } catch (const nlohmann::json::exception&) {
    std::cerr << "wanem ctl: no answer from " << socket_path << "\n";
    return 1;
  }
}

int run(int argc, char** argv) {
  common::set_log_program("wanem");
  if (argc >= 2 && std::string(argv[1]) == "ctl") return control_client(argc, argv);
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--check-config") {
      check_only = true;
      if (i + 1 < argc && argv[i + 1][0] != '-') config_path = argv[++i];
    } else {
      std::cerr << "wanem: unknown argument '" << a << "' (try --help)\n";
      return 2;
    }
  }
  if (config_path.empty()) {
    std::cerr << "wanem: --config FILE is required (try --help)\n";
    return 2;
  }
  EmulatorConfig cfg;
  try {
    cfg = load_emulator_config(config_path);
  } catch (const common::ConfigError& e) {
    std::cerr << "wanem: " << e.what() << "\n";
    return 2;
  }
  if (check_only) {
    std::cout << "wanem: " << config_path << " is valid (" << cfg.ports.size() << " ports, " << cfg.links.size()
              << " links)\n";
    return 0;
  }
  prctl(PR_SET_TIMERSLACK, 1UL);  // wake when a frame is due, not 50 us later
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    Emulator em(cfg);
    common::log_info("ready: " + std::to_string(cfg.ports.size()) + " ports, " + std::to_string(cfg.links.size()) +
                     " links, control " + cfg.control_socket);
    em.run(g_stop);
    std::cout << em.stats().dump() << "\n";
  } catch (const std::exception& e) {
    common::log_error(e.what());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace meshgw::lab

int main(int argc, char** argv) { return meshgw::lab::run(argc, argv); }
