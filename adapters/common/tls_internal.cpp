// TLS client context setup shared by WsClient and HttpClient.
#include "adapters/common/tls_internal.h"

#include <openssl/x509v3.h>

#include "adapters/common/url.h"

namespace perpgw::common::internal {

absl::Status InitClientTlsContext(boost::asio::ssl::context& ctx, const TlsSettings& settings) {
  namespace ssl = boost::asio::ssl;
  boost::system::error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                  ec);
  if (ec) return absl::InternalError("tls options: " + ec.message());
  if (!settings.verify) {
    ctx.set_verify_mode(ssl::verify_none, ec);
    return ec ? absl::InternalError("tls verify mode: " + ec.message()) : absl::OkStatus();
  }
  ctx.set_default_verify_paths(ec);
  if (ec) return absl::InternalError("tls system CA store: " + ec.message());
  if (!settings.ca_pem.empty()) {
    ctx.add_certificate_authority(
        boost::asio::buffer(settings.ca_pem.data(), settings.ca_pem.size()), ec);
    if (ec) return absl::InvalidArgumentError("tls extra CA: " + ec.message());
  }
  ctx.set_verify_mode(ssl::verify_peer, ec);
  if (ec) return absl::InternalError("tls verify mode: " + ec.message());
  return absl::OkStatus();
}

absl::Status ConfigureTlsHost(SSL* ssl, const std::string& host, bool verify) {
  bool ip = IsIpLiteral(host);
  if (!ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    return absl::InternalError("tls: cannot set SNI for " + host);
  }
  if (!verify) return absl::OkStatus();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
              : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  if (ok != 1) return absl::InternalError("tls: cannot set expected host " + host);
  return absl::OkStatus();
}

}  // namespace perpgw::common::internal
