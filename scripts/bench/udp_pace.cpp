// SPDX-License-Identifier: BSD-3-Clause
// udp_pace: a paced UDP sender and a counting receiver for the tunnel
// benchmark (scripts/bench/tunnels.py). iperf3 -u costs its sender a few
// microseconds a datagram (a select() and a send() each, a clock read per
// datagram), so at 64 bytes it stops near 100 kpps on this machine's cores
// while the tunnels under test go further. This sender wakes every tick
// (clock_nanosleep to an absolute time: no busy loop, the tunnel process
// on the same core gets the rest), sends the datagrams owed since the start
// with sendmmsg in batches of up to 32, and never catches up more than a
// tick's worth at once (a late wake-up does not become a flood). The
// receiver takes them with recvmmsg and counts distinct sequence numbers,
// so duplicates do not hide losses.
//
//   udp_pace send --src IP --dst IP:PORT --bytes N --pps R --seconds S
//                 [--iface IFACE --dst-mac MAC]
//   udp_pace recv --bind IP:PORT --seconds S [--idle-ms 500]
//
// With --iface the sender writes whole Ethernet frames (IPv4, UDP with no
// checksum, as RFC 768 allows) to IFACE on an AF_PACKET socket that skips
// the qdisc, addressed to MAC (the next hop): no UDP, IP or neighbour code
// of its own kernel, about half the cost of a datagram, so the tunnel on
// its core is what is measured, not the sender's stack.
//
// Both print one JSON object on stdout. Linux only.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t kMagic = 0x6d677770;  // "mgwp"
constexpr unsigned kBatch = 32;
constexpr std::uint64_t kTickNs = 100'000;  // 100 us
constexpr std::size_t kMaxBytes = 9000;

std::uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "udp_pace: %s\n"
               "usage: udp_pace send --src IP --dst IP:PORT --bytes N --pps R --seconds S [--iface IFACE --dst-mac MAC]\n"
               "       udp_pace recv --bind IP:PORT --seconds S [--idle-ms MS]\n"
               "  send: N bytes of UDP payload (12..%zu), R datagrams a second, paced every 100 us\n"
               "        in sendmmsg batches (--iface: as Ethernet frames to MAC on IFACE, past the\n"
               "        kernel's UDP and IP); prints {\"sent\", \"skipped\" (what the pacing could not\n"
               "        send in time), \"seconds\", \"send_errors\"}\n"
               "  recv: counts distinct sequence numbers until S seconds have passed, or MS (default\n"
               "        500) without a datagram once one came; prints {\"received\", \"duplicates\",\n"
               "        \"highest_seq\", \"seconds\"}\n",
               why, kMaxBytes);
  std::exit(2);
}

sockaddr_in address(const std::string& text, bool with_port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  std::string host = text;
  if (with_port) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) usage(("'" + text + "': want IP:PORT").c_str());
    host = text.substr(0, colon);
    char* end = nullptr;
    const long port = std::strtol(text.c_str() + colon + 1, &end, 10);
    if (*end != '\0' || port < 1 || port > 65535) usage(("'" + text + "': the port must be 1..65535").c_str());
    a.sin_port = htons(static_cast<std::uint16_t>(port));
  }
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) usage(("'" + host + "': not an IPv4 address").c_str());
  return a;
}

double number(const char* text, const char* name, double lo, double hi) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !std::isfinite(v) || v < lo || v > hi)
    usage((std::string(name) + " = '" + text + "': must be a number in " + std::to_string(lo) + ".." +
           std::to_string(hi)).c_str());
  return v;
}

int udp_socket() {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    std::perror("udp_pace: socket");
    std::exit(1);
  }
  const int buf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  return fd;
}

