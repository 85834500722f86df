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
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  OPENSSL_cleanse(buf, sizeof buf);
  if (n < 0) throw SecretFileError(path + ": read failed: " + errno_text());
  std::string digits;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    digits += line;
  }
  OPENSSL_cleanse(text.data(), text.size());
  auto bytes = crypto::from_hex(digits);
  OPENSSL_cleanse(digits.data(), digits.size());
  if (!bytes) throw SecretFileError(path + ": key file must contain hex digits only");
  if (bytes->size() != expected_bytes) {
    const std::size_t got = bytes->size();
    OPENSSL_cleanse(bytes->data(), bytes->size());
    throw SecretFileError(path + ": key file holds " + std::to_string(got) + " bytes, expected " +
                          std::to_string(expected_bytes));
  }
  return std::move(*bytes);
}

void write_hex_secret(const std::string& path, const std::vector<std::uint8_t>& bytes,
                      const std::string& comment) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw SecretFileError(path + ": cannot create key file: " + errno_text());
  std::string text = "# " + comment + "\n" + crypto::to_hex(bytes.data(), bytes.size()) + "\n";
  const bool ok = ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  OPENSSL_cleanse(text.data(), text.size());
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    throw SecretFileError(path + ": writing the key file failed: " + errno_text());
  }
}

}  // namespace meshgw::common
