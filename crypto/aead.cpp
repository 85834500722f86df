// SPDX-License-Identifier: BSD-3-Clause
#include "aead.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>

namespace meshgw::crypto {

std::string_view to_string(Backend backend) noexcept {
  return backend == Backend::ipsec_mb ? "ipsec-mb" : "openssl";
}

std::optional<Backend> backend_from_string(std::string_view name) noexcept {
  if (name == "ipsec-mb" || name == "ipsec_mb") return Backend::ipsec_mb;
  if (name == "openssl") return Backend::openssl;
  return std::nullopt;
}

CryptoWorkspace::CryptoWorkspace() {
  mgr_ = alloc_mb_mgr(0);
  if (mgr_ == nullptr) throw std::runtime_error("ipsec-mb: alloc_mb_mgr failed");
  init_mb_mgr_auto(mgr_, &arch_);
  if (arch_ == IMB_ARCH_NONE || arch_ == IMB_ARCH_NOAESNI) {
    // No AES-NI: ipsec-mb would run its slow portable code; still correct.
    if (imb_get_errno(mgr_) != 0) {
      free_mb_mgr(mgr_);
      throw std::runtime_error("ipsec-mb: no usable architecture on this CPU");
    }
  }
}

CryptoWorkspace::~CryptoWorkspace() { free_mb_mgr(mgr_); }

std::string_view CryptoWorkspace::imb_arch() const noexcept {
  switch (arch_) {
    case IMB_ARCH_NOAESNI: return "noaesni";
    case IMB_ARCH_SSE: return "sse";
    case IMB_ARCH_AVX: return "avx";
    case IMB_ARCH_AVX2: return "avx2";
    case IMB_ARCH_AVX512: return "avx512";
    default: return "none";
  }
}

namespace {

EVP_CIPHER_CTX* make_evp(const std::uint8_t* key, bool encrypt) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) throw std::runtime_error("openssl: EVP_CIPHER_CTX_new failed");
  // The key schedule is set once here; per packet only the nonce is set.
  int ok = encrypt ? EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key, nullptr)
                   : EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key, nullptr);
  if (ok != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, int{kGcmNonceBytes}, nullptr) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    throw std::runtime_error("openssl: AES-256-GCM key setup failed");
  }
  return ctx;
}

bool evp_run(EVP_CIPHER_CTX* ctx, bool encrypt, const std::uint8_t* nonce,
             const std::uint8_t* aad, std::size_t aad_len, const std::uint8_t* in,
             std::uint8_t* out, std::size_t len, std::uint8_t* tag) noexcept {
  int n = 0;
  const bool init_ok = encrypt ? EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) == 1
                               : EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) == 1;
  if (!init_ok) return false;
  auto update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
  if (aad_len > 0 && update(ctx, nullptr, &n, aad, static_cast<int>(aad_len)) != 1) return false;
  if (len > 0 && update(ctx, out, &n, in, static_cast<int>(len)) != 1) return false;
  if (encrypt) {
    if (EVP_EncryptFinal_ex(ctx, out + len, &n) != 1) return false;
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, int{kGcmTagBytes}, tag) == 1;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, int{kGcmTagBytes}, tag) != 1) return false;
  // OpenSSL compares the tag in constant time inside DecryptFinal.
  return EVP_DecryptFinal_ex(ctx, out + len, &n) == 1;
}

}  // namespace

Aes256Gcm::Aes256Gcm(Backend backend, std::span<const std::uint8_t, kGcmKeyBytes> key,
                     const CryptoWorkspace& workspace)
    : backend_(backend) {
  std::memset(&imb_key_, 0, sizeof(imb_key_));
  if (backend_ == Backend::ipsec_mb) {
    IMB_AES256_GCM_PRE(workspace.imb(), key.data(), &imb_key_);
  } else {
    evp_enc_ = make_evp(key.data(), true);
    try {
      evp_dec_ = make_evp(key.data(), false);
    } catch (...) {
      EVP_CIPHER_CTX_free(evp_enc_);
      throw;
    }
  }
}

Aes256Gcm::~Aes256Gcm() {
  OPENSSL_cleanse(&imb_key_, sizeof(imb_key_));
  EVP_CIPHER_CTX_free(evp_enc_);
  EVP_CIPHER_CTX_free(evp_dec_);
}

void Aes256Gcm::seal_ipsec_mb(CryptoWorkspace& ws, const std::uint8_t* nonce,
                              const std::uint8_t* aad, std::size_t aad_len,
                              const std::uint8_t* in, std::uint8_t* out, std::size_t len,
                              std::uint8_t* tag) noexcept {
  gcm_context_data ctx;
  IMB_AES256_GCM_ENC(ws.imb(), &imb_key_, &ctx, out, in, len, nonce, aad, aad_len, tag,
                     kGcmTagBytes);
}

