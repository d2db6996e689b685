// perpgwd: loads the config, starts venue adapters, the fan-out bus and the gRPC server.
//   perpgwd --config FILE [--check-config] [--listen ADDR] [--port-file FILE]
//   perpgwd health-check --addr HOST:PORT [--service NAME] [--timeout-ms N]
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <absl/synchronization/mutex.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "gateway/config.h"
#include "gateway/gateway.h"
#include "gateway/health_client.h"
#include "gateway/services.h"

namespace {

std::atomic<int> g_signal{0};
void OnSignal(int sig) { g_signal.store(sig); }

int Usage() {
  std::fprintf(stderr,
               "usage: perpgwd --config FILE [--check-config] [--listen HOST:PORT] "
               "[--port-file FILE]\n"
               "       perpgwd health-check --addr HOST:PORT [--service NAME] [--timeout-ms N]\n");
  return 2;
}

std::shared_ptr<grpc::ServerCredentials> ServerCreds(const perpgw::gateway::Config& cfg) {
  if (cfg.tls.cert_file.empty()) return grpc::InsecureServerCredentials();
  auto slurp = [](const std::string& f) {
    std::ifstream in(f);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  grpc::SslServerCredentialsOptions opts(
      cfg.tls.client_ca_file.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                     : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  opts.pem_key_cert_pairs.push_back({slurp(cfg.tls.key_file), slurp(cfg.tls.cert_file)});
  if (!cfg.tls.client_ca_file.empty()) opts.pem_root_certs = slurp(cfg.tls.client_ca_file);
  return grpc::SslServerCredentials(opts);
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's abseil is built with its debug-only deadlock detector on (seen in perf as
  // GraphCycles::GetId on every gRPC lock); it only reports, so a release daemon turns it off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::string config_path, listen_override, port_file;
  bool check_only = false;
  if (argc >= 2 && std::string(argv[1]) == "health-check") {
    std::string addr, service;
    int timeout_ms = 2000;
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--addr" && i + 1 < argc) addr = argv[++i];
      else if (a == "--service" && i + 1 < argc) service = argv[++i];
      else if (a == "--timeout-ms" && i + 1 < argc) timeout_ms = std::atoi(argv[++i]);
      else return Usage();
    }
    if (addr.empty()) return Usage();
    return perpgw::gateway::HealthCheck(addr, service, timeout_ms);
  }
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) config_path = argv[++i];
    else if (a == "--check-config") check_only = true;
    else if (a == "--listen" && i + 1 < argc) listen_override = argv[++i];
    else if (a == "--port-file" && i + 1 < argc) port_file = argv[++i];
    else if (a == "-h" || a == "--help") return Usage(), 0;
    else {
      std::fprintf(stderr, "perpgwd: unknown argument '%s'\n", a.c_str());
      return Usage();
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "perpgwd: --config FILE is required (try config/demo.yaml)\n");
    return Usage();
  }
  auto cfg = perpgw::gateway::LoadConfig(config_path);
  if (!cfg.ok()) {
    std::fprintf(stderr, "perpgwd: %s\n", std::string(cfg.status().message()).c_str());
    return 1;
  }
  if (!listen_override.empty()) {
    cfg->listen = listen_override;
    if (auto st = perpgw::gateway::ValidateListen(*cfg); !st.ok()) {
      std::fprintf(stderr, "perpgwd: --listen: %s\n", std::string(st.message()).c_str());
      return 1;
    }
  }
  if (check_only) {
    std::printf("%s: OK (%zu venue(s), %zu token(s), listen %s)\n", config_path.c_str(),
                cfg->venues.size(), cfg->tokens.size(), cfg->listen.c_str());
    return 0;
  }

  auto logger = spdlog::stdout_color_mt("perpgwd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(cfg->log_level));
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  perpgw::gateway::Gateway gw(*cfg, perpgw::SystemClock::Instance());
  if (auto st = gw.Start(); !st.ok()) {
    spdlog::error("startup failed: {}", std::string(st.message()));
    return 1;
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(cfg->listen, ServerCreds(*cfg), &bound_port);
  auto services = perpgw::gateway::MakeServices(gw);
  for (auto& s : services) builder.RegisterService(s.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    spdlog::error("cannot listen on {}", cfg->listen);
    gw.Stop();
    return 1;
  }
  auto* health = server->GetHealthCheckService();
  health->SetServingStatus("", true);
  for (const auto& n : perpgw::gateway::ServiceNames()) health->SetServingStatus(n, true);
  std::string host = cfg->listen.substr(0, cfg->listen.rfind(':'));
  spdlog::info("perpgwd listening on {}:{} ({} venue(s) enabled)", host, bound_port,
               gw.enabled_venues().size());
  if (!cfg->metrics_listen.empty()) {
    auto mport = gw.metrics().Serve(cfg->metrics_listen);
    if (!mport.ok()) {
      spdlog::error("{}", std::string(mport.status().message()));
      server->Shutdown();
      gw.Stop();
      return 1;
    }
    spdlog::info("metrics on http://{}:{}/metrics",
                 cfg->metrics_listen.substr(0, cfg->metrics_listen.rfind(':')), *mport);
  }
  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << bound_port << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }

  int ticks = 0;
  while (g_signal.load() == 0) {
    if (++ticks % 5 == 0) gw.metrics().Refresh(gw);
    // Per-venue health: SERVING while the venue's connection is up.
    for (const auto& v : gw.enabled_venues()) {
      auto h = gw.adapter(v)->Health();
      health->SetServingStatus("perpgw.venue." + v, h.state == perpgw::ConnState::kConnected);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  spdlog::info("signal {} received: shutting down", g_signal.load());
  health->Shutdown();
  gw.bus().Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "gateway shutting down"));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(3));
  server->Wait();
  gw.Stop();
  spdlog::info("bye");
  return 0;
}
