// Bearer tokens: missing/unknown → UNAUTHENTICATED, scope missing → PERMISSION_DENIED.
#include <catch2/catch.hpp>

#include "gateway/auth.h"

using namespace perpgw::gateway;

TEST_CASE("auth scopes", "[auth]") {
  std::vector<TokenConfig> tokens;
  tokens.push_back({"reader", perpgw::Secret("r-token"), {"read"}});
  tokens.push_back({"trader", perpgw::Secret("t-token"), {"trade:acc1"}});
  tokens.push_back({"ops", perpgw::Secret("o-token"), {"trade:*"}});
  Authenticator a(tokens);
  REQUIRE(a.enabled());
  CHECK(a.CheckRead("").code() == absl::StatusCode::kUnauthenticated);
  CHECK(a.CheckRead("r-token").code() == absl::StatusCode::kUnauthenticated);
  CHECK(a.CheckRead("Bearer nope").code() == absl::StatusCode::kUnauthenticated);
  CHECK(a.CheckRead("Bearer r-token").ok());
  CHECK(a.CheckRead("Bearer t-token").ok());
  CHECK(a.CheckTrade("Bearer r-token", "acc1").code() == absl::StatusCode::kPermissionDenied);
  CHECK(a.CheckTrade("Bearer t-token", "acc1").ok());
  CHECK(a.CheckTrade("Bearer t-token", "acc2").code() == absl::StatusCode::kPermissionDenied);
  CHECK(a.CheckTrade("Bearer o-token", "acc2").ok());
  // Errors never echo the presented token.
  auto st = a.CheckRead("Bearer super-secret-guess");
  CHECK(std::string(st.message()).find("super-secret-guess") == std::string::npos);
  Authenticator open({});
  CHECK(open.CheckTrade("", "x").ok());
}
