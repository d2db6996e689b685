// JsonWriter and the simdjson-based flat object reader.
#include "sim/core/json.h"

#include "adapters/wire/json_writer.h"

#include <simdjson.h>


namespace perpgw::sim {

void JsonWriter::Sep() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

JsonWriter& JsonWriter::BeginObject() {
  Sep();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}
JsonWriter& JsonWriter::EndObject() {
  out_.push_back('}');
  if (!first_.empty()) first_.pop_back();
  return *this;
}
JsonWriter& JsonWriter::BeginArray() {
  Sep();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}
JsonWriter& JsonWriter::EndArray() {
  out_.push_back(']');
  if (!first_.empty()) first_.pop_back();
  return *this;
}
JsonWriter& JsonWriter::Key(std::string_view k) {
  Sep();
  wire::AppendJsonQuoted(&out_, k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}
JsonWriter& JsonWriter::String(std::string_view v) {
  Sep();
  wire::AppendJsonQuoted(&out_, v);
  return *this;
}
JsonWriter& JsonWriter::Int(int64_t v) {
  Sep();
  out_.append(std::to_string(v));
  return *this;
}
JsonWriter& JsonWriter::UInt(uint64_t v) {
  Sep();
  out_.append(std::to_string(v));
  return *this;
}
JsonWriter& JsonWriter::Bool(bool v) {
  Sep();
  out_.append(v ? "true" : "false");
  return *this;
}
JsonWriter& JsonWriter::Null() {
  Sep();
  out_.append("null");
  return *this;
}
JsonWriter& JsonWriter::Raw(std::string_view json) {
  Sep();
  out_.append(json);
  return *this;
}

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

absl::Status ReadObject(simdjson::ondemand::object obj, JsonFields* out) {
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return absl::InvalidArgumentError("bad JSON key");
    simdjson::ondemand::value v;
    if (field.value().get(v)) return absl::InvalidArgumentError("bad JSON value");
    simdjson::ondemand::json_type type;
    if (v.type().get(type)) return absl::InvalidArgumentError("bad JSON value type");
    std::string text;
    switch (type) {
      case simdjson::ondemand::json_type::string: {
        std::string_view s;
        if (v.get_string().get(s)) return absl::InvalidArgumentError("bad JSON string");
        text = std::string(s);
        break;
      }
      case simdjson::ondemand::json_type::object: {
        simdjson::ondemand::object o;
        std::string_view raw;
        if (v.get_object().get(o) || o.raw_json().get(raw)) {
          return absl::InvalidArgumentError("bad JSON object");
        }
        text = std::string(Trim(raw));
        break;
      }
      case simdjson::ondemand::json_type::array: {
        simdjson::ondemand::array a;
        std::string_view raw;
        if (v.get_array().get(a) || a.raw_json().get(raw)) {
          return absl::InvalidArgumentError("bad JSON array");
        }
        text = std::string(Trim(raw));
        break;
      }
      default:
        text = std::string(Trim(v.raw_json_token()));
    }
    (*out)[std::string(key)] = std::move(text);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<JsonFields> ParseJsonObject(std::string_view json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return absl::InvalidArgumentError("invalid JSON");
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return absl::InvalidArgumentError("JSON body must be an object");
  JsonFields out;
  if (auto st = ReadObject(obj, &out); !st.ok()) return st;
  return out;
}

absl::StatusOr<std::vector<JsonFields>> ParseJsonObjectArray(std::string_view json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return absl::InvalidArgumentError("invalid JSON");
  simdjson::ondemand::array arr;
  if (doc.get_array().get(arr)) return absl::InvalidArgumentError("JSON must be an array");
  std::vector<JsonFields> out;
  for (auto el : arr) {
    simdjson::ondemand::object obj;
    if (el.get_object().get(obj)) return absl::InvalidArgumentError("array element not an object");
    JsonFields f;
    if (auto st = ReadObject(obj, &f); !st.ok()) return st;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace perpgw::sim
