// perpgwd: loads the config, starts venue adapters, the fan-out bus and the gRPC server.
//   perpgwd --config FILE [--check-config] [--listen ADDR] [--port-file FILE]
//   perpgwd health-check --addr HOST:PORT [--service NAME] [--timeout-ms N]
//                        [--tls-ca CA.pem [--tls-cert C.pem --tls-key K.pem] [--server-name N]]
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>
#include "adapters/api/mutex.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "gateway/config.h"
#include "gateway/gateway.h"
#include "gateway/health_client.h"
#include "gateway/publish/nats_publisher.h"
#include "gateway/services.h"

namespace {

std::atomic<int> g_signal{0};
void OnSignal(int sig) { g_signal.store(sig); }

int Usage() {
  std::fprintf(stderr,
               "usage: perpgwd --config FILE [--check-config] [--listen HOST:PORT] "
               "[--port-file FILE]\n"
               "       perpgwd health-check --addr HOST:PORT [--service NAME] [--timeout-ms N]\n"
               "                            [--tls-ca CA.pem [--tls-cert C.pem --tls-key K.pem]"
               " [--server-name NAME]]\n");
  return 2;
}

std::shared_ptr<grpc::ServerCredentials> ServerCreds(const perpgw::gateway::Config& cfg) {
  if (cfg.tls.cert_file.empty()) return grpc::InsecureServerCredentials();
  // The PEM contents were read (size-capped) and checked when the config was loaded.
  grpc::SslServerCredentialsOptions opts(
      cfg.tls.client_ca_file.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                     : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  opts.pem_key_cert_pairs.push_back({cfg.tls.key_pem.Reveal(), cfg.tls.cert_pem});
  if (!cfg.tls.client_ca_file.empty()) opts.pem_root_certs = cfg.tls.client_ca_pem;
  return grpc::SslServerCredentials(opts);
}

}  // namespace

// Binds `listen` once, without SO_REUSEPORT, to name the reason when it is taken (gRPC only
// reports that the port could not be added). Port 0 always works.
// libprotobuf logs one ERROR line per unparsable request, even unauthenticated: a hostile
// client could fill the disk. At most one line per 10 s, with the count of the ones held back.
static void ProtobufLog(google::protobuf::LogLevel level, const char* file, int line,
                 const std::string& message) {
  static perpgw::Mutex mu;
  static auto last = std::chrono::steady_clock::time_point{};
  static uint64_t held = 0;
  perpgw::MutexLock lock(&mu);
  const auto now = std::chrono::steady_clock::now();
  if (level < google::protobuf::LOGLEVEL_FATAL && now - last < std::chrono::seconds(10)) {
    ++held;
    return;
  }
  last = now;
  spdlog::warn("libprotobuf: {} ({} similar line(s) held back)", message.substr(0, 300), held);
  held = 0;
}

static std::string PortProblem(const std::string& listen) {
  auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (port == "0") return "";
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res) != 0) {
    return "";  // gRPC reports resolution problems itself
  }
  std::string problem;
  for (addrinfo* a = res; a && problem.empty(); a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as gRPC does
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 && errno == EADDRINUSE) {
      problem = "address " + listen + " is already in use (another perpgwd?)";
    }
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return problem;
}

