// SPDX-License-Identifier: BSD-3-Clause
#include "emulator.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "controlplane/common/log.hpp"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace meshgw::lab {

namespace {
std::uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

constexpr std::uint32_t kFrameBytes = 2048;  // larger than any frame on a 1500-byte MTU veth
constexpr unsigned kBatch = 32;

struct Frame {
  std::uint64_t release_ns;
  std::uint32_t len;
  std::uint16_t out_port;
  std::uint8_t bytes[kFrameBytes];
};

// Frames waiting anywhere; LIFO reuse keeps few pages resident.
class FramePool {
 public:
  explicit FramePool(std::uint32_t n) : frames_(new Frame[n]) {
    free_.reserve(n);
    for (std::uint32_t i = n; i > 0; --i) free_.push_back(i - 1);
  }
  bool empty() const { return free_.empty(); }
  std::uint32_t get() {
    const std::uint32_t f = free_.back();
    free_.pop_back();
    return f;
  }
  void put(std::uint32_t f) { free_.push_back(f); }
  Frame& operator[](std::uint32_t f) { return frames_[f]; }

 private:
  std::unique_ptr<Frame[]> frames_;
  std::vector<std::uint32_t> free_;
};

struct Direction {
  std::uint16_t from, to;
  LinkShaper shaper;
  std::deque<std::uint32_t> fifo;
  std::deque<std::uint32_t> priority_fifo;  // network control (link_shaper.hpp)
  std::uint64_t tx_packets = 0, tx_bytes = 0, priority_packets = 0;
  std::uint64_t drops[kLinkDropKinds] = {};
  DelayHistogram queue_delay;
};

struct Port {
  PortConfig cfg;
  int fd = -1;
  std::uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
  std::vector<std::uint32_t> tx;  // frames to send at the end of this turn
};

struct Client {
  int fd;
  std::string in;
};

}  // namespace

struct Emulator::Impl {
 public:
  explicit Impl(const EmulatorConfig& cfg) : cfg_(cfg), pool_(cfg.frames) {
    const std::size_t n = cfg.ports.size();
    dir_of_.assign(n * n, -1);
    for (const PortConfig& p : cfg.ports) open_port(p);
    std::uint64_t seed = cfg.seed;
    for (const LinkConfig& l : cfg.links) {
      const std::uint16_t a = port_index(l.a), b = port_index(l.b);
      add_direction(a, b, l.params, seed++);
      add_direction(b, a, l.params, seed++);
    }
    open_control();
  }
  ~Impl() {
    for (Port& p : ports_) close(p.fd);
    for (Client& c : clients_) close(c.fd);
    if (control_fd_ >= 0) {
      close(control_fd_);
      unlink(cfg_.control_socket.c_str());
    }
  }

  void run(const volatile std::sig_atomic_t& stop) {
    std::vector<pollfd> fds;
    while (!stop) {
      fds.clear();
      for (const Port& p : ports_) fds.push_back({p.fd, POLLIN, 0});
      fds.push_back({control_fd_, POLLIN, 0});
      for (const Client& c : clients_) fds.push_back({c.fd, POLLIN, 0});
      const std::uint64_t now = now_ns();
      std::uint64_t wait = 100'000'000;  // wake now and then for signals
      for (const Direction& d : dirs_)
        for (const auto* q : {&d.fifo, &d.priority_fifo})
          if (!q->empty()) {
            const std::uint64_t due = pool_[q->front()].release_ns;
            wait = std::min(wait, due > now ? due - now : 0);
          }
      const timespec ts{static_cast<time_t>(wait / 1000000000u), static_cast<long>(wait % 1000000000u)};
      const int ready = ppoll(fds.data(), fds.size(), &ts, nullptr);
      if (ready < 0 && errno != EINTR) throw std::runtime_error(std::string("ppoll: ") + std::strerror(errno));
      for (std::size_t i = 0; i < ports_.size(); ++i)
        if (ready > 0 && (fds[i].revents & POLLIN)) receive(static_cast<std::uint16_t>(i));
      release_due(now_ns());
      flush();
      if (ready > 0) {
        if (fds[ports_.size()].revents & POLLIN) accept_client();
        for (std::size_t i = clients_.size(); i > 0; --i) {
          const pollfd& f = fds[ports_.size() + i];
          if (i - 1 < clients_.size() && (f.revents & (POLLIN | POLLHUP | POLLERR))) serve_client(i - 1);
        }
      }
    }
  }

