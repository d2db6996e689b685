// A tiny grpc.health.v1 client (Docker HEALTHCHECK, scripts): exit 0 when SERVING.
#pragma once

#include <string>

namespace perpgw::gateway {

int HealthCheck(const std::string& addr, const std::string& service, int timeout_ms);

}  // namespace perpgw::gateway
