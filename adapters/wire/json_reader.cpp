// The JSON reading toolkit (see json_reader.h).
#include "adapters/wire/json_reader.h"

#include <charconv>
#include <cstring>
#include <limits>

namespace perpgw::wire {
namespace {

std::string_view TrimToken(std::string_view t) {
  while (!t.empty() &&
         (t.back() == ' ' || t.back() == '\n' || t.back() == '\r' || t.back() == '\t')) {
    t.remove_suffix(1);
  }
  return t;
}

std::string Quoted(std::string_view text) {
  return "\"" + std::string(text.substr(0, 40)) + (text.size() > 40 ? "...\"" : "\"");
}

}  // namespace

absl::Status Invalid(Where where, std::string_view detail) {
  std::string m;
  m.reserve(where.venue.size() + where.what.size() + detail.size() + 3);
  m.append(where.venue);
  if (!where.what.empty()) {
    if (!m.empty()) m.push_back(' ');
    m.append(where.what);
  }
  m.append(": ");
  m.append(detail);
  return absl::InvalidArgumentError(m);
}

absl::Status JsonError(Where where, simdjson::error_code e) {
  return Invalid(where, std::string("malformed JSON (") + simdjson::error_message(e) + ")");
}

JsonParser& JsonParser::ThreadLocal() {
  static thread_local JsonParser parser;
  return parser;
}

absl::Status JsonParser::Start(std::string_view text, Where where, od::document* doc,
                               size_t readable_after) {
  if (text.empty()) return Invalid(where, "empty body");
  simdjson::padded_string_view input;
  if (readable_after >= kJsonPadding) {
    input = simdjson::padded_string_view(text.data(), text.size(), text.size() + readable_after);
  } else {
    if (buffer_.capacity() < text.size() + kJsonPadding)
      buffer_.reserve(text.size() + kJsonPadding);
    buffer_.assign(text.data(), text.size());
    input = simdjson::padded_string_view(buffer_.data(), buffer_.size(), buffer_.capacity());
    ++copies_;
  }
  PERPGW_JSON_TRY(parser_.iterate(input).get(*doc), where);
  return absl::OkStatus();
}

simdjson::error_code CaptureScalar(od::value& v, Scalar* out) {
  od::json_type t;
  if (simdjson::error_code e = v.type().get(t)) return e;
  switch (t) {
    case od::json_type::string:
      out->present = true;
      out->is_string = true;
      return v.get_string().get(out->text);
    case od::json_type::number:
    case od::json_type::boolean:
      out->present = true;
      out->text = TrimToken(v.raw_json_token());
      return simdjson::SUCCESS;
    case od::json_type::null:
      out->present = true;
      out->is_null = true;
      return simdjson::SUCCESS;
    default: return simdjson::SUCCESS;  // a container: not a scalar, left unread (skipped)
  }
}

// ---- Fields --------------------------------------------------------------------------------

const Scalar& Fields::operator[](std::string_view key) const {
  size_t i = Index(key);
  if (i < keys_.size()) return vals_[i];
  static const Scalar kAbsent;
  return kAbsent;
}

absl::Status Fields::Lookup(std::string_view key, bool required, const Scalar** out) const {
  size_t i = Index(key);
  if (i == keys_.size()) {
    return absl::InternalError("codec bug: " + std::string(where_.venue) + " " +
                               std::string(where_.what) + " reads undeclared key '" +
                               std::string(key) + "'");
  }
  *out = &vals_[i];
  if (required && !vals_[i].has()) return Invalid(where_, "'" + std::string(key) + "' missing");
  return absl::OkStatus();
}

absl::Status Fields::Bad(std::string_view key, std::string_view problem, const Scalar& s) const {
  return Invalid(where_,
                 "'" + std::string(key) + "' " + std::string(problem) + ": " + Quoted(s.text));
}

absl::Status Fields::Get(std::string_view key, std::string* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, true, &s));
  out->assign(s->text);
  return absl::OkStatus();
}

absl::Status Fields::Get(std::string_view key, std::string_view* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, true, &s));
  *out = s->text;
  return absl::OkStatus();
}

absl::Status Fields::Get(std::string_view key, Decimal* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, true, &s));
  auto d = Decimal::Parse(s->text);
  if (!d.ok()) return Bad(key, "is not a decimal", *s);
  *out = *d;
  return absl::OkStatus();
}

absl::Status Fields::Get(std::string_view key, int64_t* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, true, &s));
  if (!ParseInt64(s->text, out)) return Bad(key, "is not an integer", *s);
  return absl::OkStatus();
}

absl::Status Fields::Get(std::string_view key, uint64_t* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, true, &s));
  if (!ParseUint64(s->text, out)) return Bad(key, "is not an unsigned integer", *s);
  return absl::OkStatus();
}

absl::Status Fields::Get(std::string_view key, bool* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, true, &s));
  if (s->text == "true") {
    *out = true;
  } else if (s->text == "false") {
    *out = false;
  } else {
    return Bad(key, "is not a boolean", *s);
  }
  return absl::OkStatus();
}

absl::Status Fields::GetOpt(std::string_view key, std::string* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, false, &s));
  if (s->has()) out->assign(s->text);
  return absl::OkStatus();
}

absl::Status Fields::GetOpt(std::string_view key, Decimal* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, false, &s));
  return s->has_text() ? Get(key, out) : absl::OkStatus();
}

absl::Status Fields::GetOpt(std::string_view key, OptDecimal* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, false, &s));
  return s->has_text() ? Get(key, out) : absl::OkStatus();
}

absl::Status Fields::Get(std::string_view key, OptDecimal* out) const {
  Decimal d;
  PERPGW_RETURN_IF_ERROR(Get(key, &d));
  *out = d;
  return absl::OkStatus();
}

