// The documented reasons (adapters/api/reason.h): one list, every order reason mapped, venue
// errors classified, payloads round-trip, and the README table lists every reason.
#include "adapters/api/reason.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "adapters/api/venue_error.h"

using namespace perpgw;

TEST_CASE("every CancelReason maps to a documented reason", "[reason]") {
  const auto& all = reason::All();
  const std::set<std::string_view> known(all.begin(), all.end());
  CHECK(known.size() == all.size());  // no reason listed twice
  for (int r = 0; r <= static_cast<int>(CancelReason::kRateLimited); ++r) {
    const auto code = reason::ReasonCode(static_cast<CancelReason>(r));
    INFO(r);
    if (r == 0) {
      CHECK(code.empty());
    } else {
      CHECK(known.count(code) == 1);
    }
  }
  CHECK(reason::ReasonCode(CancelReason::kInsufficientBalance) == "insufficient_margin");
  CHECK(reason::ReasonCode(CancelReason::kPostOnlyViolation) == "post_only_violation");
}

TEST_CASE("a status carries its reason, metadata and retry delay", "[reason]") {
  absl::Status st = absl::ResourceExhaustedError("risk: max_cancels_per_second");
  CHECK_FALSE(reason::Has(st));
  auto d = reason::Of(st);
  CHECK(d.reason == "rate_limited");  // the code's default
  REQUIRE(d.retry_after_ms);
  CHECK(*d.retry_after_ms == 1000);

  st = reason::WithMeta(reason::With(st, reason::kRiskLimit), "limit", "max_open_orders");
  st = reason::WithRetryAfterMs(st, 250);
  CHECK(reason::Has(st));
  d = reason::Of(st);
  CHECK(d.reason == "risk_limit");
  CHECK(d.metadata.at("limit") == "max_open_orders");
  CHECK(*d.retry_after_ms == 250);

  // Not retryable by default: no delay.
  d = reason::Of(absl::InvalidArgumentError("size"));
  CHECK(d.reason == "invalid_argument");
  CHECK_FALSE(d.retry_after_ms);
  // OK stays OK (nothing attached).
  CHECK(reason::With(absl::OkStatus(), reason::kInternal).ok());
}

TEST_CASE("venue errors get the reason the caller acts on", "[reason]") {
  VenueError e;
  e.http_status = 400;
  e.code = "-5022";
  e.message = "Due to the order could not be executed as maker";
  e.status_code = absl::StatusCode::kFailedPrecondition;
  e.reason = CancelReason::kPostOnlyViolation;
  auto d = reason::Of(VenueErrorStatus("aster", e));
  CHECK(d.reason == "post_only_violation");
  CHECK(d.metadata.at("venue") == "aster");
  CHECK(d.metadata.at("venue_code") == "-5022");
  CHECK(d.metadata.at("venue_message") == e.message);
  CHECK(d.metadata.at("http_status") == "400");
  CHECK(d.metadata.at("retry") == "not_retryable");
  CHECK_FALSE(d.retry_after_ms);

  VenueError limited;
  limited.http_status = 429;
  limited.status_code = absl::StatusCode::kUnavailable;
  limited.retry = RetryClass::kUnknownOutcome;
  d = reason::Of(VenueErrorStatus("backpack", limited));
  CHECK(d.reason == "rate_limited");  // before outcome_unknown: a 429 never reached matching
  REQUIRE(d.retry_after_ms);

  auto t = TransportVenueError("connection reset", RequestKind::kOrderEntry);
  CHECK(reason::Of(VenueErrorStatus("paradex", t)).reason == "outcome_unknown");
  t = TransportVenueError("connection reset", RequestKind::kQuery);
  d = reason::Of(VenueErrorStatus("paradex", t));
  CHECK(d.reason == "venue_unavailable");
  CHECK(d.retry_after_ms);

  VenueError dup;
  dup.http_status = 400;
  dup.status_code = absl::StatusCode::kAlreadyExists;
  dup.duplicate_client_id = true;
  CHECK(reason::Of(VenueErrorStatus("lighter", dup)).reason == "duplicate_client_order_id");

  VenueError gone;
  gone.http_status = 404;
  gone.status_code = absl::StatusCode::kNotFound;
  CHECK(reason::Of(VenueErrorStatus("aster", gone)).reason == "order_not_found");

  VenueError other;
  other.http_status = 400;
  other.code = "INVALID_ORDER";
  other.status_code = absl::StatusCode::kInvalidArgument;
  CHECK(reason::Of(VenueErrorStatus("backpack", other)).reason == "venue_error");
}

TEST_CASE("README lists every reason", "[reason][docs]") {
  std::ifstream in(PERPGW_SOURCE_DIR "/README.md");
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const auto at = readme.find("### Errors");
  REQUIRE(at != std::string::npos);
  for (auto r : reason::All()) {
    INFO(r);
    CHECK(readme.find("| `" + std::string(r) + "` |", at) != std::string::npos);
  }
}
