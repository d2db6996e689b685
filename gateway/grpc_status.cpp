#include "gateway/grpc_status.h"

#include "adapters/api/reason.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace perpgw::gateway {

namespace {
// google.rpc.Status {code, message, [ErrorInfo, RetryInfo]} serialized for the
// "grpc-status-details-bin" trailer (grpc::Status's third argument).
std::string DetailsBlob(int code, const std::string& message, const reason::Details& d) {
  google::rpc::Status st;
  st.set_code(code);
  st.set_message(message);
  google::rpc::ErrorInfo info;
  info.set_reason(d.reason);
  info.set_domain("perpgw.v1");
  for (const auto& [k, v] : d.metadata) (*info.mutable_metadata())[k] = v;
  st.add_details()->PackFrom(info);
  if (d.retry_after_ms) {
    google::rpc::RetryInfo retry;
    retry.mutable_retry_delay()->set_seconds(*d.retry_after_ms / 1000);
    retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(*d.retry_after_ms % 1000) *
                                           1000000);
    st.add_details()->PackFrom(retry);
  }
  return st.SerializeAsString();
}
}  // namespace

grpc::Status GrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(s.code());
  std::string msg(s.message());
  std::string blob = DetailsBlob(static_cast<int>(code), msg, reason::Of(s));
  return grpc::Status(code, std::move(msg), std::move(blob));
}

grpc::Status GrpcStatus(grpc::StatusCode code, const std::string& message, std::string_view why) {
  return GrpcStatus(reason::With(absl::Status(static_cast<absl::StatusCode>(code), message), why));
}

grpc::Status WithDetails(const grpc::Status& s) {
  if (s.ok() || !s.error_details().empty()) return s;
  return GrpcStatus(absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message()));
}

std::string ReasonOf(const grpc::Status& s) {
  if (s.ok()) return "";
  const grpc::Status full = WithDetails(s);
  google::rpc::Status rich;
  if (!rich.ParseFromString(full.error_details())) return "";
  for (const auto& any : rich.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";
}

}  // namespace perpgw::gateway