absl::Status Fields::GetOpt(std::string_view key, int64_t* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, false, &s));
  return s->has_text() ? Get(key, out) : absl::OkStatus();
}

absl::Status Fields::GetOpt(std::string_view key, uint64_t* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, false, &s));
  return s->has_text() ? Get(key, out) : absl::OkStatus();
}

absl::Status Fields::GetOpt(std::string_view key, bool* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, false, &s));
  return s->has_text() ? Get(key, out) : absl::OkStatus();
}

absl::Status Fields::GetOptId(std::string_view key, std::string* out) const {
  const Scalar* s;
  PERPGW_RETURN_IF_ERROR(Lookup(key, false, &s));
  if (!s->has()) return absl::OkStatus();
  if (!s->is_string) {
    int64_t i;
    uint64_t u;
    if (!ParseInt64(s->text, &i) && !ParseUint64(s->text, &u)) {
      return Bad(key, "is not an id (string or integer)", *s);
    }
  }
  out->assign(s->text);
  return absl::OkStatus();
}

absl::Status Fields::GetOptTime(std::string_view key, int64_t nanos_per_unit,
                                UnixNanos* out) const {
  int64_t v = 0;
  PERPGW_RETURN_IF_ERROR(GetOpt(key, &v));
  if (v == 0) return absl::OkStatus();
  if (!ToNanos(v, nanos_per_unit, out)) return Bad(key, "is not a valid timestamp", (*this)[key]);
  return absl::OkStatus();
}

absl::Status Fields::GetTime(std::string_view key, int64_t nanos_per_unit, UnixNanos* out) const {
  int64_t v = 0;
  PERPGW_RETURN_IF_ERROR(Get(key, &v));
  if (!ToNanos(v, nanos_per_unit, out)) return Bad(key, "is not a valid timestamp", (*this)[key]);
  return absl::OkStatus();
}

// ---- text conversions ----------------------------------------------------------------------

bool ParseInt64(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

bool ParseUint64(std::string_view text, uint64_t* out) {
  if (text.empty() || text[0] == '-') return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

bool ToNanos(int64_t v, int64_t nanos_per_unit, UnixNanos* out) {
  if (v < 0 || nanos_per_unit <= 0 || v > std::numeric_limits<int64_t>::max() / nanos_per_unit) {
    return false;
  }
  *out = v * nanos_per_unit;
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// ---- structure ---------------------------------------------------------------------------

absl::Status RootObject(od::document& doc, Where where, od::object* out) {
  if (simdjson::error_code e = doc.get_object().get(*out)) {
    if (e == simdjson::INCORRECT_TYPE) return Invalid(where, "expected a JSON object");
    return JsonError(where, e);
  }
  return absl::OkStatus();
}

absl::Status CheckEnd(od::document& doc, Where where) {
  // current_location() fails once every token has been consumed.
  if (doc.current_location().error() == simdjson::SUCCESS) {
    return Invalid(where, "trailing content after the JSON value");
  }
  return absl::OkStatus();
}

absl::Status SkipRest(od::object& obj, Where where) {
  for (auto fr : obj) {
    od::field f;
    PERPGW_JSON_TRY(std::move(fr).get(f), where);
  }
  return absl::OkStatus();
}

absl::Status PeekStrings(od::object& obj, Where where,
                         std::initializer_list<std::pair<std::string_view, std::string*>> keys) {
  for (const auto& [key, out] : keys) {
    out->clear();
    od::value v;
    simdjson::error_code e = obj.find_field_unordered(key).get(v);
    if (e == simdjson::NO_SUCH_FIELD) continue;
    // Anything else leaves the iterator unusable (a syntax error further in): stop here.
    PERPGW_JSON_TRY(e, where);
    od::json_type t;
    PERPGW_JSON_TRY(v.type().get(t), where);
    if (t != od::json_type::string) continue;
    std::string_view s;
    PERPGW_JSON_TRY(v.get_string().get(s), where);
    out->assign(s);
  }
  PERPGW_JSON_TRY(obj.reset().error(), where);
  return absl::OkStatus();
}

namespace detail {

absl::Status LevelValueSlow(const char* raw, int scale, int64_t* out, bool is_price, Where where) {
  // The raw string runs to the first quote not escaped by a backslash (the document is
  // validated, so it is there).
  size_t len = 0;
  bool escaped = false;
  while (raw[len] != '"') {
    if (raw[len] == '\\') {
      escaped = true;
      ++len;
    }
    ++len;
  }
  std::string_view s(raw, len);
  std::string unescaped;
  if (escaped) {
    // Unescaped exactly as get_string() does, by simdjson itself over the lone string token.
    simdjson::padded_string token(len + 2);
    token.data()[0] = '"';
    std::memcpy(token.data() + 1, raw, len);
    token.data()[len + 1] = '"';
    od::parser parser;
    od::document doc;
    std::string_view text;
    simdjson::error_code e = parser.iterate(token).get(doc);
    if (!e) e = doc.get_string().get(text);
    if (e) return JsonError(where, e);
    unescaped.assign(text);
    s = unescaped;
  }
  auto r = ParseScaled(s, scale);
  if (!r.ok()) {
    return Invalid(where, std::string(is_price ? "price " : "size ") + Quoted(s) +
                              " does not fit scale " + std::to_string(scale));
  }
  *out = *r;
  return absl::OkStatus();
}

absl::Status LevelError(Where where, simdjson::error_code e, const char* wrong_type) {
  if (e == simdjson::INCORRECT_TYPE) return Invalid(where, wrong_type);
  return JsonError(where, e);
}

}  // namespace detail

}  // namespace perpgw::wire
