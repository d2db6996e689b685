// Calls grpc.health.v1.Health/Check with a hand-encoded request (no generated health stubs).
#include "gateway/health_client.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>

namespace perpgw::gateway {

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return static_cast<bool>(f) || f.eof();
}

}  // namespace

int HealthCheck(const std::string& addr, const std::string& service, int timeout_ms,
                const HealthTls& tls) {
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments args;
  if (!tls.ca_file.empty()) {
    grpc::SslCredentialsOptions o;
    // Only file names in errors: a key's contents never reach the output.
    if (!ReadFile(tls.ca_file, &o.pem_root_certs)) {
      std::fprintf(stderr, "health-check: cannot read --tls-ca %s\n", tls.ca_file.c_str());
      return 1;
    }
    if (tls.cert_file.empty() != tls.key_file.empty()) {
      std::fprintf(stderr, "health-check: --tls-cert and --tls-key go together\n");
      return 1;
    }
    if (!tls.cert_file.empty() && (!ReadFile(tls.cert_file, &o.pem_cert_chain) ||
                                   !ReadFile(tls.key_file, &o.pem_private_key))) {
      std::fprintf(stderr, "health-check: cannot read --tls-cert %s or --tls-key %s\n",
                   tls.cert_file.c_str(), tls.key_file.c_str());
      return 1;
    }
    creds = grpc::SslCredentials(o);
    if (!tls.server_name.empty()) args.SetSslTargetNameOverride(tls.server_name);
  } else if (!tls.cert_file.empty() || !tls.server_name.empty()) {
    std::fprintf(stderr, "health-check: --tls-cert/--server-name need --tls-ca\n");
    return 1;
  }
  auto channel = grpc::CreateCustomChannel(addr, creds, args);
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
