// Minimal JSON helpers for the sim: a streaming writer (no DOM) and a flat-object reader on
// simdjson, shared by the control API and venue modules.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace perpgw::sim {

// Appends JSON text; commas are inserted automatically. Misuse (unbalanced) is a programming
// error and produces invalid JSON rather than crashing.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view k);
  JsonWriter& String(std::string_view v);
  JsonWriter& Int(int64_t v);
  JsonWriter& UInt(uint64_t v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  JsonWriter& Raw(std::string_view json);  // an already-encoded value

  // Key + value shorthands.
  JsonWriter& Field(std::string_view k, std::string_view v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, const char* v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, const std::string& v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, int64_t v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, int v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, uint64_t v) { return Key(k).UInt(v); }
  JsonWriter& Field(std::string_view k, bool v) { return Key(k).Bool(v); }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Sep();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// Reads one JSON object's top-level fields: strings unescaped, numbers/booleans/null as their
// literal text ("1.50", "true", "null"), objects/arrays as raw JSON text.
using JsonFields = std::map<std::string, std::string, std::less<>>;
absl::StatusOr<JsonFields> ParseJsonObject(std::string_view json);

// Same for every element of a top-level array of objects ('[{...},{...}]').
absl::StatusOr<std::vector<JsonFields>> ParseJsonObjectArray(std::string_view json);

}  // namespace perpgw::sim
