// Tests for the codec toolkit: parser, Fields getters, levels, structure helpers, escaper.
#include <catch2/catch.hpp>

#include "adapters/wire/json_reader.h"
#include "adapters/wire/json_writer.h"

using namespace perpgw;
using namespace perpgw::wire;

namespace {

constexpr Where kW{"venue", "frame"};

std::string Msg(const absl::Status& s) {
  return std::string(s.message());
}

}  // namespace

TEST_CASE("Fields: typed getters on a depth-style frame") {
  JsonParser parser;
  std::string text =
      R"({"e":"depthUpdate","E":1700000000123,"T":"1700000000100","s":"BTCUSDT","p":"65000.15",)"
      R"("q":0.0015,"m":true,"x":"false","n":null,"neg":-42,"big":18446744073709551615,)"
      R"("empty":"","id":12345678901,"sid":"abc","fid":1.5,"nested":{"k":1},"arr":[1,2]})";
  od::document doc;
  REQUIRE(parser.Start(text, kW, &doc).ok());
  od::object obj;
  REQUIRE(RootObject(doc, kW, &obj).ok());
  Fields f{"e", "E",   "T",   "s",     "p",  "q",   "m",   "x",
           "n", "neg", "big", "empty", "id", "sid", "fid", "absent"};
  std::vector<std::string> nested;
  REQUIRE(f.Read(obj, kW, [&](std::string_view key, od::value&) {
             nested.emplace_back(key);
             return absl::OkStatus();
           }).ok());
  REQUIRE(CheckEnd(doc, kW).ok());
  CHECK(nested == std::vector<std::string>{"nested", "arr"});

  std::string s;
  REQUIRE(f.Get("e", &s).ok());
  CHECK(s == "depthUpdate");
  int64_t i = 0;
  REQUIRE(f.Get("E", &i).ok());
  CHECK(i == 1700000000123);
  REQUIRE(f.Get("T", &i).ok());  // an integer in a string
  CHECK(i == 1700000000100);
  Decimal d;
  REQUIRE(f.Get("p", &d).ok());
  CHECK(d.ToString() == "65000.15");
  REQUIRE(f.Get("q", &d).ok());  // from the raw number text, exact
  CHECK(d.ToString() == "0.0015");
  bool b = false;
  REQUIRE(f.Get("m", &b).ok());
  CHECK(b);
  REQUIRE(f.Get("x", &b).ok());
  CHECK_FALSE(b);
  REQUIRE(f.Get("neg", &i).ok());
  CHECK(i == -42);
  uint64_t u = 0;
  REQUIRE(f.Get("big", &u).ok());
  CHECK(u == 18446744073709551615ull);
  CHECK_FALSE(f.Get("big", &i).ok());  // out of int64 range
  CHECK_FALSE(f.Get("neg", &u).ok());  // negative is not unsigned

  // Missing and null are errors naming venue, message and key.
  absl::Status missing = f.Get("absent", &s);
  CHECK(missing.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Msg(missing) == "venue frame: 'absent' missing");
  CHECK_FALSE(f.Get("n", &s).ok());
  absl::Status wrong = f.Get("s", &i);
  CHECK(Msg(wrong).find("'s' is not an integer") != std::string::npos);
  // An undeclared key is a codec bug, never "absent".
  CHECK(f.GetOpt("nested", &s).code() == absl::StatusCode::kInternal);
  CHECK_FALSE(f.Has("nested"));

  // Optional getters: missing, null and "" (for numbers) leave the output alone.
  d = Decimal::FromInt(7);
  REQUIRE(f.GetOpt("absent", &d).ok());
  REQUIRE(f.GetOpt("n", &d).ok());
  REQUIRE(f.GetOpt("empty", &d).ok());
  CHECK(d.ToString() == "7");
  CHECK_FALSE(f.GetOpt("s", &d).ok());  // present and wrong is still an error
  i = 9;
  REQUIRE(f.GetOpt("empty", &i).ok());
  CHECK(i == 9);
  s = "keep";
  REQUIRE(f.GetOpt("n", &s).ok());
  CHECK(s == "keep");
  REQUIRE(f.GetOpt("empty", &s).ok());  // "" is a value for strings
  CHECK(s.empty());

  // Ids: a string or an integer, as text.
  std::string id;
  REQUIRE(f.GetOptId("id", &id).ok());
  CHECK(id == "12345678901");
  REQUIRE(f.GetOptId("sid", &id).ok());
  CHECK(id == "abc");
  CHECK_FALSE(f.GetOptId("fid", &id).ok());

  // Times: unit conversion, 0/absent leave the output, negative and overflow are errors.
  UnixNanos t = 5;
  REQUIRE(f.GetOptTime("absent", kNanosPerMilli, &t).ok());
  CHECK(t == 5);
  REQUIRE(f.GetOptTime("E", kNanosPerMilli, &t).ok());
  CHECK(t == 1700000000123 * kNanosPerMilli);
  CHECK_FALSE(f.GetOptTime("neg", kNanosPerMilli, &t).ok());
  CHECK_FALSE(f.GetTime("E", kNanosPerSecond, &t).ok());  // overflows int64 nanoseconds
}

