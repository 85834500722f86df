// SPDX-License-Identifier: BSD-3-Clause
#include "pcap_file.hpp"

#include <cstring>

namespace meshgw::common {

namespace {
constexpr std::uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr std::uint32_t kMagicNano = 0xa1b23c4d;

void put32(std::uint8_t* p, std::uint32_t v) { std::memcpy(p, &v, 4); }  // host is little-endian
void put16(std::uint8_t* p, std::uint16_t v) { std::memcpy(p, &v, 2); }
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "pcap writer assumes little-endian");
}  // namespace

PcapReader::PcapReader(const std::string& path)
    : in_(std::make_unique<std::ifstream>(path, std::ios::binary)), path_(path) {
  if (!*in_) throw PcapError(path + ": cannot open for reading");
  read_header();
}

PcapReader::PcapReader(std::unique_ptr<std::istream> in, const std::string& name)
    : in_(std::move(in)), path_(name) {
  read_header();
}

void PcapReader::read_header() {
  const std::string& path = path_;
  std::uint8_t h[24];
  if (!in_->read(reinterpret_cast<char*>(h), sizeof h))
    throw PcapError(path + ": not a pcap file (shorter than the 24-byte header)");
  std::uint32_t magic;
  std::memcpy(&magic, h, 4);
  if (magic == kMagicMicro || magic == kMagicNano) {
    swapped_ = false;
  } else if (__builtin_bswap32(magic) == kMagicMicro || __builtin_bswap32(magic) == kMagicNano) {
    swapped_ = true;
    magic = __builtin_bswap32(magic);
  } else if (magic == 0x0a0d0d0a) {
    throw PcapError(path + ": pcapng is not supported; convert with 'editcap -F pcap IN OUT'");
  } else {
    throw PcapError(path + ": not a pcap file (bad magic number)");
  }
  nanos_ = magic == kMagicNano;
  snaplen_ = u32(h + 16);
  link_type_ = u32(h + 20) & 0x0fffffff;
}

std::uint32_t PcapReader::u32(const std::uint8_t* p) const noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return swapped_ ? __builtin_bswap32(v) : v;
}

std::optional<PcapRecord> PcapReader::next() {
  std::uint8_t h[16];
  in_->read(reinterpret_cast<char*>(h), sizeof h);
  if (in_->gcount() == 0) return std::nullopt;
  const std::string where = path_ + ": record " + std::to_string(count_ + 1) + " at offset " +
                            std::to_string(offset_);
  if (in_->gcount() != sizeof h) throw PcapError(where + ": truncated record header");
  PcapRecord r;
  const std::uint64_t sec = u32(h), frac = u32(h + 4);
  r.ts_ns = sec * 1'000'000'000ull + (nanos_ ? frac : frac * 1000ull);
  const std::uint32_t caplen = u32(h + 8);
  r.orig_len = u32(h + 12);
  if (caplen > kPcapMaxRecord || (snaplen_ != 0 && caplen > snaplen_ && caplen > 65535))
    throw PcapError(where + ": captured length " + std::to_string(caplen) + " exceeds the snapshot length");
  r.data.resize(caplen);
  if (caplen > 0 && !in_->read(reinterpret_cast<char*>(r.data.data()), caplen))
    throw PcapError(where + ": truncated record data (" + std::to_string(caplen) + " bytes announced)");
  ++count_;
  offset_ += sizeof h + caplen;
  return r;
}

PcapWriter::PcapWriter(const std::string& path, std::uint32_t link_type, std::uint32_t snaplen)
    : out_(path, std::ios::binary | std::ios::trunc), path_(path), snaplen_(snaplen) {
  if (!out_) throw PcapError(path + ": cannot open for writing");
  std::uint8_t h[24] = {};
  put32(h, kMagicMicro);
  put16(h + 4, 2);
  put16(h + 6, 4);
  put32(h + 16, snaplen);
  put32(h + 20, link_type);
  out_.write(reinterpret_cast<const char*>(h), sizeof h);
}

void PcapWriter::write(std::uint64_t ts_ns, const std::uint8_t* data, std::uint32_t len) {
  if (len > snaplen_) throw PcapError(path_ + ": record of " + std::to_string(len) + " bytes exceeds snaplen");
  std::uint8_t h[16];
  put32(h, static_cast<std::uint32_t>(ts_ns / 1'000'000'000ull));
  put32(h + 4, static_cast<std::uint32_t>((ts_ns % 1'000'000'000ull) / 1000));
  put32(h + 8, len);
  put32(h + 12, len);
  out_.write(reinterpret_cast<const char*>(h), sizeof h);
  out_.write(reinterpret_cast<const char*>(data), len);
  if (!out_) throw PcapError(path_ + ": write failed");
}

void PcapWriter::close() {
  out_.flush();
  if (!out_) throw PcapError(path_ + ": write failed");
  out_.close();
}

PcapWriter::~PcapWriter() {
  if (out_.is_open()) out_.close();
}

}  // namespace meshgw::common
