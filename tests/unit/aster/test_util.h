// Helpers for the Aster unit tests: read recorded payloads from tests/data/aster.
#pragma once

#include <string>

namespace perpgw::adapters::aster::testing {

// Whole file under PERPGW_TEST_DATA "/aster/"; fails the test (REQUIRE) when unreadable.
std::string ReadData(const std::string& relative);

}  // namespace perpgw::adapters::aster::testing