int main(int argc, char** argv) {
  // Debian's abseil is built with its debug-only deadlock detector on (seen in perf as
  // GraphCycles::GetId on every gRPC lock); it only reports, so a release daemon turns it off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::string config_path, listen_override, port_file;
  bool check_only = false;
  if (argc >= 2 && std::string(argv[1]) == "health-check") {
    std::string addr, service;
    int timeout_ms = 2000;
    perpgw::gateway::HealthTls tls;
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--addr" && i + 1 < argc) addr = argv[++i];
      else if (a == "--service" && i + 1 < argc) service = argv[++i];
      else if (a == "--timeout-ms" && i + 1 < argc) timeout_ms = std::atoi(argv[++i]);
      else if (a == "--tls-ca" && i + 1 < argc) tls.ca_file = argv[++i];
      else if (a == "--tls-cert" && i + 1 < argc) tls.cert_file = argv[++i];
      else if (a == "--tls-key" && i + 1 < argc) tls.key_file = argv[++i];
      else if (a == "--server-name" && i + 1 < argc) tls.server_name = argv[++i];
      else return Usage();
    }
    if (addr.empty()) return Usage();
    return perpgw::gateway::HealthCheck(addr, service, timeout_ms, tls);
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
  google::protobuf::SetLogHandler(&ProtobufLog);

  if (!cfg->listen_share_port) {
    if (auto problem = PortProblem(cfg->listen); !problem.empty()) {
      spdlog::error("cannot listen: {}; set listen_share_port: true to share a port on purpose",
                    problem);
      return 1;
    }
  }

  perpgw::gateway::Gateway gw(*cfg, perpgw::SystemClock::Instance());
  if (auto st = gw.Start(); !st.ok()) {
    spdlog::error("startup failed: {}", std::string(st.message()));
    return 1;
  }
  // ---- publish.nats (issue 18, gateway/publish/): nothing exists unless configured. It only
  // subscribes to the bus like a gRPC stream and never blocks it; stopped before the bus.
  std::unique_ptr<perpgw::gateway::publish::NatsPublisher> nats;
  if (cfg->publish.nats.enabled) {
    nats = std::make_unique<perpgw::gateway::publish::NatsPublisher>(gw, cfg->publish.nats);
    if (auto st = nats->Start(); !st.ok()) {
      spdlog::error("startup failed: publish.nats: {}", std::string(st.message()));
      return 1;
    }
  }
  // ---- end publish.nats

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC enables SO_REUSEPORT by default: a second perpgwd on the same address would start and
  // take clients from the first. Off unless the config asks to share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, cfg->listen_share_port ? 1 : 0);
  int bound_port = 0;
  builder.AddListeningPort(cfg->listen, ServerCreds(*cfg), &bound_port);
  auto services = perpgw::gateway::MakeServices(gw);
  for (auto& s : services) builder.RegisterService(s.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    spdlog::error("cannot listen on {}: the address is in use (another perpgwd?) or not "
                  "available here; set listen_share_port: true to share a port on purpose",
                  cfg->listen);
    gw.Stop();
    return 1;
  }
  auto* health = server->GetHealthCheckService();
  // Overall: NOT_SERVING until every enabled venue has loaded its instruments (and while one
  // is unreachable for over a minute); the container HEALTHCHECK asks this one.
  bool serving = gw.Serving();
  health->SetServingStatus("", serving);
  for (const auto& n : perpgw::gateway::ServiceNames()) health->SetServingStatus(n, true);
  for (const auto& [acc, k] : gw.risk().Kills()) {
    spdlog::warn("kill switch engaged for {} since {} by '{}' ({}): new orders are refused{} "
                 "until ReleaseKillSwitch",
                 acc.empty() ? std::string("all accounts") : acc, k.since, k.by, k.reason,
                 k.allow_reduce_only ? " except reduce-only" : "");
  }
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
    // Order flow: "perpgw.trading" is NOT_SERVING while the global kill switch is engaged,
    // "perpgw.trading.<account>" while the account's own or the global one is.
    const bool global_kill = gw.risk().Kill("").engaged;
    health->SetServingStatus("perpgw.trading", !global_kill);
    for (const auto& [vn, vc] : cfg->venues) {
      for (const auto& acc : vc.accounts) {
        health->SetServingStatus("perpgw.trading." + acc.id,
                                 !global_kill && !gw.risk().Kill(acc.id).engaged);
      }
    }
    std::string why;
    if (bool now_serving = gw.Serving(&why); now_serving != serving) {
      serving = now_serving;
      health->SetServingStatus("", serving);
      if (serving) {
        spdlog::info("health: SERVING (every enabled venue has its instruments and is reachable)");
      } else {
        spdlog::warn("health: NOT_SERVING ({})", why);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  spdlog::info("signal {} received: shutting down", g_signal.load());
  const auto grace = std::chrono::milliseconds(cfg->limits.shutdown_timeout_ms);
  // Last resort: whatever a call or a venue does, the process ends within the grace + 2 s.
  std::thread([grace] {
    std::this_thread::sleep_for(grace + std::chrono::seconds(2));
    spdlog::error("shutdown did not finish within {} ms: exiting anyway", grace.count() + 2000);
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }).detach();
  health->Shutdown();
  if (nats) nats->Stop();  // publish.nats: detaches from the bus, flushes (bounded)
  gw.bus().Stop(grpc::Status(grpc::StatusCode::UNAVAILABLE, "gateway shutting down"));
  server->Shutdown(std::chrono::system_clock::now() + grace);
  server->Wait();
  gw.Stop();
  spdlog::info("bye");
  return 0;
}
