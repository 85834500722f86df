// SPDX-License-Identifier: BSD-3-Clause
// Bearer and join tokens: "<id>.<secret>", a 16-hex-digit public id (the
// storage key, safe to log) and a 64-hex-digit secret (32 random bytes) of
// which only the SHA-256 is stored; presented secrets are hashed and the
// hashes compared in constant time. Control path; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace meshgw::controller {

struct NewToken {
  std::string id;
  std::string secret_hash;
  std::string text;  // "<id>.<secret>": shown once to the operator, never stored or logged
};

NewToken make_token();

struct PresentedToken {
  std::string id;
  std::string secret;
};

// Splits "<id>.<secret>"; nullopt unless both parts have the right length and digits.
std::optional<PresentedToken> parse_token(std::string_view text) noexcept;

// SHA-256 of a secret, hex.
std::string hash_secret(std::string_view secret);

// Whether secret hashes to stored_hash, in time independent of where they differ.
bool secret_matches(std::string_view secret, std::string_view stored_hash) noexcept;

}  // namespace meshgw::controller
