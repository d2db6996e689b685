// Lighter settled funding history: GET /api/v1/fundings (lighter.md §3) -> normalized Funding
// rows, and the requests that page it. Pure: no I/O, no clock (`now` is a parameter), no
// logging; malformed input -> error Status. Header-only: the pure library's source list
// (adapters/lighter/CMakeLists.txt) is not this file's to change.
//
// Wire (lighter.md §3, third-party notes, the sim agrees):
//   GET /fundings?market_id=&resolution=1h&start_timestamp=&end_timestamp=&count_back=
//   -> {"code":200,"resolution":"1h","fundings":[{"timestamp":s,"value":"..","rate":"..",
//      "direction":"long"|"short"}, ...]}
// `timestamp` is the settlement hour (s), `rate` the hour's rate in PERCENT (unsigned in every
// example), `direction` the side that paid (long = positive funding), `value` the payment per
// unit of base. At most ~750 rows a call.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/api/decimal.h"
#include "adapters/api/types.h"
#include "adapters/api/venue.h"
#include "adapters/lighter/symbols.h"
#include "adapters/wire/cat.h"
#include "adapters/wire/json_reader.h"

namespace perpgw::adapters::lighter {

// Lighter settles funding every hour on the hour (lighter.md §3): the interval of live funding
// (BuildFunding) and of the settled history alike. The venue option funding_rate_hours only
// says how to read funding-rates' bare `rate` (live path); /fundings rows are per settlement.
inline constexpr int64_t kFundingIntervalHours = 1;
// The most rows one GET /fundings answers (lighter.md §3: ~750 [3p]; the sim: 1..750).
inline constexpr int kMaxFundingsPerCall = 750;

// One GET /fundings request (times in seconds, inclusive).
struct FundingsRequest {
  int64_t market_index = -1;
  int64_t start_s = 0, end_s = 0;
  int count_back = kMaxFundingsPerCall;
};

// The first request of a ListFundingHistory read: [from, to] in whole seconds inside the range
// (from rounded up, to down), `now` as the end when the query has none, count_back = the
// query's limit (1..750). The endpoint requires every parameter (docs), so all are sent.
inline FundingsRequest FirstFundingsRequest(int64_t market_index, const FundingHistoryQuery& q,
                                            UnixNanos now) {
  constexpr int64_t kS = wire::kNanosPerSecond;
  FundingsRequest r;
  r.market_index = market_index;
  r.start_s = q.from > 0 ? (q.from + kS - 1) / kS : 0;
  r.end_s = (q.to > 0 ? q.to : now) / kS;
  r.count_back = std::clamp(q.limit, 1, kMaxFundingsPerCall);
  return r;
}

inline std::string EncodeFundingsQuery(const FundingsRequest& r) {
  return wire::Cat("market_id=", std::to_string(r.market_index),
                   "&resolution=1h&start_timestamp=", std::to_string(r.start_s),
                   "&end_timestamp=", std::to_string(r.end_s),
                   "&count_back=", std::to_string(r.count_back));
}

// After a page (`page`, oldest first, `have` rows gathered so far): the request for the rows
// just before it, or nullopt when the read is complete — the page was not full (the range is
// exhausted), the query's limit is covered, or the range starts at the page's oldest row.
// count_back keeps the latest rows of [start, end] (sim; the docs' wording is unclear on which
// end count_back counts from — this reading pages backwards from the newest).
inline std::optional<FundingsRequest> NextFundingsRequest(const FundingsRequest& r,
                                                          const std::vector<Funding>& page,
                                                          size_t have, int limit) {
  if (page.size() < static_cast<size_t>(r.count_back)) return std::nullopt;
  if (have >= static_cast<size_t>(std::max(limit, 1))) return std::nullopt;
  const int64_t oldest_s = page.front().as_of / wire::kNanosPerSecond;
  if (oldest_s <= r.start_s) return std::nullopt;
  FundingsRequest next = r;
  next.end_s = oldest_s - 1;
  next.count_back =
      std::clamp(static_cast<int>(limit - static_cast<int>(have)), 1, kMaxFundingsPerCall);
  return next;
}

namespace funding_detail {

inline absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(wire::Cat("lighter fundings: ", what));
}

// One row -> Funding (rate = percent / 100, signed by `direction`).
inline absl::StatusOr<Funding> ReadRow(simdjson::ondemand::value& v, std::string_view ticker) {
  constexpr wire::Where kW{"lighter", "fundings"};
  simdjson::ondemand::object o;
  PERPGW_JSON_TRY(v.get_object().get(o), kW);
  wire::Fields f{"timestamp", "rate", "direction", "value"};
  PERPGW_RETURN_IF_ERROR(f.Read(o, kW));
  Funding out;
  out.venue = std::string(kVenueName);
  out.symbol = std::string(ticker);
  PERPGW_RETURN_IF_ERROR(f.GetTime("timestamp", wire::kNanosPerSecond, &out.as_of));
  if (out.as_of <= 0) return Bad("row without a settlement time");
  Decimal percent;
  PERPGW_RETURN_IF_ERROR(f.Get("rate", &percent));
  Decimal value;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("value", &value));  // checked, not used (no mark in rows)
  PERPGW_ASSIGN_OR_RETURN(Decimal rate, Decimal::Div(percent, Decimal::FromInt(100),
                                                     Decimal::kMaxScale, Rounding::kHalfEven));
  // `direction` signs the unsigned rate; a signed rate must agree with it. Without a direction
  // the rate's own sign stands (no example lacks it; lenient reading).
  std::string direction;
  PERPGW_RETURN_IF_ERROR(f.GetOpt("direction", &direction));
  if (direction == "short") {
    rate = rate.Abs().Negated();
  } else if (direction == "long") {
    if (rate.IsNegative()) return Bad("negative rate with direction long");
  } else if (!direction.empty()) {
    return Bad(
        wire::Cat("direction '", std::string_view(direction).substr(0, 32), "' (long or short)"));
  }
  out.rate = rate.Normalized();
  out.interval_hours = Decimal::FromInt(kFundingIntervalHours);
  PERPGW_RETURN_IF_ERROR(NormalizeFunding(&out));
  return out;
}

}  // namespace funding_detail

