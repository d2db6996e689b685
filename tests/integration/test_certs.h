// Throwaway certificates for the TLS tests (gRPC in tls_test, NATS in nats_test), made with the
// openssl CLI: a CA ("ca"), a server certificate for localhost / 127.0.0.1, a client certificate,
// and a rogue CA with a client certificate of its own. Catch2 test code (REQUIREs).
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace perpgw::testing {

inline constexpr const char* kOpenssl = "/usr/bin/openssl";

inline std::string RunOk(const std::vector<std::string>& argv) {
  auto r = Run(argv, Millis(30000));
  INFO("command: " << argv[0] << " " << (argv.size() > 1 ? argv[1] : "") << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// A CA and a leaf signed by it. EC P-256 keys: fast to generate.
inline void MakeCa(const TempDir& d, const std::string& name) {
  RunOk({kOpenssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", d.File(name + ".key"), "-out", d.File(name + ".pem"), "-days", "2",
         "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
}

inline void MakeLeaf(const TempDir& d, const std::string& ca, const std::string& name,
              const std::string& ext) {
  RunOk({kOpenssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", d.File(name + ".key"), "-out", d.File(name + ".csr"), "-subj", "/CN=" + name});
  REQUIRE(WriteFile(d.File(name + ".ext"), ext));
  RunOk({kOpenssl, "x509", "-req", "-in", d.File(name + ".csr"), "-CA", d.File(ca + ".pem"),
         "-CAkey", d.File(ca + ".key"), "-CAcreateserial", "-out", d.File(name + ".pem"),
         "-days", "2", "-extfile", d.File(name + ".ext")});
}

struct Certs {
  TempDir dir{"perpgw-tls"};
  Certs() {
    MakeCa(dir, "ca");
    MakeCa(dir, "rogue-ca");
    MakeLeaf(dir, "ca", "server",
             "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    MakeLeaf(dir, "ca", "client", "extendedKeyUsage=clientAuth\n");
    MakeLeaf(dir, "rogue-ca", "rogue-client", "extendedKeyUsage=clientAuth\n");
  }
  std::string Pem(const std::string& n) const { return ReadFile(dir.File(n + ".pem")); }
  std::string Key(const std::string& n) const { return ReadFile(dir.File(n + ".key")); }
};

}  // namespace perpgw::testing
