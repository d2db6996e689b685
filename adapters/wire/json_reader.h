// The one JSON reading toolkit every venue codec uses (pure: no I/O, clock or logging).
//
// simdjson On-Demand, forward only:
//   - JsonParser: a reusable parser; parses in place when the caller guarantees kJsonPadding
//     readable bytes after the text (WsClient messages, HttpClient bodies), else copies once into
//     a buffer that only grows.
//   - Fields: one pass over an object capturing the declared scalar keys (strings unescaped,
//     numbers and booleans as their raw token, never through double); every other key goes to a
//     callback that may descend into it. Typed getters turn a captured scalar into a value or a
//     clear error naming the venue, the message and the key.
//   - Level readers ([["price","size"],...] straight to mantissas at the instrument's scales),
//     array/object iteration, trailing-content checks.
// Errors read "<venue> <what>: <detail>" (Where). A document and every string_view taken from it
// live until the next Start on the same parser and while the input bytes stay alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/api/decimal.h"
#include "adapters/api/order_book.h"
#include "adapters/api/types.h"
#include "adapters/wire/status_macros.h"

namespace perpgw::wire {

namespace od = simdjson::ondemand;

// simdjson reads up to this many bytes past the end of the input. The transport (net) pads its
// buffers by at least this much; its static_asserts take the constant from here.
inline constexpr size_t kJsonPadding = simdjson::SIMDJSON_PADDING;

inline constexpr int64_t kNanosPerMicro = 1'000;
inline constexpr int64_t kNanosPerMilli = 1'000'000;
inline constexpr int64_t kNanosPerSecond = 1'000'000'000;

// Where a value came from, for error messages: "<venue> <what>: <detail>".
struct Where {
  std::string_view venue;
  std::string_view what;
};

absl::Status Invalid(Where where, std::string_view detail);
// "<venue> <what>: malformed JSON (<simdjson message>)".
absl::Status JsonError(Where where, simdjson::error_code e);

// Returns JsonError(where, e) from the enclosing function when `expr` yields a simdjson error.
#define PERPGW_JSON_TRY(expr, where)                             \
  do {                                                           \
    if (::simdjson::error_code perpgw_json_e_ = (expr)) {        \
      return ::perpgw::wire::JsonError((where), perpgw_json_e_); \
    }                                                            \
  } while (0)

class JsonParser {
 public:
  JsonParser() = default;
  JsonParser(const JsonParser&) = delete;
  JsonParser& operator=(const JsonParser&) = delete;

  // One per thread, for codecs that do not own a parser. Decoders must not nest on it.
  static JsonParser& ThreadLocal();

  // Starts a document over `text`. `readable_after`: how many bytes after text.end() the caller
  // guarantees are readable; with at least kJsonPadding the text is parsed in place, otherwise it
  // is copied (no allocation once the buffer has grown). Empty text is an error.
  absl::Status Start(std::string_view text, Where where, od::document* doc,
                     size_t readable_after = 0);
  // Uses the string's spare capacity as padding (HttpResponse::body reserves it).
  absl::Status Start(const std::string& text, Where where, od::document* doc) {
    return Start(std::string_view(text), where, doc, text.capacity() - text.size());
  }

  od::parser& raw() { return parser_; }
  // How many inputs had to be copied (tests and benchmarks check the zero-copy path).
  uint64_t copies() const { return copies_; }

 private:
  od::parser parser_;
  std::string buffer_;
  uint64_t copies_ = 0;
};

// A scalar captured from an object: strings unescaped, numbers and booleans as their raw token.
struct Scalar {
  std::string_view text;
  bool present = false;
  bool is_string = false;
  bool is_null = false;
  // Present and not null.
  bool has() const { return present && !is_null; }
  // has() and not the empty string: optional numeric fields treat "" as absent.
  bool has_text() const { return has() && !text.empty(); }
};

// Reads one scalar value. Objects and arrays are not scalars: present stays false and the value
// is left unread (the caller's iteration skips it).
simdjson::error_code CaptureScalar(od::value& v, Scalar* out);

// Captures the declared scalar keys of an object in one pass. Keys match exactly (venues are
// case-sensitive: "E" vs "e"). A key repeated in the object: the last one wins. Asking for a key
// that was not declared is an internal error (a codec bug, caught by its tests), never "absent".
class Fields {
 public:
  Fields(std::initializer_list<std::string_view> keys) : keys_(keys), vals_(keys.size()) {}

  // `nested(key, value)` gets every undeclared key; returning an error stops the pass.
  template <typename Nested>
  absl::Status Read(od::object& obj, Where where, Nested&& nested) {
    where_ = where;
    for (auto fr : obj) {
      od::field f;
      PERPGW_JSON_TRY(std::move(fr).get(f), where);
      std::string_view key;
      PERPGW_JSON_TRY(f.unescaped_key().get(key), where);
      size_t i = Index(key);
      if (i < keys_.size()) {
        od::value v = f.value();
        vals_[i] = Scalar();
        PERPGW_JSON_TRY(CaptureScalar(v, &vals_[i]), where);
      } else {
        PERPGW_RETURN_IF_ERROR(nested(key, f.value()));
      }
    }
    return absl::OkStatus();
  }
  absl::Status Read(od::object& obj, Where where) {
    return Read(obj, where, [](std::string_view, od::value&) { return absl::OkStatus(); });
  }

