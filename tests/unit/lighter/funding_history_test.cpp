// Lighter settled funding history (codec_funding.h): GET /fundings rows -> normalized Funding,
// the requests that page it, and malformed answers refused. No recorded /fundings payload
// exists: the bodies follow lighter.md §3's field list (timestamp s, rate in percent, direction,
// value), in the shape the sim serves.
#include <catch2/catch.hpp>

#include <string>

#include "adapters/lighter/codec.h"
#include "adapters/lighter/codec_funding.h"

namespace perpgw::adapters::lighter {
namespace {

Decimal D(const char* s) {
  return *Decimal::Parse(s);
}

constexpr int64_t kS = 1'000'000'000;

TEST_CASE("lighter fundings: rows -> hourly Funding, oldest first, signed by direction",
          "[lighter]") {
  const std::string body = R"({"code":200,"resolution":"1h","fundings":[
    {"timestamp":1760004000,"value":"0.0166","rate":"0.0005","direction":"short"},
    {"timestamp":1760000400,"value":"0.0333","rate":"0.0012","direction":"long"},
    {"timestamp":1760007600,"value":"0","rate":"0","direction":"long"}]})";
  auto rows = ParseFundings(body, "ETH");
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 3);
  const Funding& a = (*rows)[0];
  CHECK(a.venue == "lighter");
  CHECK(a.symbol == "ETH");
  CHECK(a.as_of == 1760000400 * kS);  // the settlement hour
  CHECK(a.rate == D("0.000012"));     // 0.0012 % -> 0.000012, longs paid: positive
  CHECK(a.interval_hours == D("1"));
  CHECK(a.rate_1h == D("0.000012"));
  CHECK(a.rate_8h == D("0.000096"));
  CHECK(a.apr == D("0.10512"));
  CHECK(a.next_funding_time == 0);
  CHECK_FALSE(a.mark_price.has_value());  // rows carry no mark
  CHECK((*rows)[1].as_of == 1760004000 * kS);
  CHECK((*rows)[1].rate == D("-0.000005"));  // shorts paid
  CHECK((*rows)[1].rate_8h == D("-0.00004"));
  CHECK((*rows)[2].rate.IsZero());

  // The interval is the live path's (BuildFunding): one constant for both.
  FundingRateRow live;
  live.market_index = 0;
  live.rate = D("0.00008");
  auto f = BuildFunding(live, nullptr, "ETH", false, 1760000123 * kS);
  REQUIRE(f.ok());
  CHECK(f->interval_hours == a.interval_hours);

  // A negative rate is taken with direction short, or alone; an empty list is no rows.
  auto neg = ParseFundings(
      R"({"code":200,"fundings":[{"timestamp":1760000400,"rate":"-0.01","direction":"short"},
          {"timestamp":1760004000,"rate":"-0.02"}]})",
      "BTC");
  REQUIRE(neg.ok());
  CHECK((*neg)[0].rate == D("-0.0001"));
  CHECK((*neg)[1].rate == D("-0.0002"));
  auto none = ParseFundings(R"({"code":200,"resolution":"1h","fundings":[]})", "BTC");
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("lighter fundings: malformed answers are refused", "[lighter]") {
  const char* bad[] = {
      // no timestamp / a timestamp that is not a number / no rate / a rate that is not one
      R"({"code":200,"fundings":[{"rate":"0.001","direction":"long"}]})",
      R"({"code":200,"fundings":[{"timestamp":"soon","rate":"0.001","direction":"long"}]})",
      R"({"code":200,"fundings":[{"timestamp":1760000400,"direction":"long"}]})",
      R"({"code":200,"fundings":[{"timestamp":1760000400,"rate":"1%","direction":"long"}]})",
      // an unknown direction, a negative rate that says longs paid, a bad value
      R"({"code":200,"fundings":[{"timestamp":1760000400,"rate":"0.001","direction":"up"}]})",
      R"({"code":200,"fundings":[{"timestamp":1760000400,"rate":"-0.001","direction":"long"}]})",
      R"({"code":200,"fundings":[{"timestamp":1760000400,"rate":"0.001","value":"x"}]})",
      // a row that is not an object, no fundings at all, a daily resolution, a venue error,
      // truncated JSON
      R"({"code":200,"fundings":[1760000400]})",
      R"({"code":200})",
      R"({"code":200,"resolution":"1d","fundings":[]})",
      R"({"code":20001,"message":"invalid param"})",
      R"({"code":200,"fundings":[{"timestamp":1760000400,"rate":"0.0)",
  };
  for (const char* b : bad) {
    INFO(b);
    auto r = ParseFundings(b, "ETH");
    CHECK_FALSE(r.ok());
  }
  auto one_bad = ParseFundings(
      R"({"code":200,"fundings":[{"timestamp":1760000400,"rate":"0.001","direction":"long"},
          {"timestamp":1760004000,"rate":"0.001","direction":"sideways"}]})",
      "ETH");
  REQUIRE_FALSE(one_bad.ok());
  CHECK(std::string(one_bad.status().message()).find("sideways") != std::string::npos);
}

TEST_CASE("lighter fundings: requests and paging back", "[lighter]") {
  const UnixNanos now = 1760010000 * kS + 123;
  FundingHistoryQuery q{"ETH", 0, 0, 5};
  FundingsRequest r = FirstFundingsRequest(3, q, now);
  CHECK(EncodeFundingsQuery(r) ==
        "market_id=3&resolution=1h&start_timestamp=0&end_timestamp=1760010000&count_back=5");
  // [from, to] inside whole seconds; count_back at most 750.
  q = {"ETH", 1760000000 * kS + 1, 1760009999 * kS + 999, 1000};
  r = FirstFundingsRequest(3, q, now);
  CHECK(r.start_s == 1760000001);
  CHECK(r.end_s == 1760009999);
  CHECK(r.count_back == 750);

  auto hours = [](int64_t first_s, int n) {
    std::vector<Funding> v(n);
    for (int i = 0; i < n; ++i) v[i].as_of = (first_s + 3600 * i) * kS;
    return v;
  };
  // A full page short of the limit: the rows before its oldest, the rest of the limit.
  r.start_s = 0;
  auto next = NextFundingsRequest(r, hours(1000000000, 750), 750, 1000);
  REQUIRE(next.has_value());
  CHECK(next->end_s == 999999999);
  CHECK(next->start_s == r.start_s);
  CHECK(next->count_back == 250);
  // Done: a page not full (range exhausted), the limit covered, the range start reached.
  CHECK_FALSE(NextFundingsRequest(r, hours(1000000000, 749), 749, 1000).has_value());
  CHECK_FALSE(NextFundingsRequest(*next, hours(990000000, 250), 1000, 1000).has_value());
  FundingsRequest at_start = r;
  at_start.start_s = 1000000000;
  CHECK_FALSE(NextFundingsRequest(at_start, hours(1000000000, 750), 750, 1000).has_value());
}

}  // namespace
}  // namespace perpgw::adapters::lighter
