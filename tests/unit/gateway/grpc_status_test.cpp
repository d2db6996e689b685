// gateway/grpc_status: every non-OK status leaves with google.rpc.Status details a standard
// client decodes: ErrorInfo {reason, domain, metadata} and RetryInfo where a retry makes sense.
#include "gateway/grpc_status.h"

#include <catch2/catch.hpp>

#include "adapters/api/reason.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

using namespace perpgw;
using namespace perpgw::gateway;

namespace {
struct Decoded {
  google::rpc::Status status;
  google::rpc::ErrorInfo info;
  std::optional<google::rpc::RetryInfo> retry;
};
Decoded Decode(const grpc::Status& s) {
  Decoded d;
  REQUIRE(d.status.ParseFromString(s.error_details()));
  for (const auto& any : d.status.details()) {
    if (any.Is<google::rpc::ErrorInfo>()) REQUIRE(any.UnpackTo(&d.info));
    if (any.Is<google::rpc::RetryInfo>()) {
      google::rpc::RetryInfo r;
      REQUIRE(any.UnpackTo(&r));
      d.retry = r;
    }
  }
  return d;
}
}  // namespace

TEST_CASE("an absl status becomes a gRPC status with ErrorInfo and RetryInfo", "[errors]") {
  auto st =
      reason::WithMeta(reason::With(absl::ResourceExhaustedError("risk: max_cancels_per_second: 3"),
                                    reason::kRateLimited),
                       "limit", "max_cancels_per_second");
  const grpc::Status g = GrpcStatus(st);
  CHECK(g.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(g.error_message() == "risk: max_cancels_per_second: 3");
  const Decoded d = Decode(g);
  CHECK(d.status.code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(d.status.message() == g.error_message());
  CHECK(d.info.reason() == "rate_limited");
  CHECK(d.info.domain() == "perpgw.v1");
  CHECK(d.info.metadata().at("limit") == "max_cancels_per_second");
  REQUIRE(d.retry);
  CHECK(d.retry->retry_delay().seconds() == 1);
  CHECK(d.retry->retry_delay().nanos() == 0);
}

TEST_CASE("a bare gRPC status gets its code's reason; details already there stay", "[errors]") {
  const grpc::Status bare(grpc::StatusCode::INVALID_ARGUMENT, "size is required");
  const grpc::Status rich = WithDetails(bare);
  CHECK(rich.error_message() == "size is required");
  const Decoded d = Decode(rich);
  CHECK(d.info.reason() == "invalid_argument");
  CHECK_FALSE(d.retry);  // retrying the same request fails again

  const grpc::Status named =
      GrpcStatus(grpc::StatusCode::UNAVAILABLE, "no live book", reason::kNoLiveBook);
  CHECK(WithDetails(named).error_details() == named.error_details());
  const Decoded n = Decode(named);
  CHECK(n.info.reason() == "no_live_book");
  REQUIRE(n.retry);
  CHECK(n.retry->retry_delay().nanos() == 500000000);

  CHECK(WithDetails(grpc::Status::OK).ok());
  CHECK(WithDetails(grpc::Status::OK).error_details().empty());

  // ReasonOf: what a batch item's result says (the named reason, or the code's default).
  CHECK(ReasonOf(named) == "no_live_book");
  CHECK(ReasonOf(bare) == "invalid_argument");
  CHECK(ReasonOf(grpc::Status::OK).empty());
}
