// SPDX-License-Identifier: BSD-3-Clause
// AES-256-GCM with two interchangeable backends: intel-ipsec-mb (fast path,
// the code path for the best instruction set the CPU has, chosen once) and
// OpenSSL EVP (reference and fallback). Both produce the same bytes.
//
// Threads: an Aes256Gcm key is immutable after construction except for the
// OpenSSL backend's cipher context, so a key is used by one thread at a time
// (the data plane keeps inbound SAs on one worker; see DESIGN.md). Each thread
// that seals or opens owns one CryptoWorkspace.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <intel-ipsec-mb.h>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace meshgw::crypto {

inline constexpr std::size_t kGcmKeyBytes = 32;
inline constexpr std::size_t kGcmNonceBytes = 12;
inline constexpr std::size_t kGcmTagBytes = 16;

enum class Backend : std::uint8_t { ipsec_mb, openssl };

std::string_view to_string(Backend backend) noexcept;
// Accepts "ipsec-mb"/"ipsec_mb" and "openssl"; nullopt for anything else.
std::optional<Backend> backend_from_string(std::string_view name) noexcept;

// Per-thread state for the fast path: one IMB_MGR, initialised for the best
// architecture ipsec-mb supports on this CPU. Create on the thread (lcore) that
// uses it; construction allocates and may throw std::runtime_error.
class CryptoWorkspace {
 public:
  CryptoWorkspace();
  ~CryptoWorkspace();
  CryptoWorkspace(const CryptoWorkspace&) = delete;
  CryptoWorkspace& operator=(const CryptoWorkspace&) = delete;

  IMB_MGR* imb() const noexcept { return mgr_; }
  // "sse", "avx", "avx2", "avx512": what ipsec-mb picked for this CPU.
  std::string_view imb_arch() const noexcept;

 private:
  IMB_MGR* mgr_ = nullptr;
  IMB_ARCH arch_ = IMB_ARCH_NONE;
};

// One AES-256-GCM key bound to a backend, with its key schedule (AES round
// keys and GHASH powers) computed once at construction (control path; throws
// std::runtime_error if the backend cannot be initialised).
class Aes256Gcm {
 public:
  Aes256Gcm(Backend backend, std::span<const std::uint8_t, kGcmKeyBytes> key,
            const CryptoWorkspace& workspace);
  ~Aes256Gcm();
  Aes256Gcm(const Aes256Gcm&) = delete;
  Aes256Gcm& operator=(const Aes256Gcm&) = delete;

  Backend backend() const noexcept { return backend_; }

  // GCM with an IV of any length >= 1 byte (J0 from GHASH when it is not 12
  // bytes, as in SP 800-38D). Not for ESP, which always uses 12-byte nonces;
  // here so the backends can be checked against every published vector.
  bool seal_any_iv(CryptoWorkspace& ws, const std::uint8_t* iv, std::size_t iv_len,
                   const std::uint8_t* aad, std::size_t aad_len, const std::uint8_t* in,
                   std::uint8_t* out, std::size_t len, std::uint8_t* tag) noexcept;
  bool open_any_iv(CryptoWorkspace& ws, const std::uint8_t* iv, std::size_t iv_len,
                   const std::uint8_t* aad, std::size_t aad_len, const std::uint8_t* in,
                   std::uint8_t* out, std::size_t len, const std::uint8_t* tag) noexcept;

  // Encrypts len bytes from in to out (in == out allowed) and writes the
  // 16-byte tag. Hot path: no allocation, no locks, no exceptions.
  // Returns false only if the backend reports an error (never for ipsec-mb).
  bool seal(CryptoWorkspace& ws, const std::uint8_t* nonce, const std::uint8_t* aad,
            std::size_t aad_len, const std::uint8_t* in, std::uint8_t* out, std::size_t len,
            std::uint8_t* tag) noexcept;

  // Decrypts and verifies. The tag is compared in constant time. On failure
  // returns false and out holds unauthenticated plaintext that the caller must
  // not use (ESP drops the packet).
  bool open(CryptoWorkspace& ws, const std::uint8_t* nonce, const std::uint8_t* aad,
            std::size_t aad_len, const std::uint8_t* in, std::uint8_t* out, std::size_t len,
            const std::uint8_t* tag) noexcept;

  // The same per backend, with no branch: ESP picks one once per SA.
  void seal_ipsec_mb(CryptoWorkspace& ws, const std::uint8_t* nonce, const std::uint8_t* aad,
                     std::size_t aad_len, const std::uint8_t* in, std::uint8_t* out,
                     std::size_t len, std::uint8_t* tag) noexcept;
  bool open_ipsec_mb(CryptoWorkspace& ws, const std::uint8_t* nonce, const std::uint8_t* aad,
                     std::size_t aad_len, const std::uint8_t* in, std::uint8_t* out,
                     std::size_t len, const std::uint8_t* tag) noexcept;
  bool seal_openssl(const std::uint8_t* nonce, const std::uint8_t* aad, std::size_t aad_len,
                    const std::uint8_t* in, std::uint8_t* out, std::size_t len,
                    std::uint8_t* tag) noexcept;
  bool open_openssl(const std::uint8_t* nonce, const std::uint8_t* aad, std::size_t aad_len,
                    const std::uint8_t* in, std::uint8_t* out, std::size_t len,
                    const std::uint8_t* tag) noexcept;

 private:
  alignas(64) gcm_key_data imb_key_;
  EVP_CIPHER_CTX* evp_enc_ = nullptr;
  EVP_CIPHER_CTX* evp_dec_ = nullptr;
  Backend backend_;
};

}  // namespace meshgw::crypto
