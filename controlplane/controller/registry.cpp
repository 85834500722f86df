// SPDX-License-Identifier: BSD-3-Clause
#include "registry.hpp"

#include <openssl/rand.h>

#include "tokens.hpp"

namespace meshgw::controller {

namespace pki = crypto::pki;
using Kind = RegistryError::Kind;

Registry::Registry(Storage& storage, const MeshCa& ca, RegistryOptions options)
    : storage_(storage), ca_(ca), options_(options) {}

CreatedToken Registry::create_token(const TokenRequest& req, std::int64_t now) {
  if (req.lifetime_s < 0) throw RegistryError(Kind::bad_request, "lifetime_s: must be >= 0 (0: never expires)");
  if (req.kind == TokenKind::join && (req.uses == 0 || req.uses < -1))
    throw RegistryError(Kind::bad_request, "uses: must be >= 1, or -1 for unlimited");
  const NewToken t = make_token();
  CreatedToken out;
  out.record.id = t.id;
  out.record.secret_hash = t.secret_hash;
  out.record.kind = req.kind;
  out.record.role = req.role;
  out.record.created_at = now;
  out.record.expires_at = req.lifetime_s == 0 ? 0 : now + req.lifetime_s;
  out.record.uses_left = req.kind == TokenKind::join ? req.uses : -1;
  out.record.ephemeral = req.ephemeral;
  out.record.site = req.site;
  out.record.region = req.region;
  out.record.description = req.description;
  storage_.put_token(out.record);
  out.text = t.text;
  return out;
}

namespace {

// One message for every way a token can fail, so a caller cannot probe which
// ids exist; the log (by the caller) says which.
constexpr const char* kBadToken = "token not valid";

bool expired(const TokenRecord& t, std::int64_t now) { return t.expires_at != 0 && now >= t.expires_at; }

}  // namespace

std::optional<TokenRecord> Registry::authenticate(const std::string& bearer, std::int64_t now) {
  const auto presented = parse_token(bearer);
  if (!presented) return std::nullopt;
  auto t = storage_.token(presented->id);
  if (!t || t->kind == TokenKind::join || expired(*t, now) || !secret_matches(presented->secret, t->secret_hash))
    return std::nullopt;
  return t;
}

std::vector<TokenRecord> Registry::tokens() { return storage_.tokens(); }

void Registry::delete_token(const std::string& id) {
  if (!storage_.token(id)) throw RegistryError(Kind::not_found, "no token " + id);
  storage_.delete_token(id);
}

Registration Registry::register_gateway(const std::string& join_token, const std::string& csr_pem,
                                        std::optional<Role> requested_role, std::int64_t now) {
  const auto presented = parse_token(join_token);
  if (!presented) throw RegistryError(Kind::unauthorized, kBadToken);
  const auto token = storage_.token(presented->id);
  if (!token || token->kind != TokenKind::join || !secret_matches(presented->secret, token->secret_hash))
    throw RegistryError(Kind::unauthorized, kBadToken);
  if (expired(*token, now)) throw RegistryError(Kind::unauthorized, "token expired");
  if (token->uses_left == 0) throw RegistryError(Kind::unauthorized, "token has no use left");
  if (requested_role && *requested_role != token->role)
    throw RegistryError(Kind::forbidden, "role " + std::string(to_string(*requested_role)) +
                                             " needs a " + std::string(to_string(*requested_role)) +
                                             " join token; this one admits " + std::string(to_string(token->role)));
  pki::CsrInfo csr;
  try {
    csr = pki::inspect_csr(csr_pem);
  } catch (const pki::PkiError& e) {
    throw RegistryError(Kind::bad_request, std::string("csr: ") + e.what());
  }
  GatewayRecord gw;
  gw.id = "gw-" + std::to_string(storage_.next_counter("gateway_id"));
  gw.role = token->role;
  gw.status = GatewayStatus::registered;
  gw.ephemeral = token->ephemeral;
  gw.site = token->site;
  gw.region = token->region;
  gw.beacon_key.resize(32);
  if (RAND_bytes(gw.beacon_key.data(), 32) != 1) throw std::runtime_error("no randomness for a beacon key");
  gw.registered_at = now;
  gw.status_since = now;
  Registration out;
  out.certificate_pem = ca_.issue_gateway(csr.public_key_pem, gw.id, std::string(to_string(gw.role)), now,
                                          options_.cert_lifetime_s);
  const pki::CertificateInfo info = pki::inspect_certificate(out.certificate_pem);
  gw.cert_serial = info.serial_hex;
  gw.public_key_sha256 = info.public_key_sha256_hex;
  gw.cert_not_after = info.not_after;
  try {
    out.event = storage_.register_gateway(token->id, gw,
                                          {0, now * 1000, "joined", gw.id, std::string(to_string(gw.role))});
  } catch (const ConflictError&) {
    throw RegistryError(Kind::unauthorized, "token has no use left");  // lost a race for its last use
  }
  out.gateway = std::move(gw);
  out.ca_pem = ca_.ca_pem();
  return out;
}

Registration Registry::renew(const std::string& gateway_id, const std::string& csr_pem, std::int64_t now) {
  auto gw = storage_.gateway(gateway_id);
  if (!gw) throw RegistryError(Kind::not_found, "no gateway " + gateway_id);
  if (gw->status == GatewayStatus::revoked) throw RegistryError(Kind::forbidden, "gateway " + gateway_id + " is revoked");
  pki::CsrInfo csr;
  try {
    csr = pki::inspect_csr(csr_pem);
  } catch (const pki::PkiError& e) {
    throw RegistryError(Kind::bad_request, std::string("csr: ") + e.what());
  }
  Registration out;
  out.certificate_pem =
      ca_.issue_gateway(csr.public_key_pem, gw->id, std::string(to_string(gw->role)), now, options_.cert_lifetime_s);
  const pki::CertificateInfo info = pki::inspect_certificate(out.certificate_pem);
  gw->cert_serial = info.serial_hex;
  gw->public_key_sha256 = info.public_key_sha256_hex;
  gw->cert_not_after = info.not_after;
  out.event = storage_.put_gateway_with_event(*gw, {0, now * 1000, "renewed", gw->id, info.serial_hex});
  out.gateway = std::move(*gw);
  out.ca_pem = ca_.ca_pem();
  return out;
}

EventRecord Registry::revoke(const std::string& gateway_id, std::int64_t now) {
  auto gw = storage_.gateway(gateway_id);
  if (!gw) throw RegistryError(Kind::not_found, "no gateway " + gateway_id);
  if (gw->status == GatewayStatus::revoked) throw RegistryError(Kind::conflict, "gateway " + gateway_id + " is already revoked");
  gw->status = GatewayStatus::revoked;
  gw->status_since = now;
  return storage_.put_gateway_with_event(*gw, {0, now * 1000, "revoked", gw->id, gw->cert_serial});
}

EventRecord Registry::evict(const std::string& gateway_id, std::int64_t now, const std::string& why) {
  if (!storage_.gateway(gateway_id)) throw RegistryError(Kind::not_found, "no gateway " + gateway_id);
  return storage_.delete_gateway_with_event(gateway_id, {0, now * 1000, "left", gateway_id, why});
}

}  // namespace meshgw::controller