  nlohmann::json stats() const {
    nlohmann::json out;
    const std::uint64_t now = now_ns();
    out["ports"] = nlohmann::json::array();
    for (const Port& p : ports_)
      out["ports"].push_back({{"name", p.cfg.name}, {"iface", p.cfg.iface}, {"rx_packets", p.rx_packets},
                              {"rx_bytes", p.rx_bytes}, {"tx_packets", p.tx_packets}, {"tx_bytes", p.tx_bytes}});
    out["links"] = nlohmann::json::array();
    for (const Direction& d : dirs_) {
      const LinkParams& lp = d.shaper.params();
      nlohmann::json drops;
      for (std::size_t k = 1; k < kLinkDropKinds; ++k) drops[link_drop_name(static_cast<LinkDrop>(k))] = d.drops[k];
      out["links"].push_back({{"from", ports_[d.from].cfg.name},
                              {"to", ports_[d.to].cfg.name},
                              {"up", lp.up},
                              {"delay_ms", lp.delay_ms},
                              {"jitter_ms", lp.jitter_ms},
                              {"loss", lp.loss},
                              {"rate_mbit", lp.rate_mbit},
                              {"queue_ms", lp.queue_ms},
                              {"tx_packets", d.tx_packets},
                              {"tx_bytes", d.tx_bytes},
                              {"drops", drops},
                              {"network_control_packets", d.priority_packets},
                              {"queued_frames", d.fifo.size() + d.priority_fifo.size()},
                              {"queued_bytes", d.shaper.queued_bytes(now)},
                              {"queue_delay_ms",
                               {{"samples", d.queue_delay.count()},
                                {"p50", d.queue_delay.quantile_ms(0.5)},
                                {"p99", d.queue_delay.quantile_ms(0.99)},
                                {"max", d.queue_delay.max_ms()}}}});
    }
    out["drops"] = {{"no_link", no_link_}, {"pool_empty", pool_empty_}, {"oversize", oversize_},
                    {"tx_error", tx_error_}};
    return out;
  }

 private:
  std::uint16_t port_index(const std::string& name) const {
    for (std::size_t i = 0; i < ports_.size(); ++i)
      if (ports_[i].cfg.name == name) return static_cast<std::uint16_t>(i);
    return 0xffff;
  }