  // The captured scalar (absent when the object did not have it, or the key is undeclared).
  const Scalar& operator[](std::string_view key) const;
  bool Has(std::string_view key) const { return (*this)[key].has(); }
  Where where() const { return where_; }

  // Required: missing or null is an error. Strings accept any scalar's text; integers accept a
  // JSON integer or a string of digits; decimals a decimal string or a JSON number (exact).
  absl::Status Get(std::string_view key, std::string* out) const;
  absl::Status Get(std::string_view key, std::string_view* out) const;
  absl::Status Get(std::string_view key, Decimal* out) const;
  absl::Status Get(std::string_view key, OptDecimal* out) const;
  absl::Status Get(std::string_view key, int64_t* out) const;
  absl::Status Get(std::string_view key, uint64_t* out) const;
  // true/false, or the strings "true"/"false".
  absl::Status Get(std::string_view key, bool* out) const;
  // Optional: missing or null (and "" for numbers, decimals and booleans) leave *out unchanged;
  // anything else must convert.
  absl::Status GetOpt(std::string_view key, std::string* out) const;
  absl::Status GetOpt(std::string_view key, Decimal* out) const;
  // A value the venue may leave out: set only when present (absent stays absent, never 0).
  absl::Status GetOpt(std::string_view key, OptDecimal* out) const;
  absl::Status GetOpt(std::string_view key, int64_t* out) const;
  absl::Status GetOpt(std::string_view key, uint64_t* out) const;
  absl::Status GetOpt(std::string_view key, bool* out) const;
  // An id that is a JSON string or a JSON integer, as text; missing or null leave *out unchanged.
  absl::Status GetOptId(std::string_view key, std::string* out) const;
  // A timestamp in `nanos_per_unit` units (kNanosPerMilli, kNanosPerMicro) as UnixNanos.
  // Optional: missing, null, "" and 0 leave *out unchanged; negative or overflowing is an error.
  absl::Status GetOptTime(std::string_view key, int64_t nanos_per_unit, UnixNanos* out) const;
  absl::Status GetTime(std::string_view key, int64_t nanos_per_unit, UnixNanos* out) const;

 private:
  size_t Index(std::string_view key) const {
    size_t i = 0;
    while (i < keys_.size() && keys_[i] != key) ++i;
    return i;
  }
  // The captured scalar or an error (undeclared key; missing or null when `required`).
  absl::Status Lookup(std::string_view key, bool required, const Scalar** out) const;
  absl::Status Bad(std::string_view key, std::string_view problem, const Scalar& s) const;

