// Lighter settled funding history (codec_funding.h): GET /fundings rows and their paging.
#include "adapters/lighter/codec_funding.h"

#include <algorithm>

#include "adapters/wire/cat.h"
#include "adapters/wire/json_reader.h"

namespace perpgw::adapters::lighter {

FundingsRequest FirstFundingsRequest(int64_t market_index, const FundingHistoryQuery& q,
                                     UnixNanos now) {
  constexpr int64_t kS = wire::kNanosPerSecond;
  FundingsRequest r;
  r.market_index = market_index;
  r.start_s = q.from > 0 ? (q.from + kS - 1) / kS : 0;
  r.end_s = (q.to > 0 ? q.to : now) / kS;
  r.count_back = std::clamp(q.limit, 1, kMaxFundingsPerCall);
  return r;
}

std::string EncodeFundingsQuery(const FundingsRequest& r) {
  return wire::Cat("market_id=", std::to_string(r.market_index),
                   "&resolution=1h&start_timestamp=", std::to_string(r.start_s),
                   "&end_timestamp=", std::to_string(r.end_s),
                   "&count_back=", std::to_string(r.count_back));
}

std::optional<FundingsRequest> NextFundingsRequest(const FundingsRequest& r,
                                                   const std::vector<Funding>& page, size_t have,
                                                   int limit) {
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
namespace {

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(wire::Cat("lighter fundings: ", what));
}

// One row -> Funding (rate = percent / 100, signed by `direction`).
absl::StatusOr<Funding> ReadRow(simdjson::ondemand::value& v, std::string_view ticker) {
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

}  // namespace
}  // namespace funding_detail

absl::StatusOr<std::vector<Funding>> ParseFundings(std::string_view body, std::string_view ticker) {
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
