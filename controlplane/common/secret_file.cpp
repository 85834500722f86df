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

std::string read_secret_text(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw SecretFileError(path + ": cannot open secret file: " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw SecretFileError(path + ": not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    std::ostringstream msg;
    msg << path << ": secret file has mode 0" << std::oct << (st.st_mode & 0777)
        << "; group and others must have no access (chmod 600 " << path << ")";
    throw SecretFileError(msg.str());
  }
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    ::close(fd);
    throw SecretFileError(path + ": secret file is larger than " + std::to_string(max_bytes) + " bytes");
  }
  // One buffer sized up front: nothing the secret passes through is
  // reallocated (which would leave copies in freed memory).
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  const int read_errno = errno;
  ::close(fd);
  if (got != text.size()) {
    OPENSSL_cleanse(text.data(), text.size());
    throw SecretFileError(path + ": read failed: " + std::strerror(read_errno));
  }
  return text;
}

std::vector<std::uint8_t> read_hex_secret(const std::string& path, std::size_t expected_bytes) {
  std::string text = read_secret_text(path, 65536);
  std::string digits;
  digits.reserve(text.size());
  bool comment = false;
  for (char c : text) {
    if (c == '\n') comment = false;
    else if (c == '#') comment = true;
    else if (!comment) digits.push_back(c);
  }
  OPENSSL_cleanse(text.data(), text.size());
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

void write_secret_text(const std::string& path, const std::string& text, bool replace) {
  // A replacement is written beside the file and renamed over it, so a crash
  // leaves the old or the new secret, never half of one.
  const std::string target = replace ? path + ".new" : path;
  if (replace) ::unlink(target.c_str());
  const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw SecretFileError(target + ": cannot create secret file: " + errno_text());
  const bool ok = ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const std::string why = ok ? "" : errno_text();
  ::close(fd);
  if (!ok || (replace && ::rename(target.c_str(), path.c_str()) != 0)) {
    const std::string reason = ok ? errno_text() : why;
    ::unlink(target.c_str());
    throw SecretFileError(path + ": writing the secret file failed: " + reason);
  }
}

void write_hex_secret(const std::string& path, const std::vector<std::uint8_t>& bytes,
                      const std::string& comment) {
  std::string text;
  text.reserve(comment.size() + 4 + bytes.size() * 2);
  text.append("# ").append(comment).append("\n");
  crypto::append_hex(text, bytes.data(), bytes.size());
  text.push_back('\n');
  try {
    write_secret_text(path, text, false);
  } catch (...) {
    OPENSSL_cleanse(text.data(), text.size());
    throw;
  }
  OPENSSL_cleanse(text.data(), text.size());
}

}  // namespace meshgw::common
