// SPDX-License-Identifier: BSD-3-Clause
// Load generator for meshctld's beacon port (scripts/bench/controller.py):
// beacons of many registered gateways, tagged with their real keys,
// precomputed before the clock starts and sent with sendmmsg(2) at a fixed
// rate to 127.0.0.1 for a bounded time. Prints one JSON line:
// {"sent", "seconds", "rate_per_s", "next_sequence"}.
//
// usage: beacon_load KEYS_FILE PORT RATE SECONDS FIRST_SEQUENCE NEIGHBOURS
// KEYS_FILE: one "gateway-id hex-key" a line (0600, written by the bench).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/api/beacon.hpp"
#include "crypto/hex.hpp"

using namespace meshgw;

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: beacon_load KEYS_FILE PORT RATE SECONDS FIRST_SEQUENCE NEIGHBOURS\n";
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoul(argv[2]));
  const double rate = std::stod(argv[3]);
  const double seconds = std::stod(argv[4]);
  const std::uint64_t first_seq = std::stoull(argv[5]);
  const unsigned neighbours = static_cast<unsigned>(std::stoul(argv[6]));
  if (rate <= 0 || seconds <= 0 || seconds > 60 || rate > 2e6) {
    std::cerr << "beacon_load: rate must be in (0, 2e6] and seconds in (0, 60]\n";
    return 2;
  }
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> gws;
  std::ifstream in(argv[1]);
  for (std::string id, hex; in >> id >> hex;) {
    auto key = crypto::from_hex(hex);
    if (!key || key->size() != 32) {
      std::cerr << "beacon_load: bad key for " << id << "\n";
      return 1;
    }
    gws.emplace_back(id, std::move(*key));
  }
  if (gws.empty()) {
    std::cerr << "beacon_load: no gateways in " << argv[1] << "\n";
    return 1;
  }
  const auto total = static_cast<std::size_t>(std::ceil(rate * seconds));
  const std::size_t rounds = (total + gws.size() - 1) / gws.size();
  const auto now_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  // Round r of gateway g at index r * n + g, so sequences rise per gateway.
  std::vector<std::vector<std::uint8_t>> datagrams;
  datagrams.reserve(rounds * gws.size());
  for (std::size_t r = 0; r < rounds; ++r) {
    for (std::size_t g = 0; g < gws.size(); ++g) {
      api::Beacon b;
      b.role = 1;
      b.gateway_id = gws[g].first;
      b.sequence = first_seq + r;
      b.sent_ms = now_ms;
      b.declared_bps = 1'000'000'000;
      b.load_permille = static_cast<std::uint16_t>(100 + g % 7);
      api::BeaconAddress a;
      a.ip = {127, 0, 0, 1};
      a.port = 4500;
      b.addresses = {a};
      for (unsigned k = 1; k <= neighbours && k < gws.size(); ++k)
        b.neighbours.push_back({gws[(g + k) % gws.size()].first, 10'000 + 100 * k, 100, 0});
      datagrams.push_back(api::encode_beacon(b, gws[g].second));
    }
  }
  datagrams.resize(total);
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    std::perror("beacon_load: connect");
    return 1;
  }
  constexpr std::size_t kBatch = 32;
  std::vector<mmsghdr> msgs(kBatch);
  std::vector<iovec> iov(kBatch);
  const auto start = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  while (sent < total) {
    // Paced per batch: the batch that would run ahead of the rate waits.
    const double due_s = static_cast<double>(sent) / rate;
    const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(due_s));
    while (std::chrono::steady_clock::now() < due) {
    }
    const std::size_t n = std::min(kBatch, total - sent);
    for (std::size_t i = 0; i < n; ++i) {
      iov[i] = {datagrams[sent + i].data(), datagrams[sent + i].size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int k = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
    if (k <= 0) {
      std::perror("beacon_load: sendmmsg");
      return 1;
    }
    sent += static_cast<std::size_t>(k);
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  std::printf("{\"sent\": %zu, \"seconds\": %.4f, \"rate_per_s\": %.1f, \"next_sequence\": %llu}\n", sent, took,
              static_cast<double>(sent) / took, static_cast<unsigned long long>(first_seq + rounds));
  return 0;
}
