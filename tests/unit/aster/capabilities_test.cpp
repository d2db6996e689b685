// Aster adapter capabilities that depend on the configured accounts (no network: the adapter is
// constructed, never started).
#include <catch2/catch.hpp>

#include "adapters/api/clock.h"
#include "adapters/aster/adapter.h"
#include "adapters/aster/rest.h"

namespace perpgw::adapters::aster {
namespace {

AccountConfig V1(const std::string& id) {
  AccountConfig a;
  a.id = id;
  a.venue = "aster";
  a.credentials["api_key"] = Secret("key");
  a.credentials["api_secret"] = Secret("secret");
  return a;
}

AccountConfig V3(const std::string& id) {
  AccountConfig a;
  a.id = id;
  a.venue = "aster";
  a.options["auth_scheme"] = "v3";
  a.credentials["private_key"] =
      Secret("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  return a;
}

Capabilities CapsFor(std::vector<AccountConfig> accounts) {
  VenueConfig cfg;
  cfg.name = "aster";
  cfg.rest_url = "http://127.0.0.1:1";
  cfg.ws_url = "ws://127.0.0.1:1";
  cfg.accounts = std::move(accounts);
  SystemClock clock;
  return MakeAdapter(cfg, clock)->capabilities();
}

TEST_CASE("auth scheme as configured: auth_scheme, else a private key means V3",
          "[aster][amend]") {
  CHECK(SchemeOf(V1("a")) == AuthScheme::kV1);
  CHECK(SchemeOf(V3("b")) == AuthScheme::kV3);
  AccountConfig implicit = V3("c");
  implicit.options.clear();
  CHECK(SchemeOf(implicit) == AuthScheme::kV3);
  AccountConfig forced = V3("d");
  forced.options["auth_scheme"] = "v1";
  CHECK(SchemeOf(forced) == AuthScheme::kV1);
}

// PUT /fapi/v3/order exists for V3 accounts only (aster.md §9): native amend needs every
// account to be V3, else the gateway cancel-replaces.
TEST_CASE("native amend only when every account signs V3", "[aster][amend]") {
  CHECK(CapsFor({V3("v3")}).native_amend);
  CHECK(!CapsFor({V1("v1")}).native_amend);
  CHECK(!CapsFor({V3("v3"), V1("v1")}).native_amend);
  CHECK(!CapsFor({}).native_amend);  // no trading at all
}

}  // namespace
}  // namespace perpgw::adapters::aster
