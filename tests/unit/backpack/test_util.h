// Test helpers for the Backpack unit tests: read recorded payloads, split JSON arrays into frames.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/api/decimal.h"
#include "simdjson.h"

namespace perpgw::adapters::backpack::testing {

inline std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(PERPGW_TEST_DATA) + "/backpack/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Each element of a top-level JSON array, re-serialized (minified) as its own document.
inline std::vector<std::string> SplitArray(const std::string& json) {
  simdjson::dom::parser parser;
  std::vector<std::string> out;
  simdjson::dom::array arr;
  if (parser.parse(json).get_array().get(arr)) return out;
  for (simdjson::dom::element e : arr) out.push_back(simdjson::to_string(e));
  return out;
}

// One member of a top-level object, minified.
inline std::string Member(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json)[key].get(e)) return {};
  return simdjson::to_string(e);
}

inline Decimal D(const char* s) { return *Decimal::Parse(s); }

}  // namespace perpgw::adapters::backpack::testing
