// The generated venue table (cmake/venues.cmake → gateway/venues.cpp).
#include <catch2/catch.hpp>

#include "adapters/api/clock.h"
#include "gateway/venues.h"

using namespace perpgw;

TEST_CASE("the venue table lists every known venue, built or not", "[venues]") {
  std::vector<std::string> names;
  for (const auto& e : gateway::VenueTable()) names.push_back(e.name);
  for (const char* v : {"aster", "backpack", "lighter", "paradex"}) {
    CHECK(std::find(names.begin(), names.end(), v) != names.end());
  }
  CHECK(names.size() == 4);
}

TEST_CASE("registered venues build an adapter; known unbuilt ones say why; others are unknown",
          "[venues]") {
  SystemClock clock;
  for (const auto& e : gateway::VenueTable()) {
    VenueConfig cfg;
    cfg.name = e.name;
    cfg.rest_url = "http://127.0.0.1:1";
    cfg.ws_url = "ws://127.0.0.1:1";
    auto a = gateway::MakeAdapter(cfg, clock);
    if (e.factory != nullptr) {
      REQUIRE(a.ok());
      CHECK((*a)->name() == e.name);
      CHECK(e.validate != nullptr);
    } else {
      REQUIRE(a.status().code() == absl::StatusCode::kUnimplemented);
      CHECK(std::string(a.status().message()).find(e.name) != std::string::npos);
    }
  }
  VenueConfig unknown;
  unknown.name = "nosuchdex";
  CHECK(gateway::MakeAdapter(unknown, clock).status().code() == absl::StatusCode::kNotFound);
}
