// Calls grpc.health.v1.Health/Check with a hand-encoded request (no generated health stubs).
#include "gateway/health_client.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <future>

namespace perpgw::gateway {

int HealthCheck(const std::string& addr, const std::string& service, int timeout_ms) {
  auto channel = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  // HealthCheckRequest { string service = 1; }
  std::string req;
  if (!service.empty()) {
    req.push_back(0x0a);
    for (size_t n = service.size(); ; n >>= 7) {  // length as a varint
      if (n < 0x80) {
        req.push_back(static_cast<char>(n));
        break;
      }
      req.push_back(static_cast<char>((n & 0x7f) | 0x80));
    }
    req += service;
  }
  grpc::Slice slice(req);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(s); });
  grpc::Status st = done.get_future().get();
  if (!st.ok()) {
    std::fprintf(stderr, "health-check %s: %s\n", addr.c_str(), st.error_message().c_str());
    return 1;
  }
  std::vector<grpc::Slice> slices;
  response.Dump(&slices);
  std::string body;
  for (auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
  // HealthCheckResponse { ServingStatus status = 1; } SERVING = 1.
  const bool serving = body.size() >= 2 && body[0] == 0x08 && body[1] == 0x01;
  std::printf("%s\n", serving ? "SERVING" : "NOT_SERVING");
  return serving ? 0 : 1;
}

}  // namespace perpgw::gateway
