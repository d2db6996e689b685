// Test helpers for the Paradex unit tests: recorded payloads, SBE frames from hex, JSON arrays
// split into frames.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/api/decimal.h"
#include "simdjson.h"

namespace perpgw::adapters::paradex::testing {

inline std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(PERPGW_TEST_DATA) + "/paradex/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string FromHex(std::string_view hex) {
  std::string out;
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    if (hex[i] == '\n' || hex[i] == ' ') {
      --i;
      continue;
    }
    out.push_back(static_cast<char>(nib(hex[i]) << 4 | nib(hex[i + 1])));
  }
  return out;
}

// tests/data/paradex/sbe/<name>.hex as bytes.
inline std::string Frame(const std::string& name) {
  std::string hex = ReadData("sbe/" + name + ".hex");
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) {
    hex.pop_back();
  }
  return FromHex(hex);
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

inline Decimal D(const char* s) {
  return *Decimal::Parse(s);
}

}  // namespace perpgw::adapters::paradex::testing
