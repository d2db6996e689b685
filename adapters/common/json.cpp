// simdjson on-demand helpers and the JSON string escaper.
#include "adapters/common/json.h"

#include <charconv>

#include "adapters/common/http_client.h"
#include "adapters/common/ws_client.h"

namespace perpgw::common {
namespace {

static_assert(kWsReadPadding >= kJsonPadding, "WsClient must pad messages enough for simdjson");
static_assert(kHttpBodyPadding >= kJsonPadding, "HttpClient must pad bodies enough for simdjson");

std::string Err(std::string_view what, std::string_view problem) {
  return "field '" + std::string(what) + "': " + std::string(problem);
}

std::string ErrCode(std::string_view what, std::string_view expected, simdjson::error_code e) {
  return Err(what, "expected " + std::string(expected) + " (" +
                       std::string(simdjson::error_message(e)) + ")");
}

// Looks the key up in any order; NOT_FOUND for missing, also reports null separately.
absl::StatusOr<ondemand::value> Field(ondemand::object& obj, std::string_view key) {
  ondemand::value v;
  simdjson::error_code e = obj.find_field_unordered(key).get(v);
  if (e == simdjson::NO_SUCH_FIELD) return absl::NotFoundError(Err(key, "missing"));
  if (e) return absl::InvalidArgumentError(Err(key, simdjson::error_message(e)));
  return v;
}

// Present and not null → value; missing or null → nullopt.
absl::StatusOr<std::optional<ondemand::value>> OptionalField(ondemand::object& obj,
                                                             std::string_view key) {
  ondemand::value v;
  simdjson::error_code e = obj.find_field_unordered(key).get(v);
  if (e == simdjson::NO_SUCH_FIELD) return std::optional<ondemand::value>();
  if (e) return absl::InvalidArgumentError(Err(key, simdjson::error_message(e)));
  ondemand::json_type t;
  if (simdjson::error_code te = v.type().get(t)) {
    return absl::InvalidArgumentError(Err(key, simdjson::error_message(te)));
  }
  if (t == ondemand::json_type::null) return std::optional<ondemand::value>();
  return std::optional<ondemand::value>(v);
}

absl::StatusOr<ondemand::json_type> TypeOf(ondemand::value& v, std::string_view what) {
  ondemand::json_type t;
  if (simdjson::error_code e = v.type().get(t)) {
    return absl::InvalidArgumentError(Err(what, simdjson::error_message(e)));
  }
  if (t == ondemand::json_type::null) return absl::InvalidArgumentError(Err(what, "is null"));
  return t;
}

template <typename Int>
absl::StatusOr<Int> ParseIntText(std::string_view s, std::string_view what) {
  Int out{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
    return absl::InvalidArgumentError(
        Err(what, "expected an integer, got \"" + std::string(s.substr(0, 64)) + "\""));
  }
  return out;
}

template <typename Int>
absl::StatusOr<Int> ValueInt(ondemand::value& v, std::string_view what) {
  auto t = TypeOf(v, what);
  if (!t.ok()) return t.status();
  if (*t == ondemand::json_type::string) {
    std::string_view s;
    if (simdjson::error_code e = v.get_string().get(s)) {
      return absl::InvalidArgumentError(ErrCode(what, "string", e));
    }
    return ParseIntText<Int>(s, what);
  }
  if (*t != ondemand::json_type::number) {
    return absl::InvalidArgumentError(Err(what, "expected an integer"));
  }
  Int out{};
  simdjson::error_code e;
  if constexpr (std::is_signed_v<Int>) {
    e = v.get_int64().get(out);
  } else {
    e = v.get_uint64().get(out);
  }
  if (e) return absl::InvalidArgumentError(ErrCode(what, "an integer", e));
  return out;
}

}  // namespace

JsonParser& JsonParser::ThreadLocal() {
  static thread_local JsonParser parser;
  return parser;
}

absl::StatusOr<ondemand::document> JsonParser::Iterate(std::string_view text,
                                                       size_t readable_after) {
  simdjson::padded_string_view input;
  if (readable_after >= kJsonPadding) {
    input = simdjson::padded_string_view(text.data(), text.size(), text.size() + readable_after);
  } else {
    if (buffer_.capacity() < text.size() + kJsonPadding) buffer_.reserve(text.size() + kJsonPadding);
    buffer_.assign(text.data(), text.size());
    input = simdjson::padded_string_view(buffer_.data(), buffer_.size(), buffer_.capacity());
    ++copies_;
  }
  ondemand::document doc;
  if (simdjson::error_code e = parser_.iterate(input).get(doc)) {
    return absl::InvalidArgumentError("json: " + std::string(simdjson::error_message(e)));
  }
  return doc;
}

absl::StatusOr<std::string_view> ValueString(ondemand::value& v, std::string_view what) {
  auto t = TypeOf(v, what);
  if (!t.ok()) return t.status();
  std::string_view s;
  if (simdjson::error_code e = v.get_string().get(s)) {
    return absl::InvalidArgumentError(ErrCode(what, "a string", e));
  }
  return s;
}

absl::StatusOr<int64_t> ValueInt64(ondemand::value& v, std::string_view what) {
  return ValueInt<int64_t>(v, what);
}

absl::StatusOr<std::string_view> ValueDecimalText(ondemand::value& v, std::string_view what) {
  auto t = TypeOf(v, what);
  if (!t.ok()) return t.status();
  if (*t == ondemand::json_type::string) return ValueString(v, what);
  if (*t != ondemand::json_type::number) {
    return absl::InvalidArgumentError(Err(what, "expected a decimal string or number"));
  }
  std::string_view raw = v.raw_json_token();
  // raw_json_token includes whitespace up to the next token.
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' ||
                          raw.back() == '\r')) {
    raw.remove_suffix(1);
  }
  return raw;
}

