// Token lookup in constant time per candidate; messages never echo the presented token.
#include "gateway/auth.h"

#include <openssl/crypto.h>

namespace perpgw::gateway {

Authenticator::Authenticator(const std::vector<TokenConfig>& tokens) {
  for (const auto& t : tokens) entries_.push_back({t.name, t.token, t.scopes});
}

const Authenticator::Entry* Authenticator::Find(const std::string& authorization,
                                                absl::Status* err) const {
  static const std::string kPrefix = "Bearer ";
  if (authorization.empty()) {
    *err = absl::UnauthenticatedError("missing authorization metadata (Bearer token)");
    return nullptr;
  }
  if (authorization.size() <= kPrefix.size() ||
      authorization.compare(0, kPrefix.size(), kPrefix) != 0) {
    *err = absl::UnauthenticatedError("authorization must be 'Bearer <token>'");
    return nullptr;
  }
  const char* presented = authorization.data() + kPrefix.size();
  const size_t n = authorization.size() - kPrefix.size();
  const Entry* match = nullptr;
  for (const auto& e : entries_) {
    const std::string& t = e.token.Reveal();
    if (t.size() == n && CRYPTO_memcmp(t.data(), presented, n) == 0) match = &e;
  }
  if (!match) *err = absl::UnauthenticatedError("unknown token");
  return match;
}

std::string Authenticator::Identity(const std::string& authorization) const {
  if (!enabled()) return "";
  absl::Status err;
  const Entry* e = Find(authorization, &err);
  return e ? e->name : "";
}

absl::Status Authenticator::CheckRead(const std::string& authorization) const {
  if (!enabled()) return absl::OkStatus();
  absl::Status err;
  const Entry* e = Find(authorization, &err);
  if (!e) return err;
  for (const auto& s : e->scopes) {
    // Trading implies reading the market data it trades on.
    if (s == "read" || s == "admin" || s.rfind("trade:", 0) == 0) return absl::OkStatus();
  }
  return absl::PermissionDeniedError("token '" + e->name + "' lacks scope read");
}

absl::Status Authenticator::CheckTrade(const std::string& authorization,
                                       const std::string& account) const {
  if (!enabled()) return absl::OkStatus();
  absl::Status err;
  const Entry* e = Find(authorization, &err);
  if (!e) return err;
  for (const auto& s : e->scopes) {
    if (s == "admin" || s == "trade:*" || s == "trade:" + account) return absl::OkStatus();
  }
  return absl::PermissionDeniedError("token '" + e->name + "' lacks scope trade:" + account);
}

absl::Status Authenticator::CheckAdmin(const std::string& authorization) const {
  if (!enabled()) return absl::OkStatus();
  absl::Status err;
  const Entry* e = Find(authorization, &err);
  if (!e) return err;
  for (const auto& s : e->scopes) {
    if (s == "admin") return absl::OkStatus();
  }
  return absl::PermissionDeniedError("token '" + e->name + "' lacks scope admin");
}

}  // namespace perpgw::gateway
