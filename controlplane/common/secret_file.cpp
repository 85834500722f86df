// SPDX-License-Identifier: BSD-3-Clause
#include "secret_file.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "crypto/hex.hpp"

namespace meshgw::common {

namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

std::vector<std::uint8_t> read_hex_secret(const std::string& path, std::size_t expected_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw SecretFileError(path + ": cannot open key file: " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw SecretFileError(path + ": not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    std::ostringstream msg;
    msg << path << ": key file has mode 0" << std::oct << (st.st_mode & 0777)
        << "; group and others must have no access (chmod 600 " << path << ")";
    throw SecretFileError(msg.str());
  }
  if (st.st_size > 65536) {
    ::close(fd);
    throw SecretFileError(path + ": key file is larger than 64 KiB");
  }
  // One buffer sized up front and one digits buffer: nothing the key passes
  // through is reallocated (which would leave copies in freed memory), and
  // both are wiped before they are freed.
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  const int read_errno = errno;
  ::close(fd);
  text.resize(got);
  std::string digits;
  digits.reserve(text.size());
  bool comment = false;
  for (char c : text) {
    if (c == '\n') comment = false;
    else if (c == '#') comment = true;
    else if (!comment) digits.push_back(c);
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (got != static_cast<std::size_t>(st.st_size)) {
    OPENSSL_cleanse(digits.data(), digits.size());
    throw SecretFileError(path + ": read failed: " + std::strerror(read_errno));
  }
  auto bytes = crypto::from_hex(digits);
  OPENSSL_cleanse(digits.data(), digits.size());
  if (!bytes) throw SecretFileError(path + ": key file must contain hex digits only");
  if (bytes->size() != expected_bytes) {
    const std::size_t n = bytes->size();
    OPENSSL_cleanse(bytes->data(), bytes->size());
    throw SecretFileError(path + ": key file holds " + std::to_string(n) + " bytes, expected " +
                          std::to_string(expected_bytes));
  }
  return std::move(*bytes);
}

void write_hex_secret(const std::string& path, const std::vector<std::uint8_t>& bytes,
                      const std::string& comment) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw SecretFileError(path + ": cannot create key file: " + errno_text());
  std::string text;
  text.reserve(comment.size() + 4 + bytes.size() * 2);
  text.append("# ").append(comment).append("\n");
  crypto::append_hex(text, bytes.data(), bytes.size());
  text.push_back('\n');
  const bool ok = ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const std::string why = ok ? "" : errno_text();
  OPENSSL_cleanse(text.data(), text.size());
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    throw SecretFileError(path + ": writing the key file failed: " + why);
  }
}

}  // namespace meshgw::common
