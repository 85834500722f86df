// SPDX-License-Identifier: BSD-3-Clause
#include "records.hpp"

namespace meshgw::controller {

namespace {

template <class E, std::size_t N>
std::optional<E> from_names(const std::string_view (&names)[N], std::string_view name) noexcept {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == name) return static_cast<E>(i);
  return std::nullopt;
}

constexpr std::string_view kStatuses[] = {"registered", "up", "down", "revoked"};
constexpr std::string_view kTokenKinds[] = {"join", "admin", "read-only"};

}  // namespace

std::string_view to_string(GatewayStatus s) noexcept { return kStatuses[static_cast<std::size_t>(s)]; }
std::optional<GatewayStatus> status_from_string(std::string_view name) noexcept {
  return from_names<GatewayStatus>(kStatuses, name);
}
std::string_view to_string(TokenKind kind) noexcept { return kTokenKinds[static_cast<std::size_t>(kind)]; }
std::optional<TokenKind> token_kind_from_string(std::string_view name) noexcept {
  return from_names<TokenKind>(kTokenKinds, name);
}

}  // namespace meshgw::controller
