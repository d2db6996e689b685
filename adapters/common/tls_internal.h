// Internal (include only from .cpp files): TLS client context and per-connection host checks.
#pragma once

#include <string>

#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include "absl/status/status.h"

namespace perpgw::common::internal {

struct TlsSettings {
  bool verify = true;      // certificate chain + host name
  std::string ca_pem;      // extra trusted CAs (PEM); the system store is used as well
};

// TLS 1.2+ client context; loads the system CA store when verifying.
absl::Status InitClientTlsContext(boost::asio::ssl::context& ctx, const TlsSettings& settings);

// Sets SNI (not for IP literals, RFC 6066) and, when verifying, the expected host name or IP
// so OpenSSL checks the certificate against it during the handshake.
absl::Status ConfigureTlsHost(SSL* ssl, const std::string& host, bool verify);

}  // namespace perpgw::common::internal