absl::StatusOr<Decimal> ValueDecimal(ondemand::value& v, std::string_view what) {
  auto text = ValueDecimalText(v, what);
  if (!text.ok()) return text.status();
  auto d = Decimal::Parse(*text);
  if (!d.ok()) return absl::InvalidArgumentError(Err(what, std::string(d.status().message())));
  return *d;
}

absl::StatusOr<int64_t> ValueScaled(ondemand::value& v, std::string_view what, int scale) {
  auto text = ValueDecimalText(v, what);
  if (!text.ok()) return text.status();
  auto m = ParseScaled(*text, scale);
  if (!m.ok()) return absl::InvalidArgumentError(Err(what, std::string(m.status().message())));
  return *m;
}

absl::StatusOr<std::string_view> GetString(ondemand::object& obj, std::string_view key) {
  auto v = Field(obj, key);
  if (!v.ok()) return v.status();
  return ValueString(*v, key);
}

absl::StatusOr<int64_t> GetInt64(ondemand::object& obj, std::string_view key) {
  auto v = Field(obj, key);
  if (!v.ok()) return v.status();
  return ValueInt<int64_t>(*v, key);
}

absl::StatusOr<uint64_t> GetUint64(ondemand::object& obj, std::string_view key) {
  auto v = Field(obj, key);
  if (!v.ok()) return v.status();
  return ValueInt<uint64_t>(*v, key);
}

absl::StatusOr<bool> GetBool(ondemand::object& obj, std::string_view key) {
  auto v = Field(obj, key);
  if (!v.ok()) return v.status();
  auto t = TypeOf(*v, key);
  if (!t.ok()) return t.status();
  if (*t == ondemand::json_type::string) {
    auto s = ValueString(*v, key);
    if (!s.ok()) return s.status();
    if (*s == "true") return true;
    if (*s == "false") return false;
    return absl::InvalidArgumentError(Err(key, "expected a boolean"));
  }
  bool b = false;
  if (simdjson::error_code e = v->get_bool().get(b)) {
    return absl::InvalidArgumentError(ErrCode(key, "a boolean", e));
  }
  return b;
}

absl::StatusOr<std::string_view> GetDecimalText(ondemand::object& obj, std::string_view key) {
  auto v = Field(obj, key);
  if (!v.ok()) return v.status();
  return ValueDecimalText(*v, key);
}

absl::StatusOr<Decimal> GetDecimal(ondemand::object& obj, std::string_view key) {
  auto v = Field(obj, key);
  if (!v.ok()) return v.status();
  return ValueDecimal(*v, key);
}

absl::StatusOr<int64_t> GetScaled(ondemand::object& obj, std::string_view key, int scale) {
  auto v = Field(obj, key);
  if (!v.ok()) return v.status();
  return ValueScaled(*v, key, scale);
}

absl::StatusOr<std::optional<std::string_view>> GetOptionalString(ondemand::object& obj,
                                                                   std::string_view key) {
  auto v = OptionalField(obj, key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<std::string_view>();
  auto s = ValueString(**v, key);
  if (!s.ok()) return s.status();
  return std::optional<std::string_view>(*s);
}

absl::StatusOr<std::optional<int64_t>> GetOptionalInt64(ondemand::object& obj,
                                                        std::string_view key) {
  auto v = OptionalField(obj, key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<int64_t>();
  auto i = ValueInt<int64_t>(**v, key);
  if (!i.ok()) return i.status();
  return std::optional<int64_t>(*i);
}

absl::StatusOr<std::optional<Decimal>> GetOptionalDecimal(ondemand::object& obj,
                                                          std::string_view key) {
  auto v = OptionalField(obj, key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<Decimal>();
  auto d = ValueDecimal(**v, key);
  if (!d.ok()) return d.status();
  return std::optional<Decimal>(*d);
}

void AppendJsonEscaped(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(ch);
        }
    }
  }
}

void AppendJsonQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  AppendJsonEscaped(out, s);
  out->push_back('"');
}

std::string JsonQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendJsonQuoted(&out, s);
  return out;
}

}  // namespace perpgw::common
