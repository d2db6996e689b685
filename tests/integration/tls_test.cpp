// TLS and mTLS end to end: throwaway CA + server + client certificates from the openssl CLI, a real
// perpgwd with `tls:` configured, and gRPC C++ clients with and without the right credentials.
#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>

#include "perpgw/v1/gateway.grpc.pb.h"
#include "tests/integration/harness.h"
#include "tests/integration/test_certs.h"

namespace perpgw::testing {
namespace {

namespace v1 = perpgw::v1;

class Gateway {
 public:
  Gateway(const Certs& c, bool mtls) {
    std::string cfg = "listen: 127.0.0.1:0\nlog_level: info\ntls:\n  cert_file: " +
                      c.dir.File("server.pem") + "\n  key_file: " + c.dir.File("server.key") +
                      "\n";
    if (mtls) cfg += "  client_ca_file: " + c.dir.File("ca.pem") + "\n";
    WriteFile(dir_.File("gw.yaml"), cfg);
    ProcessOptions o;
    o.argv = {PERPGWD_BIN, "--config", dir_.File("gw.yaml"), "--port-file", dir_.File("port")};
    o.log_path = dir_.File("perpgwd.log");
    std::string err;
    proc_ = ChildProcess::Spawn(o, &err);
    REQUIRE(proc_);
    auto port = WaitForPortFile(dir_.File("port"), Millis(30000), proc_.get());
    INFO(proc_->ReadLog());
    REQUIRE(port);
    addr_ = "127.0.0.1:" + std::to_string(*port);
  }
  ~Gateway() { proc_->Terminate(Millis(10000)); }
  const std::string& addr() const { return addr_; }