TEST_CASE("Levels: strings to mantissas, exact, with clear errors") {
  JsonParser parser;
  std::string text = R"({"b":[["100.5","2"],["100.25","3.000"]],"a":[["1e2","1"]]})";
  od::document doc;
  REQUIRE(parser.Start(text, kW, &doc).ok());
  od::object obj;
  REQUIRE(RootObject(doc, kW, &obj).ok());
  std::vector<LevelChange> changes;
  std::vector<Level> asks;
  for (auto fr : obj) {
    od::field fl;
    REQUIRE(std::move(fr).get(fl) == simdjson::SUCCESS);
    std::string_view key;
    REQUIRE(fl.unescaped_key().get(key) == simdjson::SUCCESS);
    if (key == "b") {
      REQUIRE(ReadLevelChanges(fl.value(), BookSide::kBid, 2, 0, &changes, kW).ok());
    } else {
      REQUIRE(ReadLevels(fl.value(), 2, 0, &asks, kW).ok());
    }
  }
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].level.price == 10050);
  CHECK(changes[1].level.price == 10025);
  CHECK(changes[1].level.size == 3);
  CHECK(changes[1].side == BookSide::kBid);
  REQUIRE(asks.size() == 1);
  CHECK(asks[0].price == 10000);  // exponent through the exact slow path

  // The levels of {"x":[...]} at price scale 2 and the given size scale.
  auto levels = [&](std::string body, int size_scale, std::vector<Level>* out) {
    od::document d;
    absl::Status st = parser.Start(body, kW, &d);
    if (!st.ok()) return st;
    od::object o;
    PERPGW_RETURN_IF_ERROR(RootObject(d, kW, &o));
    od::value v;
    PERPGW_JSON_TRY(o["x"].get(v), kW);
    return ReadLevels(v, 2, size_scale, out, kW);
  };
  auto one = [&](std::string body) {
    std::vector<Level> out;
    return levels(std::move(body), 0, &out);
  };
  CHECK(one(R"({"x":[["1.5","1"]]})").ok());
  CHECK(Msg(one(R"({"x":[["1.005","1"]]})")).find("does not fit scale 2") != std::string::npos);
  CHECK(Msg(one(R"({"x":[[1.5,"1"]]})")).find("must be strings") != std::string::npos);
  CHECK(Msg(one(R"({"x":[["1.5"]]})")).find("[price, size]") != std::string::npos);
  CHECK(Msg(one(R"({"x":[["0","1"]]})")).find("non-positive") != std::string::npos);
  CHECK(Msg(one(R"({"x":[["1","-1"]]})")).find("negative") != std::string::npos);
  CHECK(Msg(one(R"({"x":{}})")).find("not an array") != std::string::npos);
  CHECK_FALSE(one(R"({"x":[["1","1"],)").ok());
  // The values are read in place; an escaped one is unescaped as get_string() would (exact
  // value), a bad escape is malformed JSON, and an escaped quote does not end the value early.
  std::vector<Level> got;
  REQUIRE(levels(R"({"x":[["1\u0030.5","\u0032"],["7.25","0.5"]]})", 3, &got).ok());
  REQUIRE(got.size() == 2);
  CHECK(got[0].price == 1050);
  CHECK(got[0].size == 2000);
  CHECK(got[1].price == 725);
  CHECK(got[1].size == 500);
  got.clear();
  CHECK(Msg(levels(R"({"x":[["1\q","1"]]})", 3, &got)).find("malformed JSON") != std::string::npos);
  CHECK(Msg(levels(R"({"x":[["1\"2","1"]]})", 3, &got)).find("price \"1\"2\" does not fit") !=
        std::string::npos);
  CHECK(Msg(levels(R"({"x":[["1","2\n"]]})", 3, &got)).find("size") != std::string::npos);
}

