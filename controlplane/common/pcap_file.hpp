// SPDX-License-Identifier: BSD-3-Clause
// Classic libpcap files (not pcapng): read micro/nanosecond, either byte
// order; write microsecond little-endian. Enough for test inputs, outputs and
// captures that tshark and DPDK's net_pcap read. Control path: may throw
// PcapError, whose message names the file, the record number and the offset.
#pragma once

#include <cstdint>
#include <fstream>
#include <istream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace meshgw::common {

inline constexpr std::uint32_t kLinkEthernet = 1;
inline constexpr std::uint32_t kLinkRawIp = 101;
inline constexpr std::uint32_t kPcapMaxRecord = 262144;

class PcapError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PcapRecord {
  std::uint64_t ts_ns = 0;    // since the epoch
  std::uint32_t orig_len = 0;  // length on the wire (>= data.size())
  std::vector<std::uint8_t> data;
};

class PcapReader {
 public:
  explicit PcapReader(const std::string& path);
  // Reads from any stream (tests, fuzzing); name is used in messages.
  PcapReader(std::unique_ptr<std::istream> in, const std::string& name);
  // Next record, or nullopt at a clean end of file. Throws on a truncated or
  // inconsistent record.
  std::optional<PcapRecord> next();
  std::uint32_t link_type() const noexcept { return link_type_; }
  std::uint64_t records_read() const noexcept { return count_; }

 private:
  std::uint32_t u32(const std::uint8_t* p) const noexcept;
  void read_header();
  std::unique_ptr<std::istream> in_;
  std::string path_;
  bool swapped_ = false;
  bool nanos_ = false;
  std::uint32_t link_type_ = 0;
  std::uint32_t snaplen_ = 0;
  std::uint64_t count_ = 0;
  std::uint64_t offset_ = 24;
};

class PcapWriter {
 public:
  PcapWriter(const std::string& path, std::uint32_t link_type, std::uint32_t snaplen = 65535);
  void write(std::uint64_t ts_ns, const std::uint8_t* data, std::uint32_t len);
  void write(const PcapRecord& r) { write(r.ts_ns, r.data.data(), static_cast<std::uint32_t>(r.data.size())); }
  // Flushes and checks for write errors (also done by the destructor, silently).
  void close();
  ~PcapWriter();

 private:
  std::ofstream out_;
  std::string path_;
  std::uint32_t snaplen_;
};

}  // namespace meshgw::common
