// simdjson (on-demand) helpers: a reusable padded parser, typed field getters with clear
// absl errors, and a JSON string escaper for outgoing frames.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "absl/status/statusor.h"
#include "adapters/api/decimal.h"

namespace perpgw::common {

namespace ondemand = simdjson::ondemand;

// simdjson reads up to this many bytes past the end of the input.
inline constexpr size_t kJsonPadding = simdjson::SIMDJSON_PADDING;

// One per thread (ThreadLocal()) or per adapter. Not thread-safe. A document (and every
// string_view taken from it) is valid only until the next Iterate on the same parser and
// while the input bytes stay alive.
class JsonParser {
 public:
  JsonParser() = default;
  JsonParser(const JsonParser&) = delete;
  JsonParser& operator=(const JsonParser&) = delete;

  static JsonParser& ThreadLocal();

  // `readable_after`: how many bytes after text.end() the caller guarantees are readable
  // (WsClient messages guarantee kWsReadPadding, which is >= kJsonPadding). With enough
  // padding the input is parsed in place; otherwise it is copied into an internal buffer that
  // only grows (no allocation once warmed up).
  absl::StatusOr<ondemand::document> Iterate(std::string_view text, size_t readable_after = 0);
  // Uses the string's spare capacity as padding (HttpResponse::body reserves it).
  absl::StatusOr<ondemand::document> Iterate(const std::string& text) {
    return Iterate(std::string_view(text), text.capacity() - text.size());
  }

  ondemand::parser& raw() { return parser_; }
  // Number of times the input had to be copied (tests/benchmarks check the zero-copy path).
  uint64_t copies() const { return copies_; }

 private:
  ondemand::parser parser_;
  std::string buffer_;
  uint64_t copies_ = 0;
};

// ---- field getters: "missing", "null" and wrong types are errors naming the field ----------
// Strings are views into the parser's buffer (see JsonParser lifetime note).
absl::StatusOr<std::string_view> GetString(ondemand::object& obj, std::string_view key);
// Accepts a JSON integer or a string holding one ("123"): venues disagree on ids and times.
absl::StatusOr<int64_t> GetInt64(ondemand::object& obj, std::string_view key);
absl::StatusOr<uint64_t> GetUint64(ondemand::object& obj, std::string_view key);
// Accepts true/false, or the strings "true"/"false".
absl::StatusOr<bool> GetBool(ondemand::object& obj, std::string_view key);
// Exact: a decimal string ("0.001") or a JSON number taken from its raw text (never via double).
absl::StatusOr<std::string_view> GetDecimalText(ondemand::object& obj, std::string_view key);
absl::StatusOr<Decimal> GetDecimal(ondemand::object& obj, std::string_view key);
// Mantissa at a fixed scale (ParseScaled rules: extra fractional digits must be zeros).
absl::StatusOr<int64_t> GetScaled(ondemand::object& obj, std::string_view key, int scale);
// nullopt when the field is missing or null; an error only for a wrong type.
absl::StatusOr<std::optional<std::string_view>> GetOptionalString(ondemand::object& obj,
                                                                   std::string_view key);
absl::StatusOr<std::optional<int64_t>> GetOptionalInt64(ondemand::object& obj,
                                                        std::string_view key);
absl::StatusOr<std::optional<Decimal>> GetOptionalDecimal(ondemand::object& obj,
                                                          std::string_view key);

// ---- value getters (array elements such as ["price","size"]); `what` names it in errors ----
absl::StatusOr<std::string_view> ValueString(ondemand::value& v, std::string_view what);
absl::StatusOr<int64_t> ValueInt64(ondemand::value& v, std::string_view what);
absl::StatusOr<std::string_view> ValueDecimalText(ondemand::value& v, std::string_view what);
absl::StatusOr<Decimal> ValueDecimal(ondemand::value& v, std::string_view what);
absl::StatusOr<int64_t> ValueScaled(ondemand::value& v, std::string_view what, int scale);

// ---- outgoing JSON -------------------------------------------------------------------------
// Appends s escaped for use inside a JSON string (no quotes added): " \ and control characters
// are escaped; other bytes (UTF-8) pass through unchanged.
void AppendJsonEscaped(std::string* out, std::string_view s);
// "\"" + escaped + "\"".
std::string JsonQuote(std::string_view s);
void AppendJsonQuoted(std::string* out, std::string_view s);

}  // namespace perpgw::common
