// Lighter settled funding history: GET /api/v1/fundings (lighter.md §3) -> normalized Funding
// rows, and the requests that page it. Pure: no I/O, no clock (`now` is a parameter), no
// logging; malformed input -> error Status. Definitions in codec_funding.cpp.
//
// Wire (lighter.md §3, third-party notes, the sim agrees):
//   GET /fundings?market_id=&resolution=1h&start_timestamp=&end_timestamp=&count_back=
//   -> {"code":200,"resolution":"1h","fundings":[{"timestamp":s,"value":"..","rate":"..",
//      "direction":"long"|"short"}, ...]}
// `timestamp` is the settlement hour (s), `rate` the hour's rate in PERCENT (unsigned in every
// example), `direction` the side that paid (long = positive funding), `value` the payment per
// unit of base. At most ~750 rows a call.
#pragma once

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
FundingsRequest FirstFundingsRequest(int64_t market_index, const FundingHistoryQuery& q,
                                     UnixNanos now);

std::string EncodeFundingsQuery(const FundingsRequest& r);

// After a page (`page`, oldest first, `have` rows gathered so far): the request for the rows
// just before it, or nullopt when the read is complete — the page was not full (the range is
// exhausted), the query's limit is covered, or the range starts at the page's oldest row.
// count_back keeps the latest rows of [start, end] (sim; the docs' wording is unclear on which
// end count_back counts from — this reading pages backwards from the newest).
std::optional<FundingsRequest> NextFundingsRequest(const FundingsRequest& r,
                                                   const std::vector<Funding>& page, size_t have,
                                                   int limit);

// GET /fundings answer -> ListFundingHistory rows of `ticker`, oldest first (venue = "lighter";
// the adapter sets its configured name). Errors: a code other than 200, a resolution other than
// the 1h asked, no `fundings`, any malformed row (the whole answer is refused).
absl::StatusOr<std::vector<Funding>> ParseFundings(std::string_view body, std::string_view ticker);

}  // namespace perpgw::adapters::lighter
