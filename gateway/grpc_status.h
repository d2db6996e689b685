// absl::Status → grpc::Status with the rich error model: every non-OK status perpgw sends carries
// google.rpc.ErrorInfo {reason (adapters/api/reason.h, README "Errors"), domain "perpgw.v1",
// metadata: venue, venue_code, venue_message, http_status, limit, ...} and, where a retry makes
// sense, google.rpc.RetryInfo, in the "grpc-status-details-bin" trailer.
#pragma once

#include <grpcpp/support/status.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace perpgw::gateway {

// The status with its reason payloads (or its code's default reason) as details.
grpc::Status GrpcStatus(const absl::Status& s);
// A status made here, naming its reason.
grpc::Status GrpcStatus(grpc::StatusCode code, const std::string& message, std::string_view why);
// A bare grpc::Status (no details yet) gets its code's default reason; others are unchanged.
grpc::Status WithDetails(const grpc::Status& s);
// The ErrorInfo reason a status carries ("" for OK or a status without details); a bare status
// reads as its code's default reason (what WithDetails would give it).
std::string ReasonOf(const grpc::Status& s);

}  // namespace perpgw::gateway
