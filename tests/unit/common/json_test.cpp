// Tests for the simdjson helpers and the JSON escaper.
#include <catch2/catch.hpp>

#include "adapters/common/json.h"
#include "adapters/common/ws_client.h"

using namespace perpgw::common;

TEST_CASE("JsonParser: typed getters on a depth-style frame") {
  JsonParser parser;
  std::string text =
      R"({"e":"depthUpdate","E":1700000000123,"T":"1700000000100","s":"BTCUSDT","p":"65000.15",)"
      R"("q":0.0015,"m":true,"x":"false","n":null,"neg":-42,"big":18446744073709551615})";
  auto doc = parser.Iterate(text);
  REQUIRE(doc.ok());
  ondemand::object obj;
  REQUIRE(doc->get_object().get(obj) == simdjson::SUCCESS);
  CHECK(*GetString(obj, "e") == "depthUpdate");
  CHECK(*GetInt64(obj, "E") == 1700000000123);
  CHECK(*GetInt64(obj, "T") == 1700000000100);  // integer in a string
  CHECK(*GetString(obj, "s") == "BTCUSDT");
  CHECK(GetDecimal(obj, "p")->ToString() == "65000.15");
  CHECK(*GetScaled(obj, "p", 2) == 6500015);
  CHECK(GetDecimal(obj, "q")->ToString() == "0.0015");  // from the raw number text, exact
  CHECK(*GetScaled(obj, "q", 8) == 150000);
  CHECK(*GetBool(obj, "m"));
  CHECK_FALSE(*GetBool(obj, "x"));
  CHECK(*GetInt64(obj, "neg") == -42);
  CHECK(*GetUint64(obj, "big") == 18446744073709551615ull);

  auto missing = GetString(obj, "nope");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.status().message()).find("'nope'") != std::string::npos);
  auto null = GetString(obj, "n");
  CHECK(null.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(null.status().message()).find("null") != std::string::npos);
  auto wrong = GetInt64(obj, "s");
  CHECK_FALSE(wrong.ok());
  CHECK(std::string(wrong.status().message()).find("'s'") != std::string::npos);
  CHECK_FALSE(GetScaled(obj, "p", 1).ok());  // would lose a non-zero digit
  CHECK_FALSE(GetInt64(obj, "big").ok());    // out of int64 range

  CHECK_FALSE(GetOptionalString(obj, "n")->has_value());
  CHECK_FALSE(GetOptionalString(obj, "absent")->has_value());
  CHECK(GetOptionalString(obj, "s")->value() == "BTCUSDT");
  CHECK(GetOptionalInt64(obj, "E")->value() == 1700000000123);
  CHECK(GetOptionalDecimal(obj, "p")->value().ToString() == "65000.15");
  CHECK_FALSE(GetOptionalInt64(obj, "s").ok());
}

TEST_CASE("JsonParser: price/size arrays through value getters") {
  JsonParser parser;
  std::string text = R"({"b":[["100.5","2"],[100.25, 3 ]],"bad":[[{}]]})";
  auto doc = parser.Iterate(text);
  REQUIRE(doc.ok());
  ondemand::object obj;
  REQUIRE(doc->get_object().get(obj) == simdjson::SUCCESS);
  ondemand::array levels;
  REQUIRE(obj["b"].get_array().get(levels) == simdjson::SUCCESS);
  std::vector<std::pair<int64_t, int64_t>> out;
  for (auto level : levels) {
    ondemand::array pair;
    REQUIRE(level.get_array().get(pair) == simdjson::SUCCESS);
    auto it = pair.begin();
    ondemand::value px = *it;
    auto p = ValueScaled(px, "price", 2);
    ++it;
    ondemand::value sz = *it;
    auto q = ValueScaled(sz, "size", 0);
    REQUIRE(p.ok());
    REQUIRE(q.ok());
    out.emplace_back(*p, *q);
  }
  CHECK(out == std::vector<std::pair<int64_t, int64_t>>{{10050, 2}, {10025, 3}});
}

TEST_CASE("JsonParser: zero-copy with padding, copy without; errors are statuses") {
  JsonParser parser;
  std::string padded = R"({"a":"1"})";
  padded.reserve(padded.size() + kJsonPadding);
  REQUIRE(parser.Iterate(padded).ok());
  CHECK(parser.copies() == 0);

  std::string tight = R"({"a":"2"})";
  tight.shrink_to_fit();
  std::string_view view(tight);
  auto doc = parser.Iterate(view, 0);
  REQUIRE(doc.ok());
  CHECK(parser.copies() == 1);
  ondemand::object obj;
  REQUIRE(doc->get_object().get(obj) == simdjson::SUCCESS);
  CHECK(*GetString(obj, "a") == "2");

  // Truncated / garbage input: errors, never crashes.
  for (std::string bad : {std::string("{\"a\":"), std::string("nope"), std::string("")}) {
    auto d = parser.Iterate(std::string_view(bad), 0);
    if (!d.ok()) continue;  // on-demand may defer the error to field access
    ondemand::object o;
    if (d->get_object().get(o) != simdjson::SUCCESS) continue;
    CHECK_FALSE(GetString(o, "a").ok());
  }
  CHECK(&JsonParser::ThreadLocal() == &JsonParser::ThreadLocal());
}

TEST_CASE("JSON escaping for outgoing frames") {
  CHECK(JsonQuote("plain") == "\"plain\"");
  CHECK(JsonQuote("a\"b\\c") == R"("a\"b\\c")");
  CHECK(JsonQuote("l1\nl2\t\r\b\f") == R"("l1\nl2\t\r\b\f")");
  CHECK(JsonQuote(std::string("\x01\x1f\x7f", 3)) == R"("\u0001\u001f\u007f")");
  CHECK(JsonQuote("caf\xC3\xA9") == "\"caf\xC3\xA9\"");  // UTF-8 passes through
  std::string out = "{\"k\":";
  AppendJsonQuoted(&out, "v\"");
  out += "}";
  CHECK(out == R"({"k":"v\""})");
  // Round trip through simdjson.
  JsonParser parser;
  std::string weird = std::string("q\"\\\n\x02 end", 10);
  std::string doc_text = "{\"s\":" + JsonQuote(weird) + "}";
  auto doc = parser.Iterate(std::string_view(doc_text), 0);
  REQUIRE(doc.ok());
  ondemand::object obj;
  REQUIRE(doc->get_object().get(obj) == simdjson::SUCCESS);
  CHECK(*GetString(obj, "s") == weird);
}