TEST_CASE("JsonParser: zero-copy with padding, copy without; errors are statuses") {
  JsonParser parser;
  std::string padded = R"({"a":"1"})";
  padded.reserve(padded.size() + kJsonPadding);
  od::document doc;
  REQUIRE(parser.Start(padded, kW, &doc).ok());
  CHECK(parser.copies() == 0);

  std::string tight = R"({"a":"2"})";
  tight.shrink_to_fit();
  REQUIRE(parser.Start(std::string_view(tight), kW, &doc, 0).ok());
  CHECK(parser.copies() == 1);
  od::object obj;
  REQUIRE(RootObject(doc, kW, &obj).ok());
  Fields f{"a"};
  REQUIRE(f.Read(obj, kW).ok());
  std::string a;
  REQUIRE(f.Get("a", &a).ok());
  CHECK(a == "2");

  CHECK(Msg(parser.Start(std::string_view(), kW, &doc)) == "venue frame: empty body");
  // Truncated / garbage input: errors, never crashes (on-demand may defer them to the read).
  for (std::string bad : {std::string("{\"a\":"), std::string("nope"), std::string("[1,2")}) {
    absl::Status st = parser.Start(std::string_view(bad), kW, &doc);
    if (st.ok()) {
      od::object o;
      st = RootObject(doc, kW, &o);
      if (st.ok()) {
        Fields g{"a"};
        st = g.Read(o, kW);
        if (st.ok()) st = g.Get("a", &a);
      }
    }
    CHECK_FALSE(st.ok());
  }
  // Trailing content after the value: refused at the root or at the end check.
  for (std::string trailing : {std::string(R"({"a":"1"} x)"), std::string(R"({"a":"1"}})")}) {
    REQUIRE(parser.Start(std::string_view(trailing), kW, &doc).ok());
    absl::Status st = RootObject(doc, kW, &obj);
    if (st.ok()) st = f.Read(obj, kW);
    if (st.ok()) st = CheckEnd(doc, kW);
    CHECK_FALSE(st.ok());
  }
  CHECK(&JsonParser::ThreadLocal() == &JsonParser::ThreadLocal());
}

TEST_CASE("Structure helpers: object-or-array, arrays of objects, peeking") {
  JsonParser parser;
  od::document doc;
  int n = 0;
  auto count = [&](od::object&) {
    ++n;
    return absl::OkStatus();
  };
  REQUIRE(parser.Start(std::string_view(R"([{"a":1},{"a":2}])"), kW, &doc).ok());
  REQUIRE(ForEachObject(doc, kW, count).ok());
  REQUIRE(parser.Start(std::string_view(R"({"a":1})"), kW, &doc).ok());
  REQUIRE(ForEachObject(doc, kW, count).ok());
  CHECK(n == 3);
  REQUIRE(parser.Start(std::string_view(R"({"a":1})"), kW, &doc).ok());
  CHECK(Msg(ForEachObjectInArray(doc, kW, count)) == "venue frame: expected a JSON array");
  REQUIRE(parser.Start(std::string_view(R"([1])"), kW, &doc).ok());
  CHECK(Msg(ForEachObjectInArray(doc, kW, count)) == "venue frame: array item is not an object");

  REQUIRE(
      parser.Start(std::string_view(R"({"x":1,"s":"BTC","e":"trade","k":[1]})"), kW, &doc).ok());
  od::object obj;
  REQUIRE(RootObject(doc, kW, &obj).ok());
  std::string e, s, missing = "old";
  REQUIRE(PeekStrings(obj, kW, {{"e", &e}, {"s", &s}, {"zz", &missing}}).ok());
  CHECK(e == "trade");
  CHECK(s == "BTC");
  CHECK(missing.empty());
  Fields f{"x"};  // the object was rewound: a full pass still sees every field
  REQUIRE(f.Read(obj, kW).ok());
  CHECK(f.Has("x"));
  REQUIRE(CheckEnd(doc, kW).ok());
}

TEST_CASE("Text conversions") {
  int64_t i;
  uint64_t u;
  CHECK(ParseInt64("-12", &i));
  CHECK(i == -12);
  CHECK_FALSE(ParseInt64("", &i));
  CHECK_FALSE(ParseInt64("12 ", &i));
  CHECK_FALSE(ParseInt64("9223372036854775808", &i));
  CHECK(ParseUint64("18446744073709551615", &u));
  CHECK_FALSE(ParseUint64("-1", &u));
  CHECK_FALSE(ParseUint64("18446744073709551616", &u));
  UnixNanos t;
  CHECK(ToNanos(2, kNanosPerMilli, &t));
  CHECK(t == 2'000'000);
  CHECK_FALSE(ToNanos(-1, kNanosPerMilli, &t));
  CHECK_FALSE(ToNanos(INT64_MAX / 1000 + 1, 1000, &t));
  CHECK(EqualsIgnoreCase("Limit", "LIMIT"));
  CHECK_FALSE(EqualsIgnoreCase("Limit", "Limits"));
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
  // Round trip through the reader.
  JsonParser parser;
  std::string weird = std::string("q\"\\\n\x02 end", 10);
  std::string doc_text = "{\"s\":" + JsonQuote(weird) + "}";
  od::document doc;
  REQUIRE(parser.Start(std::string_view(doc_text), kW, &doc).ok());
  od::object obj;
  REQUIRE(RootObject(doc, kW, &obj).ok());
  Fields f{"s"};
  REQUIRE(f.Read(obj, kW).ok());
  std::string s;
  REQUIRE(f.Get("s", &s).ok());
  CHECK(s == weird);
}
