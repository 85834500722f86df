// SPDX-License-Identifier: BSD-3-Clause
// The sending side of TWAMP-light (RFC 5357 appendix I) without any I/O:
// which test packets to send to which peer and when, the replies matched to
// them, and per peer an EWMA of the round-trip time (the reflector's
// residence time taken out: (T4 - T1) - (T3 - T2)), an EWMA of the jitter
// (|delta RTT|, as RFC 3550's interarrival jitter), loss over a sliding
// window, and "down" after a run of consecutive losses, which is what
// failover acts on. Two guards keep a busy machine from taking healthy
// links down: a run of losses counts only once some other peer answered
// during it (else the silence is ours: our worker or the machine stalled,
// and every peer looks lost at once), or after silent_hold_ns; and a reply
// that comes after its probe's timeout (late, not lost) brings the peer
// back up at once. Timestamps are NTP 32.32 as the wire carries them; the
// caller passes its clocks in. Pure; one thread (the agent's control thread).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "controlplane/api/beacon.hpp"

namespace meshgw::agent {

struct ProberConfig {
  std::uint64_t interval_ns = 100'000'000;  // one probe per peer per interval
  // A peer that is not up (never answered, or down) is probed this often
  // (if longer than interval_ns): a mesh where most pairs have no direct
  // link must not spend its probes on them.
  std::uint64_t not_up_interval_ns = 1'000'000'000;
  std::uint64_t timeout_ns = 1'000'000'000;  // a probe without reply by then is lost
  std::size_t window = 50;                   // probes the loss is measured over
  unsigned down_after_lost = 3;              // consecutive losses that make a peer down
  double ewma_alpha = 0.2;
  std::uint16_t first_port = 40000;          // source ports, one per peer
  // The control thread's own stalls need no allowance: the caller hands in
  // the replies waiting for it before it calls expire(). (Crediting the
  // time away to the probes hid real cuts whenever the thread was slow.)
  // A reply this long after its probe timed out still proves the peer
  // alive: up again at once, its loss taken back (not its RTT: a stall's).
  std::uint64_t late_ns = 2'000'000'000;
  // A run of losses while no peer at all answered (our own side stalled,
  // or every link failed at once) takes the peer down only after this long.
  std::uint64_t silent_hold_ns = 1'000'000'000;
};

struct ProbeTarget {
  std::string peer;
  std::uint32_t ipv4 = 0;  // host order
  // Behind a NAT: the port its NAT maps port 4500 to; probes go there, on
  // the ESP port (Dataplane::send_nat_probe). 0: to the TWAMP port.
  std::uint16_t nat_port = 0;
  bool operator==(const ProbeTarget&) const = default;
};

// A test packet to send: UDP src_port -> dst_ipv4:862, payload seq + t1.
struct ProbeToSend {
  std::string peer;
  std::uint32_t dst_ipv4 = 0;
  std::uint16_t src_port = 0;
  std::uint32_t seq = 0;
  std::uint64_t t1_ntp = 0;
  std::uint16_t nat_port = 0;  // ProbeTarget::nat_port
};

// A reflected packet as the data plane hands it over.
struct ProbeReply {
  std::uint32_t src_ipv4 = 0;
  std::uint16_t dst_port = 0;  // our source port: which peer
  std::uint32_t seq = 0;       // the sender sequence number echoed
  std::uint64_t t1_ntp = 0, t2_ntp = 0, t3_ntp = 0, t4_ntp = 0;
};

struct PeerProbeStats {
  double rtt_us = 0;     // EWMA
  double jitter_us = 0;  // EWMA of |delta RTT|
  double loss = 0;       // fraction lost over the window
  std::uint64_t sent = 0, received = 0, lost = 0;
  std::uint64_t late = 0;        // replies after their timeout: counted in lost, taken back from loss
  std::uint64_t held = 0;        // runs of loss not taken as down: no other peer answered meanwhile
  unsigned consecutive_lost = 0;
  bool up = false;       // a reply came and fewer than down_after_lost were lost since
  bool measured = false;
};

class Prober {
 public:
  explicit Prober(ProberConfig config);
  // The peers to probe (each keeps its stats while it stays a target).
  void set_targets(const std::vector<ProbeTarget>& targets);
  // Probes due at now_ns (monotonic), stamped with ntp_now.
  std::vector<ProbeToSend> due(std::uint64_t now_ns, std::uint64_t ntp_now);
  // A reply; false when it matches no probe in flight or expired within
  // late_ns (duplicate, too late, forged).
  bool on_reply(const ProbeReply& r, std::uint64_t now_ns);
  // Probes older than the timeout are lost. Returns the peers that went down.
  std::vector<std::string> expire(std::uint64_t now_ns);

  const std::map<std::string, PeerProbeStats>& stats() const noexcept { return stats_; }
  // What beacons report: every measured peer (a down one with loss 100 %).
  std::vector<api::BeaconNeighbour> neighbours() const;

  // NTP 32.32 difference in microseconds.
  static double ntp_us(std::uint64_t later, std::uint64_t earlier) noexcept;

 private:
  struct InFlight {
    std::uint32_t seq;
    std::uint64_t t1_ntp;
    std::uint64_t sent_ns;
  };
  struct Expired {
    std::uint32_t seq;
    std::uint64_t t1_ntp;
    std::uint64_t expired_ns;
    std::uint64_t record;  // its place in the window (Peer::records when it was recorded)
  };
  struct Peer {
    ProbeTarget target;
    std::uint16_t port = 0;
    std::uint32_t next_seq = 1;
    std::uint64_t next_due_ns = 0;
    std::deque<InFlight> in_flight;
    std::deque<Expired> expired;  // timed out within late_ns: a reply may still come
    std::deque<bool> window;  // true: answered
    std::uint64_t records = 0;  // window entries ever recorded
    std::uint64_t run_start_ns = 0;  // when the first probe of the current loss run was sent
    bool run_held = false;           // this run was already counted in held
    double last_rtt_us = -1;
  };
  void record(Peer& p, PeerProbeStats& s, bool answered);
  bool on_late_reply(Peer& p, PeerProbeStats& s, const ProbeReply& r, std::uint64_t now_ns);

  ProberConfig config_;
  std::map<std::string, Peer> peers_;
  std::map<std::string, PeerProbeStats> stats_;
  std::map<std::uint16_t, std::string> by_port_;
  std::uint64_t last_any_reply_ns_ = 0;  // from any peer, late ones included
};

}  // namespace meshgw::agent