void store_be(std::uint8_t* p, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}
std::uint64_t load_be(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

std::uint16_t ipv4_checksum(const std::uint8_t* h) {
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += static_cast<std::uint32_t>(h[i] << 8 | h[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// The Ethernet, IPv4 and UDP headers of every frame (--iface); the payload follows.
std::vector<std::uint8_t> frame_headers(const std::uint8_t src_mac[6], const std::uint8_t dst_mac[6],
                                        const sockaddr_in& src, const sockaddr_in& dst, std::size_t bytes) {
  std::vector<std::uint8_t> h(14 + 20 + 8, 0);
  std::memcpy(h.data(), dst_mac, 6);
  std::memcpy(h.data() + 6, src_mac, 6);
  h[12] = 0x08;
  std::uint8_t* ip = h.data() + 14;
  ip[0] = 0x45;
  store_be(ip + 2, 20 + 8 + bytes, 2);
  store_be(ip + 6, 0x4000, 2);  // DF
  ip[8] = 64;
  ip[9] = 17;
  std::memcpy(ip + 12, &src.sin_addr, 4);
  std::memcpy(ip + 16, &dst.sin_addr, 4);
  store_be(ip + 10, ipv4_checksum(ip), 2);
  std::uint8_t* udp = ip + 20;
  store_be(udp, 5300, 2);
  std::memcpy(udp + 2, &dst.sin_port, 2);
  store_be(udp + 4, 8 + bytes, 2);  // checksum 0: none (IPv4)
  return h;
}

bool parse_mac(const std::string& text, std::uint8_t out[6]) {
  unsigned v[6];
  char end = 0;
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6) return false;
  for (int i = 0; i < 6; ++i) {
    if (v[i] > 255) return false;
    out[i] = static_cast<std::uint8_t>(v[i]);
  }
  return true;
}

int send_mode(const sockaddr_in& src, const sockaddr_in& dst, std::size_t bytes, double pps, double seconds,
              const std::string& iface, const std::string& dst_mac) {
  int fd = -1;
  std::vector<std::uint8_t> headers;
  sockaddr_ll ll{};
  if (iface.empty()) {
    fd = udp_socket();
    if (bind(fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0 ||
        connect(fd, reinterpret_cast<const sockaddr*>(&dst), sizeof dst) != 0) {
      std::perror("udp_pace: bind/connect");
      return 1;
    }
  } else {
    std::uint8_t mac[6], own[6];
    if (!parse_mac(dst_mac, mac)) usage(("--dst-mac '" + dst_mac + "': want six hex bytes, aa:bb:cc:dd:ee:ff").c_str());
    fd = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: sends only
    if (fd < 0) {
      std::perror("udp_pace: AF_PACKET socket (needs root)");
      return 1;
    }
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", iface.c_str());
    if (ioctl(fd, SIOCGIFINDEX, &ifr) != 0) {
      std::fprintf(stderr, "udp_pace: --iface %s: no such interface\n", iface.c_str());
      return 1;
    }
    ll.sll_family = AF_PACKET;
    ll.sll_ifindex = ifr.ifr_ifindex;
    ll.sll_halen = 6;
    std::memcpy(ll.sll_addr, mac, 6);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) {
      std::perror("udp_pace: SIOCGIFHWADDR");
      return 1;
    }
    std::memcpy(own, ifr.ifr_hwaddr.sa_data, 6);
    const int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    const int buf = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&ll), sizeof ll) != 0) {
      std::perror("udp_pace: bind to the interface");
      return 1;
    }
    headers = frame_headers(own, mac, src, dst, bytes);
  }
  const std::size_t slot = headers.size() + bytes;
  std::vector<std::uint8_t> payload(kBatch * slot, 0);
  for (unsigned k = 0; k < kBatch; ++k) std::memcpy(payload.data() + k * slot, headers.data(), headers.size());
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  std::uint64_t sent = 0, errors = 0;
  std::uint64_t scheduled = 0, skipped = 0;  // the pacing schedule's count; what a late wake-up dropped from it
  const std::uint64_t start = now_ns();
  const auto end = start + static_cast<std::uint64_t>(seconds * 1e9);
  const auto per_tick = static_cast<std::uint64_t>(std::ceil(pps * static_cast<double>(kTickNs) / 1e9));
  std::uint64_t wake = start;
  for (std::uint64_t t = start; t < end; t = now_ns()) {
    const auto owed = static_cast<std::uint64_t>(pps * static_cast<double>(t - start) / 1e9);
    // Late (the core was busy): catch up by at most a tick and a batch, so a
    // late wake-up is not a burst; the rest is skipped, and the rate sent shows it.
    if (owed > scheduled + per_tick + kBatch) {
      skipped += owed - (scheduled + per_tick + kBatch);
      scheduled = owed - (per_tick + kBatch);
    }
    std::uint64_t todo = owed > scheduled ? owed - scheduled : 0;
    scheduled += todo;
    while (todo > 0) {
      const unsigned n = static_cast<unsigned>(std::min<std::uint64_t>(todo, kBatch));
      for (unsigned k = 0; k < n; ++k) {
        std::uint8_t* frame = payload.data() + k * slot;
        std::uint8_t* p = frame + headers.size();
        store_be(p, kMagic, 4);
        store_be(p + 4, sent + k, 8);
        iov[k] = {frame, slot};
        msgs[k] = {};
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
        if (!headers.empty()) {
          msgs[k].msg_hdr.msg_name = &ll;
          msgs[k].msg_hdr.msg_namelen = sizeof ll;
        }
      }
      const int r = sendmmsg(fd, msgs, n, 0);
      // An error (a refused port, no buffer): the batch counts as sent, and lost.
      const unsigned done = r > 0 ? static_cast<unsigned>(r) : n;
      if (r <= 0) ++errors;
      sent += done;
      todo -= done;
    }
    wake += kTickNs;
    if (wake < t) wake = t + kTickNs;
    const timespec ts{static_cast<time_t>(wake / 1'000'000'000u), static_cast<long>(wake % 1'000'000'000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
  }
  const double took = static_cast<double>(now_ns() - start) / 1e9;
  std::printf("{\"sent\": %llu, \"skipped\": %llu, \"seconds\": %.6f, \"send_errors\": %llu, \"bytes\": %zu, "
              "\"pps\": %.1f}\n",
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(skipped), took,
              static_cast<unsigned long long>(errors), bytes, pps);
  return 0;
}

int recv_mode(const sockaddr_in& at, double seconds, double idle_ms) {
  const int fd = udp_socket();
  if (bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
    std::perror("udp_pace: bind");
    return 1;
  }
  const timeval tv{0, 50'000};  // wake to check the clocks
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::vector<std::uint8_t> seen;  // a bit per sequence number
  std::vector<std::uint8_t> buf(kBatch * kMaxBytes);
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  std::uint64_t received = 0, duplicates = 0, highest = 0, foreign = 0;
  bool any = false;
  const std::uint64_t start = now_ns();
  std::uint64_t first = 0, last = 0;
  for (;;) {
    const std::uint64_t t = now_ns();
    if (static_cast<double>(t - start) > seconds * 1e9) break;
    if (any && static_cast<double>(t - last) > idle_ms * 1e6) break;
    for (unsigned k = 0; k < kBatch; ++k) {
      iov[k] = {buf.data() + k * kMaxBytes, kMaxBytes};
      msgs[k] = {};
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
    }
    const int r = recvmmsg(fd, msgs, kBatch, 0, nullptr);
    if (r <= 0) continue;
    last = now_ns();
    if (!any) first = last;
    any = true;
    for (int k = 0; k < r; ++k) {
      const std::uint8_t* p = buf.data() + static_cast<std::size_t>(k) * kMaxBytes;
      if (msgs[k].msg_len < 12 || load_be(p, 4) != kMagic) {
        ++foreign;
        continue;
      }
      const std::uint64_t seq = load_be(p + 4, 8);
      if (seq >= (std::uint64_t{1} << 32)) {
        ++foreign;
        continue;
      }
      if (seq / 8 >= seen.size()) seen.resize(seq / 8 + 1 + (1 << 16), 0);
      const auto bit = static_cast<std::uint8_t>(1u << (seq % 8));
      if (seen[seq / 8] & bit) {
        ++duplicates;
        continue;
      }
      seen[seq / 8] |= bit;
      ++received;
      highest = std::max(highest, seq);
    }
  }
  std::printf("{\"received\": %llu, \"duplicates\": %llu, \"foreign\": %llu, \"highest_seq\": %llu, "
              "\"seconds\": %.6f}\n",
              static_cast<unsigned long long>(received), static_cast<unsigned long long>(duplicates),
              static_cast<unsigned long long>(foreign), static_cast<unsigned long long>(highest),
              any ? static_cast<double>(last - first) / 1e9 : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("a mode, send or recv, comes first");
  const std::string mode = argv[1];
  if (mode == "--help" || mode == "-h") usage("a paced UDP sender and a counting receiver");
  std::string src, dst, bind_to, iface, dst_mac;
  double bytes = 18, pps = 0, seconds = 0, idle_ms = 500;
  for (int i = 2; i < argc; ++i) {
    const std::string key = argv[i];
    if (i + 1 >= argc) usage((key + ": needs a value").c_str());
    const char* v = argv[++i];
    if (key == "--src") src = v;
    else if (key == "--dst") dst = v;
    else if (key == "--bind") bind_to = v;
    else if (key == "--iface") iface = v;
    else if (key == "--dst-mac") dst_mac = v;
    else if (key == "--bytes") bytes = number(v, "--bytes", 12, kMaxBytes);
    else if (key == "--pps") pps = number(v, "--pps", 1, 1e8);
    else if (key == "--seconds") seconds = number(v, "--seconds", 0.01, 3600);
    else if (key == "--idle-ms") idle_ms = number(v, "--idle-ms", 1, 60000);
    else usage(("unknown option '" + key + "'").c_str());
  }
  if (seconds <= 0) usage("--seconds is required");
  if (mode == "send") {
    if (src.empty() || dst.empty() || pps <= 0) usage("send needs --src, --dst and --pps");
    if (iface.empty() != dst_mac.empty()) usage("--iface and --dst-mac go together");
    return send_mode(address(src, false), address(dst, true), static_cast<std::size_t>(bytes), pps, seconds, iface,
                     dst_mac);
  }
  if (mode == "recv") {
    if (bind_to.empty()) usage("recv needs --bind");
    return recv_mode(address(bind_to, true), seconds, idle_ms);
  }
  usage(("unknown mode '" + mode + "'").c_str());
}
