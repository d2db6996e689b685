// The perpgw.v1 gRPC services (callback API; market-data streams use raw ByteBuffers so every
// subscriber shares one serialization).
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include <memory>
#include <vector>

#include "gateway/gateway.h"

namespace perpgw::gateway {

std::vector<std::unique_ptr<grpc::Service>> MakeServices(Gateway& gw);
// Names used for grpc.health.v1 per-service status.
std::vector<std::string> ServiceNames();

}  // namespace perpgw::gateway
