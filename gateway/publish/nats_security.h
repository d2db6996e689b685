// How a NATS client secures its connection: TLS (a CA, the name the servers' certificates
// carry, an optional client certificate) and one way to log in. One definition for perpgwd's
// publisher (publish.nats) and the NATS consumers (bench/nats_book: perpgw-nats-book, tests), so
// both ends of a secured deployment are configured and checked the same way. Header-only: both
// link libnats, only the publisher links the gateway.
#pragma once

#include <nats/nats.h>

#include <string>

namespace perpgw::gateway::publish {

struct NatsSecurity {
  bool tls = false;                 // TLS on (ca_file and server_name then required)
  std::string ca_file;              // the CA of the servers' certificates
  std::string server_name;          // the name the servers' certificates must carry
  std::string cert_file, key_file;  // a client certificate (both or neither)
  // At most one way to log in; the secrets are the caller's to source (env or files).
  std::string creds_file;      // a NATS .creds file (user JWT + nkey seed)
  std::string token;           // secret
  std::string user, password;  // password: secret
};

// A failed libnats call as text: its status and, when it adds something, the thread's last
// error ("Authentication Violation ((conn.c:1905): Authorization Violation)"). libnats' texts
// name operations and files, never a secret.
inline std::string NatsErrorText(natsStatus st) {
  std::string out = natsStatus_GetText(st);
  const char* last = nats_GetLastError(nullptr);
  if (last && *last && out != last) out += std::string(" (") + last + ")";
  return out;
}

// Puts `s` onto `o`. "" or what failed: libnats' status and last error, which name the
// operation or file, never a secret.
inline std::string ApplyNatsSecurity(natsOptions* o, const NatsSecurity& s) {
  auto failed = [](const std::string& what, natsStatus st) {
    return what + ": " + NatsErrorText(st);
  };
  natsStatus st = NATS_OK;
  if (s.tls) {
    if ((st = natsOptions_SetSecure(o, true)) != NATS_OK) return failed("TLS", st);
    if ((st = natsOptions_LoadCATrustedCertificates(o, s.ca_file.c_str())) != NATS_OK) {
      return failed("CA " + s.ca_file, st);
    }
    if (!s.cert_file.empty() && (st = natsOptions_LoadCertificatesChain(
                                     o, s.cert_file.c_str(), s.key_file.c_str())) != NATS_OK) {
      return failed("client certificate " + s.cert_file + " / key " + s.key_file, st);
    }
    // Without it libnats checks the chain only: any certificate of that CA would pass.
    if ((st = natsOptions_SetExpectedHostname(o, s.server_name.c_str())) != NATS_OK) {
      return failed("server name", st);
    }
  }
  if (!s.creds_file.empty()) {
    st = natsOptions_SetUserCredentialsFromFiles(o, s.creds_file.c_str(), nullptr);
    if (st != NATS_OK) return failed("credentials " + s.creds_file, st);
  } else if (!s.token.empty()) {
    if ((st = natsOptions_SetToken(o, s.token.c_str())) != NATS_OK) return failed("token", st);
  } else if (!s.user.empty()) {
    if ((st = natsOptions_SetUserInfo(o, s.user.c_str(), s.password.c_str())) != NATS_OK) {
      return failed("user " + s.user, st);
    }
  }
  return "";
}

// For logs: names only ("tls, server name n, client certificate f, user u").
inline std::string DescribeNatsSecurity(const NatsSecurity& s) {
  std::string out = s.tls ? "tls, server name " + s.server_name : "no tls";
  if (s.tls && !s.cert_file.empty()) out += ", client certificate " + s.cert_file;
  if (!s.creds_file.empty()) return out + ", credentials " + s.creds_file;
  if (!s.token.empty()) return out + ", token";
  if (!s.user.empty()) return out + ", user " + s.user;
  return out + ", no auth";
}

}  // namespace perpgw::gateway::publish
