// perpgw-sim: local venue emulator (real REST/WS protocols on loopback, matching engine,
// generated markets, fault injection, control API).
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "sim/core/market.h"
#include "sim/core/server.h"
#include "sim/venues.h"

using perpgw::sim::BuildConfig;
using perpgw::sim::ParseCommandLine;
using perpgw::sim::Server;

int main(int argc, char** argv) {
  auto cli = ParseCommandLine(argc, argv);
  if (!cli.ok()) {
    std::fprintf(stderr, "perpgw-sim: %s\n%s", std::string(cli.status().message()).c_str(),
                 perpgw::sim::Usage());
    return 2;
  }
  if (cli->help) {
    std::fputs(perpgw::sim::Usage(), stdout);
    return 0;
  }
  auto config = BuildConfig(*cli);
  if (!config.ok()) {
    std::fprintf(stderr, "perpgw-sim: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  // No config venues = every registered module with its defaults.
  if (config->venues.empty()) {
    for (const auto& e : perpgw::sim::RegisteredVenues()) {
      perpgw::sim::VenueConfig vc;
      vc.name = e.name;
      config->venues.push_back(vc);
    }
  }
  // Signals are taken by a dedicated sigwait thread so shutdown runs as ordinary code.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Before the venues exist: their markets pick the shared reference up when constructed.
  if (config->shared_reference) {
    perpgw::sim::InstallReferenceMarket(
        std::make_shared<perpgw::sim::ReferenceMarket>(config->seed));
    spdlog::info("shared reference market (seed {}): venues quote one price per asset", config->seed);
  }
  Server server(*config);
  for (const auto& vc : config->venues) {
    const auto* entry = perpgw::sim::FindRegisteredVenue(vc.name);
    if (entry == nullptr) {
      std::fprintf(stderr, "perpgw-sim: unknown venue '%s' (registered:", vc.name.c_str());
      for (const auto& e : perpgw::sim::RegisteredVenues()) std::fprintf(stderr, " %s", e.name);
      std::fprintf(stderr, ")\n");
      return 2;
    }
    if (auto st = server.AddVenue(entry->make(), vc); !st.ok()) {
      std::fprintf(stderr, "perpgw-sim: %s\n", std::string(st.message()).c_str());
      return 2;
    }
  }
  if (config->venues.empty()) spdlog::warn("no venue modules registered: serving the control API only");
  if (auto st = server.Start(); !st.ok()) {
    std::fprintf(stderr, "perpgw-sim: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::thread signals([&server, sigs] {
    int sig = 0;
    sigwait(&sigs, &sig);
    spdlog::info("signal {}: shutting down", sig);
    server.Stop();
  });
  server.Run();
  // Run() only returns after Stop(), which only the signal thread calls.
  signals.join();
  spdlog::info("perpgw-sim stopped");
  return 0;
}
