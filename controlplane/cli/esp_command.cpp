// SPDX-License-Identifier: BSD-3-Clause
#include "esp_command.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "args.hpp"
#include "controlplane/common/pcap_file.hpp"
#include "controlplane/common/secret_file.hpp"
#include "crypto/esp.hpp"
#include "routing/forwarding_plan.hpp"

namespace meshgw::cli {

namespace {

using crypto::EspStatus;
using nlohmann::json;

constexpr std::size_t kKeymatBytes = 36;  // RFC 4106: key || salt
constexpr std::uint32_t kEthBytes = 14;
constexpr std::uint32_t kRoom = 256;

const char* kEspUsage = R"(usage:
  meshctl esp keygen  --out FILE
  meshctl esp encrypt --in IN.pcap --out OUT.pcap --key-file FILE --spi SPI [options]
  meshctl esp decrypt --in IN.pcap --out OUT.pcap --key-file FILE --spi SPI [options]

encrypt: every IPv4/IPv6 packet of IN (Ethernet or raw-IP pcap) becomes an
ESP-in-UDP packet (RFC 4303 tunnel mode, AES-256-GCM per RFC 4106, UDP 4500
per RFC 3948) in OUT, an Ethernet pcap. decrypt does the reverse and drops,
and counts by reason, anything that does not verify.

options:
  --key-file FILE     36 bytes in hex (32-byte AES key, then 4-byte salt), mode 0600
  --spi SPI           256..4294967295, decimal or 0x-hex
  --src A --dst B     outer IPv4 addresses (default 198.18.0.1 -> 198.18.0.2)
  --sport N --dport N outer UDP ports (default 4500)
  --backend NAME      ipsec-mb (default) or openssl
  --no-esn            32-bit sequence numbers instead of 64-bit ESN
  --first-seq N       first sequence number (encrypt), or of the stream to expect (decrypt); default 1
  --replay-window N   anti-replay window in packets (decrypt; default 1024)
  --json              print the summary as JSON
)";

struct Frame {
  const std::uint8_t* ip = nullptr;
  std::uint32_t len = 0;
  const char* skip_reason = nullptr;
};

// Finds the IP packet in a captured frame and trims link-layer padding.
Frame ip_of(const common::PcapRecord& r, std::uint32_t link_type) {
  Frame f;
  std::uint32_t off = 0;
  if (link_type == common::kLinkEthernet) {
    if (r.data.size() < kEthBytes) return {nullptr, 0, "short_ethernet"};
    std::uint16_t type = static_cast<std::uint16_t>(r.data[12] << 8 | r.data[13]);
    off = kEthBytes;
    while ((type == 0x8100 || type == 0x88a8) && r.data.size() >= off + 4) {
      type = static_cast<std::uint16_t>(r.data[off + 2] << 8 | r.data[off + 3]);
      off += 4;
    }
    if (type != 0x0800 && type != 0x86dd) return {nullptr, 0, "not_ip"};
  }
  if (r.orig_len > r.data.size()) return {nullptr, 0, "truncated_capture"};
  const std::uint8_t* p = r.data.data() + off;
  const auto avail = static_cast<std::uint32_t>(r.data.size() - off);
  if (avail < 1) return {nullptr, 0, "not_ip"};
  std::uint32_t len;
  if ((p[0] >> 4) == 4 && avail >= 20) {
    len = static_cast<std::uint32_t>(p[2] << 8 | p[3]);
  } else if ((p[0] >> 4) == 6 && avail >= 40) {
    len = 40u + static_cast<std::uint32_t>(p[4] << 8 | p[5]);
  } else {
    return {nullptr, 0, "not_ip"};
  }
  if (len > avail) return {nullptr, 0, "ip_length_exceeds_frame"};
  return {p, len, nullptr};
}

void put_ethernet(std::uint8_t* eth, bool ipv6) {
  static constexpr std::uint8_t kDst[6] = {0x02, 0, 0, 0, 0, 0x02};
  static constexpr std::uint8_t kSrc[6] = {0x02, 0, 0, 0, 0, 0x01};
  std::memcpy(eth, kDst, 6);
  std::memcpy(eth + 6, kSrc, 6);
  eth[12] = ipv6 ? 0x86 : 0x08;
  eth[13] = ipv6 ? 0xdd : 0x00;
}

using routing::spi_text;
std::string ip_text(std::uint32_t ip) { return routing::ipv4_text(ip); }

crypto::SaKeyMaterial load_keys(const std::string& path) {
  std::vector<std::uint8_t> keymat = common::read_hex_secret(path, kKeymatBytes);
  crypto::SaKeyMaterial keys;
  std::memcpy(keys.key.data(), keymat.data(), 32);
  std::memcpy(keys.salt.data(), keymat.data() + 32, 4);
  OPENSSL_cleanse(keymat.data(), keymat.size());
  return keys;
}

crypto::Backend backend_of(const Args& a) {
  const std::string name = a.opt_str("backend").value_or("ipsec-mb");
  const auto b = crypto::backend_from_string(name);
  if (!b) throw UsageError("option --backend: '" + name + "' is not ipsec-mb or openssl");
  return *b;
}

// Opens a capture of IP packets (Ethernet or raw IP link type).
common::PcapReader open_ip_capture(const std::string& path) {
  common::PcapReader reader(path);
  if (reader.link_type() != common::kLinkEthernet && reader.link_type() != common::kLinkRawIp)
    throw common::PcapError(path + ": link type " + std::to_string(reader.link_type()) +
                            " not supported (Ethernet or raw IP)");
  return reader;
}

const std::set<std::string> kValued = {"in", "out", "key-file", "spi", "src", "dst", "sport",
                                       "dport", "backend", "first-seq", "replay-window"};
const std::set<std::string> kFlags = {"no-esn", "json"};

int keygen(const std::vector<std::string>& argv) {
  const Args a(argv, {"out"}, {});
  std::vector<std::uint8_t> keymat(kKeymatBytes);
  if (RAND_bytes(keymat.data(), static_cast<int>(keymat.size())) != 1)
    throw std::runtime_error("openssl: RAND_bytes failed");
  common::write_hex_secret(a.str("out"), keymat,
                           "meshgw ESP SA key: AES-256-GCM key (32 bytes) || salt (4 bytes)");
  OPENSSL_cleanse(keymat.data(), keymat.size());
  std::cout << "wrote a new 36-byte SA key to " << a.str("out") << " (mode 0600)\n";
  return 0;
}

// What running a capture through an SA did.
struct CaptureRun {
  std::uint64_t frames = 0, written = 0;
  std::map<std::string, std::uint64_t> rejected;  // by reason: not IP, or the EspStatus
  std::uint64_t rejected_total() const {
    std::uint64_t n = 0;
    for (const auto& [reason, count] : rejected) n += count;
    return n;
  }
};

// Runs every IP packet of in_path through transform (in place, in a buffer
// with headroom and tailroom, like an mbuf) and writes what it accepts to
// out_path as Ethernet frames; the rest is counted by reason.
template <class Transform>
CaptureRun transform_capture(const std::string& in_path, const std::string& out_path, Transform&& transform) {
  common::PcapReader reader = open_ip_capture(in_path);
  common::PcapWriter writer(out_path, common::kLinkEthernet, common::kPcapMaxRecord);
  std::vector<std::uint8_t> buf(kRoom + 65536 + kRoom);
  CaptureRun run;
  while (auto rec = reader.next()) {
    ++run.frames;
    const Frame f = ip_of(*rec, reader.link_type());
    if (f.skip_reason != nullptr) {
      ++run.rejected[f.skip_reason];
      continue;
    }
    std::memcpy(buf.data() + kRoom, f.ip, f.len);
    crypto::PacketView view{buf.data() + kRoom, f.len, kRoom, kRoom};
    if (const EspStatus st = transform(view); st != EspStatus::ok) {
      ++run.rejected[std::string(crypto::to_string(st))];
      continue;
    }
    put_ethernet(view.data - kEthBytes, (view.data[0] >> 4) == 6);
    writer.write(rec->ts_ns, view.data - kEthBytes, view.len + kEthBytes);
    ++run.written;
  }
  writer.close();
  return run;
}

int encrypt(const std::vector<std::string>& argv) {
  const Args a(argv, kValued, kFlags);
  crypto::OutboundSaConfig cfg;
  cfg.spi = static_cast<std::uint32_t>(a.uint("spi", 256, 0xffffffffu));
  cfg.esn = !a.has("no-esn");
  cfg.outer.src_ip = a.ipv4("src", 0xc6120001u);
  cfg.outer.dst_ip = a.ipv4("dst", 0xc6120002u);
  cfg.outer.src_port = static_cast<std::uint16_t>(a.uint("sport", 1, 65535, 4500));
  cfg.outer.dst_port = static_cast<std::uint16_t>(a.uint("dport", 1, 65535, 4500));
  cfg.backend = backend_of(a);
  cfg.first_seq = a.uint("first-seq", 1, cfg.esn ? ~0ull : 0xffffffffull, 1);
  const std::string in_path = a.str("in"), out_path = a.str("out");
  cfg.keys = load_keys(a.str("key-file"));

  crypto::CryptoWorkspace ws;
  crypto::OutboundSa sa(cfg, ws);
  OPENSSL_cleanse(&cfg.keys, sizeof cfg.keys);
  std::uint64_t ipv4 = 0, ipv6 = 0, bytes_in = 0, bytes_out = 0;
  const CaptureRun run = transform_capture(in_path, out_path, [&](crypto::PacketView& view) {
    const bool is_v6 = (view.data[0] >> 4) == 6;
    const std::uint32_t inner_len = view.len;
    const EspStatus st = sa.encap(ws, view);
    if (st == EspStatus::ok) {
      (is_v6 ? ipv6 : ipv4)++;
      bytes_in += inner_len;
      bytes_out += view.len;
    }
    return st;
  });

  const std::string outer = ip_text(cfg.outer.src_ip) + ":" + std::to_string(cfg.outer.src_port) + " -> " +
                            ip_text(cfg.outer.dst_ip) + ":" + std::to_string(cfg.outer.dst_port);
  if (a.has("json")) {
    const json summary = {
        {"command", "encrypt"}, {"in", in_path}, {"out", out_path},
        {"spi", spi_text(sa.spi())}, {"esn", sa.esn()},
        {"backend", std::string(crypto::to_string(sa.backend()))},
        {"ipsec_mb_arch", std::string(ws.imb_arch())}, {"outer", outer},
        {"frames_read", run.frames}, {"ipv4_packets", ipv4}, {"ipv6_packets", ipv6},
        {"esp_packets_written", run.written}, {"skipped", run.rejected}, {"skipped_total", run.rejected_total()},
        {"first_seq", cfg.first_seq}, {"last_seq", sa.next_seq() - 1},
        {"inner_bytes", bytes_in}, {"outer_bytes", bytes_out}};
    std::cout << summary.dump(2) << "\n";
    return 0;
  }
  std::cout << "meshctl esp encrypt: " << in_path << " -> " << out_path << "\n"
            << "  SA        spi " << spi_text(sa.spi()) << ", AES-256-GCM with 16-byte ICV (RFC 4106), "
            << (sa.esn() ? "64-bit ESN" : "32-bit sequence numbers") << ", backend "
            << crypto::to_string(sa.backend())
            << (sa.backend() == crypto::Backend::ipsec_mb ? " (" + std::string(ws.imb_arch()) + ")" : "")
            << "\n  tunnel    UDP " << outer << " (RFC 3948)\n"
            << "  read      " << run.frames << " frames: " << ipv4 << " IPv4 + " << ipv6
            << " IPv6 packets encrypted, " << run.rejected_total() << " skipped";
  for (const auto& [k, v] : run.rejected) std::cout << " (" << k << ": " << v << ")";
  std::cout << "\n  wrote     " << run.written << " ESP-in-UDP frames, sequence numbers " << cfg.first_seq << ".."
            << sa.next_seq() - 1 << "\n  bytes     " << bytes_in << " inner -> " << bytes_out
            << " outer IPv4 (+" << (bytes_out - bytes_in) << " for headers, padding and ICV)\n";
  return 0;
}

int decrypt(const std::vector<std::string>& argv) {
  const Args a(argv, kValued, kFlags);
  crypto::InboundSaConfig cfg;
  cfg.spi = static_cast<std::uint32_t>(a.uint("spi", 256, 0xffffffffu));
  cfg.esn = !a.has("no-esn");
  cfg.backend = backend_of(a);
  cfg.replay_window = static_cast<std::uint32_t>(
      a.uint("replay-window", 64, crypto::ReplayWindow::kMaxSize, crypto::ReplayWindow::kDefaultSize));
  const std::string in_path = a.str("in"), out_path = a.str("out");
  const std::uint64_t first_seq = a.uint("first-seq", 1, cfg.esn ? ~0ull : 0xffffffffull, 1);
  cfg.keys = load_keys(a.str("key-file"));  // last: every argument is checked before the key is read
  crypto::CryptoWorkspace ws;
  crypto::InboundSa sa(cfg, ws);
  OPENSSL_cleanse(&cfg.keys, sizeof cfg.keys);
  // A receiver picking up a stream mid-way: ESN inference needs the window top.
  if (first_seq > 1) sa.window().accept(first_seq - 1);
  auto find = [&](std::uint32_t spi) { return spi == sa.spi() ? &sa : nullptr; };
  const CaptureRun run = transform_capture(in_path, out_path, [&](crypto::PacketView& view) {
    crypto::OuterUdpInfo info;
    return crypto::decap_udp_ipv4(ws, find, view, info);
  });
  if (a.has("json")) {
    const json summary = {{"command", "decrypt"}, {"in", in_path}, {"out", out_path},
                          {"spi", spi_text(sa.spi())}, {"esn", cfg.esn},
                          {"backend", std::string(crypto::to_string(cfg.backend))},
                          {"frames_read", run.frames}, {"packets_decrypted", run.written},
                          {"dropped", run.rejected}, {"dropped_total", run.rejected_total()},
                          {"highest_seq", sa.window().top()}};
    std::cout << summary.dump(2) << "\n";
    return 0;
  }
  std::cout << "meshctl esp decrypt: " << in_path << " -> " << out_path << "\n"
            << "  read      " << run.frames << " frames, " << run.written << " decrypted and verified, "
            << run.rejected_total() << " dropped";
  for (const auto& [k, v] : run.rejected) std::cout << " (" << k << ": " << v << ")";
  std::cout << "\n  highest sequence number " << sa.window().top() << "\n";
  return 0;
}

}  // namespace

int esp_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kEspUsage;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (args[0] == "keygen") return keygen(rest);
    if (args[0] == "encrypt") return encrypt(rest);
    if (args[0] == "decrypt") return decrypt(rest);
  } catch (const UsageError& e) {
    std::cerr << "meshctl esp " << args[0] << ": " << e.what() << "\n(see meshctl esp --help)\n";
    return 2;
  }
  std::cerr << "meshctl esp: unknown command '" << args[0] << "'\n" << kEspUsage;
  return 2;
}

}  // namespace meshgw::cli
