// Tests for URL parsing, percent-encoding and the query builder.
#include <catch2/catch.hpp>

#include "adapters/common/url.h"

using perpgw::common::ParseUrl;
using perpgw::common::PercentEncode;
using perpgw::common::QueryBuilder;

TEST_CASE("ParseUrl: schemes, default ports, targets") {
  auto u = ParseUrl("wss://fstream.asterdex.com/ws?x=1");
  REQUIRE(u.ok());
  CHECK(u->scheme == "wss");
  CHECK(u->host == "fstream.asterdex.com");
  CHECK(u->port == 443);
  CHECK(u->tls);
  CHECK(u->target == "/ws?x=1");
  CHECK(u->HostHeader() == "fstream.asterdex.com");

  u = ParseUrl("HTTP://Example.COM:8080");
  REQUIRE(u.ok());
  CHECK(u->scheme == "http");
  CHECK(u->host == "example.com");
  CHECK(u->port == 8080);
  CHECK_FALSE(u->tls);
  CHECK(u->target == "/");
  CHECK(u->HostHeader() == "example.com:8080");
  CHECK(u->ToString() == "http://example.com:8080/");

  u = ParseUrl("ws://127.0.0.1:9000?stream=a#frag");
  REQUIRE(u.ok());
  CHECK(u->port == 9000);
  CHECK(u->target == "/?stream=a");

  u = ParseUrl("https://[::1]:8443/api/v1");
  REQUIRE(u.ok());
  CHECK(u->host == "::1");
  CHECK(u->port == 8443);
  CHECK(u->HostHeader() == "[::1]:8443");

  u = ParseUrl("ws://h");
  REQUIRE(u.ok());
  CHECK(u->port == 80);
}

TEST_CASE("ParseUrl: rejects bad input") {
  for (const char* bad : {"", "example.com", "ftp://x", "https://", "https://:443/",
                          "https://h:0", "https://h:65536", "https://h:12x", "https://h:",
                          "https://user:pw@h/", "https://[::1/", "https://h/a b"}) {
    INFO(bad);
    CHECK_FALSE(ParseUrl(bad).ok());
  }
}

TEST_CASE("IsIpLiteral") {
  using perpgw::common::IsIpLiteral;
  CHECK(IsIpLiteral("127.0.0.1"));
  CHECK(IsIpLiteral("::1"));
  CHECK_FALSE(IsIpLiteral("localhost"));
  CHECK_FALSE(IsIpLiteral("1.2.3"));
  CHECK_FALSE(IsIpLiteral("256.1.1.1"));
  CHECK_FALSE(IsIpLiteral("1.2.3.4.example.com"));
}

TEST_CASE("PercentEncode uses the RFC 3986 unreserved set") {
  CHECK(PercentEncode("AZaz09-._~") == "AZaz09-._~");
  CHECK(PercentEncode("a b+c/d?e=f&g") == "a%20b%2Bc%2Fd%3Fe%3Df%26g");
  CHECK(PercentEncode("\xE2\x82\xAC") == "%E2%82%AC");
  CHECK(PercentEncode(std::string("\0", 1)) == "%00");
  CHECK(PercentEncode("") == "");
}

TEST_CASE("QueryBuilder keeps insertion order and encodes") {
  QueryBuilder q;
  CHECK(q.empty());
  CHECK(q.BuildTarget("/fapi/v1/order") == "/fapi/v1/order");
  q.Add("symbol", "BTCUSDT").Add("side", "BUY").Add("quantity", "0.001").Add("timestamp",
                                                                            int64_t{1700000000000});
  q.Add("note", "a b&c");
  q.AddRaw("signature", "ab%2F");
  CHECK(q.size() == 6);
  CHECK(q.Build() ==
        "symbol=BTCUSDT&side=BUY&quantity=0.001&timestamp=1700000000000&note=a%20b%26c&"
        "signature=ab%2F");
  CHECK(q.BuildTarget("/x") == "/x?" + q.Build());
}