  void open_port(const PortConfig& p) {
    const unsigned ifindex = if_nametoindex(p.iface.c_str());
    if (ifindex == 0) throw std::runtime_error("port '" + p.name + "': no interface '" + p.iface + "' here");
    const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("AF_PACKET socket: ") + std::strerror(errno) + " (needs root)");
    ports_.push_back(Port{.cfg = p, .fd = fd});  // closed by the destructor from here on
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(ifindex);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
      throw std::runtime_error("port '" + p.name + "': bind to " + p.iface + ": " + std::strerror(errno));
    const int one = 1, buf = 8 << 20;
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);  // not our own sends
    packet_mreq mr{};
    mr.mr_ifindex = static_cast<int>(ifindex);
    mr.mr_type = PACKET_MR_PROMISC;
    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
  }

  void add_direction(std::uint16_t from, std::uint16_t to, const LinkParams& p, std::uint64_t seed) {
    dir_of_[from * ports_.size() + to] = static_cast<int>(dirs_.size());
    dirs_.push_back(Direction{.from = from, .to = to, .shaper = LinkShaper(p, seed)});
  }

  void open_control() {
    control_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (control_fd_ < 0) throw std::runtime_error(std::string("control socket: ") + std::strerror(errno));
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::strncpy(sun.sun_path, cfg_.control_socket.c_str(), sizeof sun.sun_path - 1);
    unlink(cfg_.control_socket.c_str());  // a socket left by an earlier run
    if (bind(control_fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 || listen(control_fd_, 8) != 0)
      throw std::runtime_error("control socket " + cfg_.control_socket + ": " + std::strerror(errno));
    chmod(cfg_.control_socket.c_str(), 0600);
  }

  void receive(std::uint16_t in) {
    Port& port = ports_[in];
    for (int rounds = 0; rounds < 8; ++rounds) {  // then let the other ports have a turn
      std::uint32_t ids[kBatch];
      mmsghdr msgs[kBatch];
      iovec iov[kBatch];
      unsigned n = 0;
      for (; n < kBatch && !pool_.empty(); ++n) {
        ids[n] = pool_.get();
        iov[n] = {pool_[ids[n]].bytes, kFrameBytes};
        msgs[n] = {};
        msgs[n].msg_hdr.msg_iov = &iov[n];
        msgs[n].msg_hdr.msg_iovlen = 1;
      }
      if (n == 0) {  // every frame buffer waits in a queue: read and count
        std::uint8_t scratch[kFrameBytes];
        while (recv(port.fd, scratch, sizeof scratch, MSG_DONTWAIT) >= 0) ++pool_empty_;
        return;
      }
      const int got = recvmmsg(port.fd, msgs, n, MSG_DONTWAIT, nullptr);
      const unsigned used = got > 0 ? static_cast<unsigned>(got) : 0;
      for (unsigned k = used; k < n; ++k) pool_.put(ids[k]);
      const std::uint64_t now = now_ns();
      for (unsigned k = 0; k < used; ++k) {
        const std::uint32_t len = msgs[k].msg_len;
        if ((msgs[k].msg_hdr.msg_flags & MSG_TRUNC) || len < 14) {
          ++oversize_;
          pool_.put(ids[k]);
          continue;
        }
        ++port.rx_packets;
        port.rx_bytes += len;
        pool_[ids[k]].len = len;
        forward(in, ids[k], now);
      }
      if (used < n) return;
    }
  }

  static std::uint64_t mac_key(const std::uint8_t* m) {
    std::uint64_t k = 0;
    std::memcpy(&k, m, 6);
    return k;
  }

  void forward(std::uint16_t in, std::uint32_t id, std::uint64_t now) {
    Frame& f = pool_[id];
    const std::uint8_t* eth = f.bytes;
    if ((eth[6] & 1) == 0) mac_to_port_[mac_key(eth + 6)] = in;  // learn the sender
    // IPv4 but TCP takes the link; TCP and ARP cross directly.
    const bool shaped = f.len >= 14 + 20 && eth[12] == 0x08 && eth[13] == 0x00 && eth[14 + 9] != 6;
    auto it = (eth[0] & 1) ? mac_to_port_.end() : mac_to_port_.find(mac_key(eth));
    if (it != mac_to_port_.end()) {
      if (it->second == in) {
        pool_.put(id);  // already on the right segment
        return;
      }
      deliver(in, it->second, id, shaped, now);
      return;
    }
    // Broadcast, multicast or not yet learnt: every other port gets a copy.
    std::uint16_t last = 0xffff;
    for (std::uint16_t out = 0; out < ports_.size(); ++out) {
      if (out == in) continue;
      if (last != 0xffff) {
        if (pool_.empty()) {
          ++pool_empty_;
          continue;
        }
        const std::uint32_t copy = pool_.get();
        std::memcpy(pool_[copy].bytes, f.bytes, f.len);
        pool_[copy].len = f.len;
        deliver(in, last, copy, shaped, now);
      }
      last = out;
    }
    if (last != 0xffff) {
      deliver(in, last, id, shaped, now);
    } else {
      pool_.put(id);
    }
  }

  void deliver(std::uint16_t in, std::uint16_t out, std::uint32_t id, bool shaped, std::uint64_t now) {
    Frame& f = pool_[id];
    f.out_port = out;
    if (!shaped) {
      ports_[out].tx.push_back(id);
      return;
    }
    const int d = dir_of_[in * ports_.size() + out];
    if (d < 0) {
      ++no_link_;
      pool_.put(id);
      return;
    }
    Direction& dir = dirs_[static_cast<std::size_t>(d)];
    const bool control = is_network_control(f.bytes, f.len);
    const LinkShaper::Verdict v = dir.shaper.admit(now, f.len, control);
    if (v.drop != LinkDrop::none) {
      ++dir.drops[static_cast<std::size_t>(v.drop)];
      pool_.put(id);
      return;
    }
    f.release_ns = v.release_ns;
    if (control) {
      ++dir.priority_packets;
      dir.priority_fifo.push_back(id);
      return;
    }
    dir.queue_delay.record(v.queued_ns);  // the data's queueing, which the demo reports
    dir.fifo.push_back(id);
  }

  void release_due(std::uint64_t now) {
    for (Direction& d : dirs_) {
      for (auto* q : {&d.priority_fifo, &d.fifo})
        while (!q->empty() && pool_[q->front()].release_ns <= now) {
          const std::uint32_t id = q->front();
          q->pop_front();
          ++d.tx_packets;
          d.tx_bytes += pool_[id].len;
          ports_[d.to].tx.push_back(id);
        }
    }
  }

  void flush() {
    for (Port& p : ports_) {
      std::size_t at = 0;
      while (at < p.tx.size()) {
        mmsghdr msgs[kBatch];
        iovec iov[kBatch];
        unsigned n = 0;
        for (; n < kBatch && at + n < p.tx.size(); ++n) {
          Frame& f = pool_[p.tx[at + n]];
          iov[n] = {f.bytes, f.len};
          msgs[n] = {};
          msgs[n].msg_hdr.msg_iov = &iov[n];
          msgs[n].msg_hdr.msg_iovlen = 1;
        }
        const int sent = sendmmsg(p.fd, msgs, n, MSG_DONTWAIT);
        const unsigned ok = sent > 0 ? static_cast<unsigned>(sent) : 0;
        for (unsigned k = 0; k < n; ++k) {
          const std::uint32_t id = p.tx[at + k];
          if (k < ok) {
            ++p.tx_packets;
            p.tx_bytes += pool_[id].len;
          } else {
            ++tx_error_;  // the interface refused it (its queue full, or down)
          }
          pool_.put(id);
        }
        at += n;
      }
      p.tx.clear();
    }
  }

  void accept_client() {
    const int fd = accept4(control_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (clients_.size() >= 16) {
      close(fd);
      return;
    }
    clients_.push_back({fd, {}});
  }

  void serve_client(std::size_t i) {
    char buf[4096];
    const ssize_t got = recv(clients_[i].fd, buf, sizeof buf, 0);
    if (got <= 0) {
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
      close(clients_[i].fd);
      clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
    std::string& in = clients_[i].in;
    in.append(buf, static_cast<std::size_t>(got));
    if (in.size() > 8192 && in.find('\n') == std::string::npos) in = "\n";  // a line too long: refused below
    for (std::size_t nl; (nl = in.find('\n')) != std::string::npos;) {
      const std::string line = in.substr(0, nl);
      in.erase(0, nl + 1);
      const std::string reply = handle(line).dump() + "\n";
      if (send(clients_[i].fd, reply.data(), reply.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(reply.size())) {
        close(clients_[i].fd);
        clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(i));
        return;
      }
    }
  }

  nlohmann::json handle(const std::string& line) {
    const ParsedCommand parsed = parse_command(line);
    if (!parsed.error.empty()) return {{"error", parsed.error}};
    const Command& c = parsed.command;
    switch (c.kind) {
      case Command::Kind::help:
        return {{"ok", true}, {"commands", {"cut A-B", "restore A-B", "set A-B key=value...", "stats", "reset"}}};
      case Command::Kind::stats: {
        nlohmann::json s = stats();
        s["ok"] = true;
        return s;
      }
      case Command::Kind::reset:
        for (Direction& d : dirs_) d.queue_delay.reset();
        return {{"ok", true}};
      default:
        break;
    }
    const std::uint16_t a = port_index(c.from), b = port_index(c.to);
    if (a == 0xffff) return {{"error", "no port named '" + c.from + "'"}};
    if (b == 0xffff) return {{"error", "no port named '" + c.to + "'"}};
    const int ab = dir_of_[a * ports_.size() + b], ba = dir_of_[b * ports_.size() + a];
    if (ab < 0) return {{"error", "no link between '" + c.from + "' and '" + c.to + "'"}};
    std::vector<Direction*> targets{&dirs_[static_cast<std::size_t>(ab)]};
    if (c.both_directions) targets.push_back(&dirs_[static_cast<std::size_t>(ba)]);
    for (Direction* d : targets) {
      LinkParams p = d->shaper.params();
      if (c.kind == Command::Kind::set) {
        const std::string why = apply_changes(p, c.changes);
        if (!why.empty()) return {{"error", why}};
      } else {
        p.up = c.kind == Command::Kind::restore;
      }
      d->shaper.set(p);
    }
    const char* verb = c.kind == Command::Kind::cut ? "cut" : c.kind == Command::Kind::restore ? "restored" : "set";
    common::log_info(std::string("link ") + c.from + (c.both_directions ? "-" : ">") + c.to + " " + verb);
    return {{"ok", true}};
  }

  EmulatorConfig cfg_;
  FramePool pool_;
  std::vector<Port> ports_;
  std::vector<Direction> dirs_;
  std::vector<int> dir_of_;  // [from * ports + to] -> index in dirs_, -1 if no link
  std::unordered_map<std::uint64_t, std::uint16_t> mac_to_port_;
  int control_fd_ = -1;
  std::vector<Client> clients_;
  std::uint64_t no_link_ = 0, pool_empty_ = 0, oversize_ = 0, tx_error_ = 0;
};


Emulator::Emulator(const EmulatorConfig& cfg) : impl_(std::make_unique<Impl>(cfg)) {}
Emulator::~Emulator() = default;
void Emulator::run(const volatile std::sig_atomic_t& stop) { impl_->run(stop); }
nlohmann::json Emulator::stats() const { return impl_->stats(); }

}  // namespace meshgw::lab
