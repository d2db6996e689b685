// Bearer-token authentication with scopes: read, trade:<account>, trade:*, admin.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gateway/config.h"

namespace perpgw::gateway {

class Authenticator {
 public:
  explicit Authenticator(const std::vector<TokenConfig>& tokens);

  bool enabled() const { return !entries_.empty(); }
  // `authorization` is the raw metadata value ("Bearer <token>"); empty when absent.
  // OK, UNAUTHENTICATED (missing/unknown token) or PERMISSION_DENIED (scope missing).
  absl::Status CheckRead(const std::string& authorization) const;
  absl::Status CheckTrade(const std::string& authorization, const std::string& account) const;
  // The admin scope (risk limits, kill switch). OK when auth is off (loopback only).
  absl::Status CheckAdmin(const std::string& authorization) const;
  // The presented token's name, "" when auth is off or the token is unknown (use after a
  // successful check).
  std::string Identity(const std::string& authorization) const;

 private:
  struct Entry {
    std::string name;
    Secret token;
    std::vector<std::string> scopes;
  };
  const Entry* Find(const std::string& authorization, absl::Status* err) const;
  std::vector<Entry> entries_;
};

}  // namespace perpgw::gateway