// GET /fundings answer -> ListFundingHistory rows of `ticker`, oldest first (venue = "lighter";
// the adapter sets its configured name). Errors: a code other than 200, a resolution other than
// the 1h asked, no `fundings`, any malformed row (the whole answer is refused).
inline absl::StatusOr<std::vector<Funding>> ParseFundings(std::string_view body,
                                                          std::string_view ticker) {
  namespace od = simdjson::ondemand;
  constexpr wire::Where kW{"lighter", "fundings"};
  wire::JsonParser& parser = wire::JsonParser::ThreadLocal();
  od::document doc;
  PERPGW_RETURN_IF_ERROR(parser.Start(body, kW, &doc));
  od::object obj;
  PERPGW_RETURN_IF_ERROR(wire::RootObject(doc, kW, &obj));
  std::vector<Funding> out;
  bool seen = false;
  wire::Fields top{"code", "message", "resolution"};
  PERPGW_RETURN_IF_ERROR(top.Read(obj, kW, [&](std::string_view key, od::value& v) -> absl::Status {
    if (key != "fundings") return absl::OkStatus();
    seen = true;
    od::json_type t;
    PERPGW_JSON_TRY(v.type().get(t), kW);
    if (t == od::json_type::null) return absl::OkStatus();  // no rows
    return wire::ForEachInArray(v, kW, [&](od::value& row) -> absl::Status {
      PERPGW_ASSIGN_OR_RETURN(Funding f, funding_detail::ReadRow(row, ticker));
      out.push_back(std::move(f));
      return absl::OkStatus();
    });
  }));
  int64_t code = 200;
  PERPGW_RETURN_IF_ERROR(top.GetOpt("code", &code));
  if (code != 200) {
    std::string msg;
    PERPGW_RETURN_IF_ERROR(top.GetOpt("message", &msg));
    return absl::FailedPreconditionError(wire::Cat("lighter fundings: code ", std::to_string(code),
                                                   ": ", std::string_view(msg).substr(0, 64)));
  }
  std::string resolution;
  PERPGW_RETURN_IF_ERROR(top.GetOpt("resolution", &resolution));
  if (!resolution.empty() && resolution != "1h") {
    return funding_detail::Bad(
        wire::Cat("resolution '", std::string_view(resolution).substr(0, 16), "', asked 1h"));
  }
  if (!seen) return funding_detail::Bad("no 'fundings'");
  PERPGW_RETURN_IF_ERROR(wire::CheckEnd(doc, kW));
  std::stable_sort(out.begin(), out.end(),
                   [](const Funding& a, const Funding& b) { return a.as_of < b.as_of; });
  return out;
}

}  // namespace perpgw::adapters::lighter