  std::vector<std::string_view> keys_;
  std::vector<Scalar> vals_;
  Where where_{};
};

// ---- conversions of raw text (shared by Fields and hand-written hot paths) -----------------
// Whole-text integer ("-12", "12"); no sign for the unsigned form, no spaces, no overflow.
bool ParseInt64(std::string_view text, int64_t* out);
bool ParseUint64(std::string_view text, uint64_t* out);
// v * nanos_per_unit; false when v is negative or the product overflows.
bool ToNanos(int64_t v, int64_t nanos_per_unit, UnixNanos* out);
// ASCII case-insensitive equality (enum spellings: "Limit" / "LIMIT").
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// ---- structure ---------------------------------------------------------------------------
// Runs fn(od::object&) on the top-level object, or on each element of a top-level array.
template <typename Fn>
absl::Status ForEachObject(od::document& doc, Where where, Fn&& fn) {
  od::json_type t;
  PERPGW_JSON_TRY(doc.type().get(t), where);
  if (t == od::json_type::object) {
    od::object obj;
    PERPGW_JSON_TRY(doc.get_object().get(obj), where);
    return fn(obj);
  }
  if (t != od::json_type::array) return Invalid(where, "expected an object or an array");
  od::array arr;
  PERPGW_JSON_TRY(doc.get_array().get(arr), where);
  for (auto el : arr) {
    od::object obj;
    PERPGW_JSON_TRY(el.get_object().get(obj), where);
    PERPGW_RETURN_IF_ERROR(fn(obj));
  }
  return absl::OkStatus();
}

// Runs fn(od::object&) on each element of a top-level array (anything else is an error).
template <typename Fn>
absl::Status ForEachObjectInArray(od::document& doc, Where where, Fn&& fn) {
  od::array arr;
  if (simdjson::error_code e = doc.get_array().get(arr)) {
    if (e == simdjson::INCORRECT_TYPE) return Invalid(where, "expected a JSON array");
    return JsonError(where, e);
  }
  for (auto el : arr) {
    od::object obj;
    if (simdjson::error_code e = el.get_object().get(obj)) {
      if (e == simdjson::INCORRECT_TYPE) return Invalid(where, "array item is not an object");
      return JsonError(where, e);
    }
    PERPGW_RETURN_IF_ERROR(fn(obj));
  }
  return absl::OkStatus();
}

// Runs fn(od::value&) on each element of the array `v`.
template <typename Fn>
absl::Status ForEachInArray(od::value& v, Where where, Fn&& fn) {
  od::array arr;
  PERPGW_JSON_TRY(v.get_array().get(arr), where);
  for (auto el : arr) {
    od::value ev;
    PERPGW_JSON_TRY(std::move(el).get(ev), where);
    PERPGW_RETURN_IF_ERROR(fn(ev));
  }
  return absl::OkStatus();
}

// The document's top-level object (anything else is an error naming `where`).
absl::Status RootObject(od::document& doc, Where where, od::object* out);
// The document must end after its top-level value (trailing content is malformed). Call it after
// the value has been read through.
absl::Status CheckEnd(od::document& doc, Where where);
// Consumes the remaining fields of an object (so a later CheckEnd sees the real end).
absl::Status SkipRest(od::object& obj, Where where);
// Reads the string fields `keys` (in any order; a non-string value leaves its output empty) and
// rewinds the object for a full pass. Outputs are cleared first.
absl::Status PeekStrings(od::object& obj, Where where,
                         std::initializer_list<std::pair<std::string_view, std::string*>> keys);

// ---- order-book levels -----------------------------------------------------------------------
// [["price","size"], ...] (strings, as every venue sends them) straight to mantissas at the
// given scales: exact, extra digits must be zeros. Price must be > 0 and size >= 0 (0 = remove).
// The decoders' hot loop. The value is taken BY VALUE on purpose: by reference, the caller's
// od::field must live in memory and gcc 12 copies it through a store-forwarding stall on every
// key (bench_ingest measured Backpack depth decode ~50 % slower that way).
namespace detail {
// The rare forms (escapes, exponents, '+', long digit runs, errors): `raw` is the value's raw
// JSON string (just past its opening quote); it is unescaped as get_string() would and read
// with ParseScaled. Errors name the value.
absl::Status LevelValueSlow(const char* raw, int scale, int64_t* out, bool is_price, Where where);
absl::Status LevelError(Where where, simdjson::error_code e, const char* wrong_type);

}  // namespace detail

// Whether a raw JSON string (od::raw_json_string::raw(): just past its opening quote, in a
// validated document) holds an escape before its closing quote.
inline bool RawHasEscape(const char* raw) {
  for (; *raw != '"'; ++raw) {
    if (*raw == '\\') return true;
  }
  return false;
}

// A level's price or size read in place: `raw` is its raw JSON string (od::raw_json_string::raw(),
// just past the opening quote). Plain decimals take ParseScaledQuoted; anything else is
// unescaped and read exactly (ParseScaled); errors name the value.
inline absl::Status ReadLevelValue(const char* raw, int scale, int64_t* out, bool is_price,
                                   Where where) {
  if (ParseScaledQuoted(raw, scale, out)) return absl::OkStatus();
  return detail::LevelValueSlow(raw, scale, out, is_price, where);
}

namespace detail {
template <typename Fn>
inline absl::Status ForEachLevel(od::value v, int ps, int ss, Where where, Fn&& fn) {
  od::array arr;
  if (simdjson::error_code e = v.get_array().get(arr))
    return LevelError(where, e, "book side is not an array");
  for (auto lr : arr) {
    od::array pair;
    if (simdjson::error_code e = lr.get_array().get(pair))
      return LevelError(where, e, "level is not an array");
    // The strings are read in place (raw, not unescaped into simdjson's string buffer): a plain
    // decimal has no escape, and ParseScaledQuoted stops at the closing quote.
    const char* strs[2] = {nullptr, nullptr};
    int n = 0;
    for (auto x : pair) {
      od::raw_json_string s;
      if (simdjson::error_code e = x.get_raw_json_string().get(s))
        return LevelError(where, e, "level values must be strings");
      if (n < 2) strs[n] = s.raw();
      ++n;
    }
    if (n < 2) return Invalid(where, "level needs [price, size]");
    Level l;
    PERPGW_RETURN_IF_ERROR(ReadLevelValue(strs[0], ps, &l.price, true, where));
    PERPGW_RETURN_IF_ERROR(ReadLevelValue(strs[1], ss, &l.size, false, where));
    if (l.price <= 0 || l.size < 0)
      return Invalid(where, "level has a non-positive price or a negative size");
    fn(l);
  }
  return absl::OkStatus();
}
}  // namespace detail

inline absl::Status ReadLevelChanges(od::value v, BookSide side, int price_scale, int size_scale,
                                     std::vector<LevelChange>* out, Where where) {
  return detail::ForEachLevel(v, price_scale, size_scale, where, [&](const Level& l) {
    out->push_back(LevelChange{side, l});
  });
}
inline absl::Status ReadLevels(od::value v, int price_scale, int size_scale,
                               std::vector<Level>* out, Where where) {
  return detail::ForEachLevel(v, price_scale, size_scale, where,
                              [&](const Level& l) { out->push_back(l); });
}

}  // namespace perpgw::wire