bool Aes256Gcm::open_ipsec_mb(CryptoWorkspace& ws, const std::uint8_t* nonce,
                              const std::uint8_t* aad, std::size_t aad_len,
                              const std::uint8_t* in, std::uint8_t* out, std::size_t len,
                              const std::uint8_t* tag) noexcept {
  gcm_context_data ctx;
  std::uint8_t computed[kGcmTagBytes];
  IMB_AES256_GCM_DEC(ws.imb(), &imb_key_, &ctx, out, in, len, nonce, aad, aad_len, computed,
                     kGcmTagBytes);
  return CRYPTO_memcmp(computed, tag, kGcmTagBytes) == 0;
}

bool Aes256Gcm::seal_openssl(const std::uint8_t* nonce, const std::uint8_t* aad,
                             std::size_t aad_len, const std::uint8_t* in, std::uint8_t* out,
                             std::size_t len, std::uint8_t* tag) noexcept {
  return evp_run(evp_enc_, true, nonce, aad, aad_len, in, out, len, tag);
}

bool Aes256Gcm::open_openssl(const std::uint8_t* nonce, const std::uint8_t* aad,
                             std::size_t aad_len, const std::uint8_t* in, std::uint8_t* out,
                             std::size_t len, const std::uint8_t* tag) noexcept {
  return evp_run(evp_dec_, false, nonce, aad, aad_len, in, out, len,
                 const_cast<std::uint8_t*>(tag));
}

bool Aes256Gcm::seal(CryptoWorkspace& ws, const std::uint8_t* nonce, const std::uint8_t* aad,
                     std::size_t aad_len, const std::uint8_t* in, std::uint8_t* out,
                     std::size_t len, std::uint8_t* tag) noexcept {
  if (backend_ == Backend::ipsec_mb) {
    seal_ipsec_mb(ws, nonce, aad, aad_len, in, out, len, tag);
    return true;
  }
  return seal_openssl(nonce, aad, aad_len, in, out, len, tag);
}

bool Aes256Gcm::open(CryptoWorkspace& ws, const std::uint8_t* nonce, const std::uint8_t* aad,
                     std::size_t aad_len, const std::uint8_t* in, std::uint8_t* out,
                     std::size_t len, const std::uint8_t* tag) noexcept {
  if (backend_ == Backend::ipsec_mb) return open_ipsec_mb(ws, nonce, aad, aad_len, in, out, len, tag);
  return open_openssl(nonce, aad, aad_len, in, out, len, tag);
}

namespace {

bool evp_any_iv(EVP_CIPHER_CTX* ctx, bool encrypt, const std::uint8_t* iv, std::size_t iv_len,
                const std::uint8_t* aad, std::size_t aad_len, const std::uint8_t* in,
                std::uint8_t* out, std::size_t len, std::uint8_t* tag) noexcept {
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv_len), nullptr) != 1)
    return false;
  const bool ok = evp_run(ctx, encrypt, iv, aad, aad_len, in, out, len, tag);
  // Back to the 12-byte nonce the per-packet path assumes.
  return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, int{kGcmNonceBytes}, nullptr) == 1 && ok;
}

}  // namespace

bool Aes256Gcm::seal_any_iv(CryptoWorkspace& ws, const std::uint8_t* iv, std::size_t iv_len,
                            const std::uint8_t* aad, std::size_t aad_len, const std::uint8_t* in,
                            std::uint8_t* out, std::size_t len, std::uint8_t* tag) noexcept {
  if (iv_len == 0) return false;
  if (backend_ == Backend::ipsec_mb) {
    gcm_context_data ctx;
    IMB_AES256_GCM_INIT_VAR_IV(ws.imb(), &imb_key_, &ctx, iv, iv_len, aad, aad_len);
    IMB_AES256_GCM_ENC_UPDATE(ws.imb(), &imb_key_, &ctx, out, in, len);
    IMB_AES256_GCM_ENC_FINALIZE(ws.imb(), &imb_key_, &ctx, tag, kGcmTagBytes);
    return true;
  }
  return evp_any_iv(evp_enc_, true, iv, iv_len, aad, aad_len, in, out, len, tag);
}

bool Aes256Gcm::open_any_iv(CryptoWorkspace& ws, const std::uint8_t* iv, std::size_t iv_len,
                            const std::uint8_t* aad, std::size_t aad_len, const std::uint8_t* in,
                            std::uint8_t* out, std::size_t len, const std::uint8_t* tag) noexcept {
  if (iv_len == 0) return false;
  if (backend_ == Backend::ipsec_mb) {
    gcm_context_data ctx;
    std::uint8_t computed[kGcmTagBytes];
    IMB_AES256_GCM_INIT_VAR_IV(ws.imb(), &imb_key_, &ctx, iv, iv_len, aad, aad_len);
    IMB_AES256_GCM_DEC_UPDATE(ws.imb(), &imb_key_, &ctx, out, in, len);
    IMB_AES256_GCM_DEC_FINALIZE(ws.imb(), &imb_key_, &ctx, computed, kGcmTagBytes);
    return CRYPTO_memcmp(computed, tag, kGcmTagBytes) == 0;
  }
  return evp_any_iv(evp_dec_, false, iv, iv_len, aad, aad_len, in, out, len,
                    const_cast<std::uint8_t*>(tag));
}

}  // namespace meshgw::crypto
