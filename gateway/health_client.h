// A tiny grpc.health.v1 client (Docker HEALTHCHECK, scripts): exit 0 when SERVING.
#pragma once

#include <string>

namespace perpgw::gateway {

// TLS for the probe of a gateway with `tls:` configured: the CA that signed its certificate,
// and for mTLS (`tls.client_ca_file`) a client certificate and key. Empty ca_file = plaintext.
struct HealthTls {
  std::string ca_file, cert_file, key_file;
  std::string server_name;  // overrides the name checked against the certificate (default: host)
};

int HealthCheck(const std::string& addr, const std::string& service, int timeout_ms,
                const HealthTls& tls = {});

}  // namespace perpgw::gateway
