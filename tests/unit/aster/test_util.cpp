// Reads recorded Aster payloads for the unit tests.
#include "test_util.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

namespace perpgw::adapters::aster::testing {

std::string ReadData(const std::string& relative) {
  std::string path = std::string(PERPGW_TEST_DATA) + "/aster/" + relative;
  std::ifstream in(path, std::ios::binary);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace perpgw::adapters::aster::testing
