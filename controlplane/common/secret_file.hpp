// SPDX-License-Identifier: BSD-3-Clause
// Files that hold secrets (SA keys, tokens): created 0600 and refused when
// group or others may read them, like ssh does with private keys. Contents
// never reach a log or an error message. Control path; throws SecretFileError.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace meshgw::common {

class SecretFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads a file of hex digits (whitespace and ':' ignored, optional 0x; '#'
// starts a comment line) and returns exactly expected_bytes bytes.
std::vector<std::uint8_t> read_hex_secret(const std::string& path, std::size_t expected_bytes);

// Reads a whole secret file (PEM key, token) of at most max_bytes, with the
// same mode checks. The caller wipes the result when done.
std::string read_secret_text(const std::string& path, std::size_t max_bytes);

// Writes text to a file with mode 0600, fsynced. replace = false refuses an
// existing file; true replaces it atomically (rename).
void write_secret_text(const std::string& path, const std::string& text, bool replace);

// Writes bytes as hex to a new file with mode 0600; refuses to overwrite.
void write_hex_secret(const std::string& path, const std::vector<std::uint8_t>& bytes,
                      const std::string& comment);

}  // namespace meshgw::common
