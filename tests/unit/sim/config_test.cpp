// perpgw-sim command line and YAML config: overrides, validation messages, the example file.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "sim/core/config.h"

namespace perpgw::sim {

TEST_CASE("command line parses every option", "[sim][config]") {
  const char* argv[] = {"perpgw-sim", "--seed", "7", "--rate=1000", "--depth", "15",
                        "--bind", "127.0.0.1", "--endpoints-out", "/tmp/x.json",
                        "--venues", "aster,lighter"};
  auto cl = ParseCommandLine(12, argv);
  REQUIRE(cl.ok());
  CHECK(*cl->seed == 7);
  CHECK(*cl->rate == 1000);
  CHECK(*cl->depth == 15);
  CHECK(cl->endpoints_out == "/tmp/x.json");
  REQUIRE(cl->venues.size() == 2);
  CHECK(cl->venues[1] == "lighter");
  auto c = BuildConfig(*cl);
  REQUIRE(c.ok());
  CHECK(c->seed == 7);
  CHECK(c->venues.size() == 2);

  const char* bad[] = {"perpgw-sim", "--depth", "0"};
  CHECK_FALSE(ParseCommandLine(3, bad).ok());
  const char* unknown[] = {"perpgw-sim", "--frobnicate", "1"};
  CHECK_FALSE(ParseCommandLine(3, unknown).ok());
}

TEST_CASE("YAML config loads and errors name the key", "[sim][config]") {
  auto example = LoadSimConfigFile(std::string(PERPGW_SOURCE_DIR) + "/config/sim.yaml");
  INFO(example.status().message());
  REQUIRE(example.ok());
  CHECK_FALSE(example->venues.empty());

  std::string path = "/tmp/perpgw_sim_cfg_" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream out(path);
    out << "seed: 3\nvenues:\n  echo:\n    rate: 10\n    instruments:\n"
           "      - {symbol: X, tick: \"0.5\", step: \"1\", min_qty: \"1\", mid: \"10\"}\n"
           "    accounts:\n      - {id: a, credentials: {api_key: k}}\n";
  }
  auto c = LoadSimConfigFile(path);
  REQUIRE(c.ok());
  CHECK(c->seed == 3);
  REQUIRE(c->venues.size() == 1);
  CHECK(*c->venues[0].rate == 10);
  CHECK(c->venues[0].instruments.at(0).tick == "0.5");
  CHECK(c->venues[0].accounts.at(0).credentials.at("api_key") == "k");
  {
    std::ofstream out(path);
    out << "venues:\n  echo:\n    instruments:\n      - {symbol: X, tick: \"-1\"}\n";
  }
  auto bad = LoadSimConfigFile(path);
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("venues.echo.instruments[0].") != std::string::npos);
  std::remove(path.c_str());
}

}  // namespace perpgw::sim