 private:
  TempDir dir_{"perpgw-tls-gw"};
  std::unique_ptr<ChildProcess> proc_;
  std::string addr_;
};

grpc::Status Call(const std::string& addr, std::shared_ptr<grpc::ChannelCredentials> creds,
                  v1::GetVersionResponse* out = nullptr) {
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto ch = grpc::CreateCustomChannel(addr, creds, args);
  auto stub = v1::GatewayService::NewStub(ch);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetVersionResponse resp;
  auto st = stub->GetVersion(&ctx, v1::GetVersionRequest(), &resp);
  if (out) *out = resp;
  return st;
}

std::shared_ptr<grpc::ChannelCredentials> Tls(const Certs& c, const std::string& client = "") {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = c.Pem("ca");
  if (!client.empty()) {
    o.pem_cert_chain = c.Pem(client);
    o.pem_private_key = c.Key(client);
  }
  return grpc::SslCredentials(o);
}

}  // namespace

TEST_CASE("mTLS: only clients with a certificate from client_ca_file get in",
          "[integration][tls]") {
  Certs certs;
  Gateway gw(certs, /*mtls=*/true);
  v1::GetVersionResponse v;
  auto ok = Call(gw.addr(), Tls(certs, "client"), &v);
  INFO(ok.error_message());
  CHECK(ok.ok());
  CHECK(!v.version().empty());

  auto no_cert = Call(gw.addr(), Tls(certs));
  INFO("no client cert: " << no_cert.error_message());
  CHECK(no_cert.error_code() == grpc::StatusCode::UNAVAILABLE);

  auto rogue = Call(gw.addr(), Tls(certs, "rogue-client"));
  INFO("client cert from another CA: " << rogue.error_message());
  CHECK(rogue.error_code() == grpc::StatusCode::UNAVAILABLE);

  auto plain = Call(gw.addr(), grpc::InsecureChannelCredentials());
  INFO("plaintext: " << plain.error_message());
  CHECK(plain.error_code() == grpc::StatusCode::UNAVAILABLE);

  // A client that does not trust the server's CA refuses the server.
  grpc::SslCredentialsOptions wrong_root;
  wrong_root.pem_root_certs = certs.Pem("rogue-ca");
  wrong_root.pem_cert_chain = certs.Pem("client");
  wrong_root.pem_private_key = certs.Key("client");
  CHECK(Call(gw.addr(), grpc::SslCredentials(wrong_root)).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("server-only TLS: no client certificate needed, plaintext still refused",
          "[integration][tls]") {
  Certs certs;
  Gateway gw(certs, /*mtls=*/false);
  auto ok = Call(gw.addr(), Tls(certs));
  INFO(ok.error_message());
  CHECK(ok.ok());
  // A client certificate is simply not asked for.
  CHECK(Call(gw.addr(), Tls(certs, "client")).ok());
  CHECK(Call(gw.addr(), grpc::InsecureChannelCredentials()).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
}

// The container probe against a TLS gateway (the image's HEALTHCHECK is plaintext; a TLS
// deployment overrides it with these flags): plaintext fails, the CA succeeds, mTLS needs the
// client pair, a wrong CA fails, and no file content (keys) is ever printed.
TEST_CASE("health-check speaks TLS and mTLS with --tls-ca / --tls-cert / --tls-key",
          "[integration][tls]") {
  Certs certs;
  auto probe = [&](const std::string& addr, std::vector<std::string> extra) {
    std::vector<std::string> argv = {PERPGWD_BIN, "health-check", "--addr", addr};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Run(argv, Millis(15000));
  };
  const std::string ca = certs.dir.File("ca.pem");
  {
    Gateway gw(certs, /*mtls=*/false);
    CHECK(probe(gw.addr(), {}).exit_code != 0);  // plaintext to a TLS port
    auto ok = probe(gw.addr(), {"--tls-ca", ca, "--server-name", "localhost"});
    INFO(ok.out << ok.err);
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.find("SERVING") != std::string::npos);
    CHECK(probe(gw.addr(), {"--tls-ca", certs.dir.File("rogue-ca.pem")}).exit_code != 0);
    auto missing = probe(gw.addr(), {"--tls-ca", certs.dir.File("nope.pem")});
    CHECK(missing.exit_code != 0);
    CHECK(missing.err.find("nope.pem") != std::string::npos);
  }
  {
    Gateway gw(certs, /*mtls=*/true);
    CHECK(probe(gw.addr(), {"--tls-ca", ca}).exit_code != 0);  // no client certificate
    auto ok = probe(gw.addr(), {"--tls-ca", ca, "--tls-cert", certs.dir.File("client.pem"),
                                "--tls-key", certs.dir.File("client.key")});
    INFO(ok.out << ok.err);
    CHECK(ok.exit_code == 0);
    auto half = probe(gw.addr(), {"--tls-ca", ca, "--tls-cert", certs.dir.File("client.pem")});
    CHECK(half.exit_code != 0);
    CHECK(half.err.find("go together") != std::string::npos);
    CHECK(half.err.find("PRIVATE KEY") == std::string::npos);
  }
}


#ifdef PERPGW_CLI_BIN
// perpgw-cli takes grpcurl's TLS flags: -cacert (server roots), -cert/-key (the mTLS client
// pair, together), -servername (the name checked on the server's certificate).
TEST_CASE("perpgw-cli speaks TLS and mTLS with -cacert / -cert / -key / -servername",
          "[integration][tls]") {
  Certs certs;
  const std::string ca = certs.dir.File("ca.pem");
  auto cli = [&](const std::string& addr, std::vector<std::string> flags) {
    std::vector<std::string> argv = {PERPGW_CLI_BIN};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {addr, "call", "perpgw.v1.GatewayService/GetVersion"});
    return Run(argv, Millis(15000));
  };
  {
    Gateway gw(certs, /*mtls=*/false);
    auto ok = cli(gw.addr(), {"-cacert", ca, "-servername", "localhost"});
    INFO(ok.out << ok.err);
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.find("version") != std::string::npos);
    CHECK(cli(gw.addr(), {"-cacert", certs.dir.File("rogue-ca.pem")}).exit_code != 0);
    CHECK(cli(gw.addr(), {"-cacert", ca, "-servername", "not-the-server"}).exit_code != 0);
    CHECK(cli(gw.addr(), {"-plaintext"}).exit_code != 0);
  }
  {
    Gateway gw(certs, /*mtls=*/true);
    CHECK(cli(gw.addr(), {"-cacert", ca}).exit_code != 0);  // no client certificate
    auto ok = cli(gw.addr(), {"-cacert", ca, "-cert", certs.dir.File("client.pem"), "-key",
                              certs.dir.File("client.key")});
    INFO(ok.out << ok.err);
    CHECK(ok.exit_code == 0);
    auto rogue = cli(gw.addr(), {"-cacert", ca, "-cert", certs.dir.File("rogue-client.pem"),
                                 "-key", certs.dir.File("rogue-client.key")});
    CHECK(rogue.exit_code != 0);
    auto half = cli(gw.addr(), {"-cacert", ca, "-cert", certs.dir.File("client.pem")});
    CHECK(half.exit_code == 2);
    CHECK(half.err.find("go together") != std::string::npos);
    auto missing = cli(gw.addr(), {"-cacert", ca, "-cert", certs.dir.File("client.pem"), "-key",
                                   certs.dir.File("nope.key")});
    CHECK(missing.exit_code != 0);
    CHECK(missing.err.find("nope.key") != std::string::npos);
    CHECK(missing.err.find("PRIVATE KEY") == std::string::npos);
  }
}
#endif

}  // namespace perpgw::testing
