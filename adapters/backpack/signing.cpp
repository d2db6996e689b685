// Backpack Ed25519 signing (see signing.h and protocols/backpack.md section 9).
#include "adapters/backpack/signing.h"

#include <algorithm>
#include <utility>

#include "simdjson.h"

namespace perpgw::adapters::backpack {
namespace {

void AppendSorted(std::string* out, std::vector<SignParam>* params) {
  std::stable_sort(params->begin(), params->end(),
                   [](const SignParam& a, const SignParam& b) { return a.key < b.key; });
  for (const SignParam& p : *params) {
    out->push_back('&');
    out->append(p.key);
    out->push_back('=');
    out->append(p.value);
  }
}

void AppendTail(std::string* out, int64_t timestamp_ms, int64_t window_ms) {
  out->append("&timestamp=");
  out->append(std::to_string(timestamp_ms));
  out->append("&window=");
  out->append(std::to_string(window_ms));
}

absl::Status CheckTimes(int64_t timestamp_ms, int64_t window_ms) {
  if (timestamp_ms <= 0) return absl::InvalidArgumentError("backpack: timestamp must be > 0");
  if (window_ms <= 0 || window_ms > kMaxWindowMs) {
    return absl::InvalidArgumentError("backpack: window must be in [1, 60000] ms, got " +
                                      std::to_string(window_ms));
  }
  return absl::OkStatus();
}

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Parses one flat JSON object value into params.
absl::Status CollectObject(simdjson::ondemand::object obj, std::vector<SignParam>* out) {
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return absl::InvalidArgumentError("bad JSON key");
    simdjson::ondemand::value v;
    if (field.value().get(v)) return absl::InvalidArgumentError("bad JSON value");
    simdjson::ondemand::json_type t;
    if (v.type().get(t)) return absl::InvalidArgumentError("bad JSON value type");
    SignParam p{std::string(key), {}};
    switch (t) {
      case simdjson::ondemand::json_type::string: {
        std::string_view s;
        if (v.get_string().get(s)) return absl::InvalidArgumentError("bad JSON string");
        p.value = std::string(s);
        break;
      }
      case simdjson::ondemand::json_type::number: {
        std::string_view raw = v.raw_json_token();
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                                raw.back() == '\t')) {
          raw.remove_suffix(1);
        }
        p.value = std::string(raw);
        break;
      }
      case simdjson::ondemand::json_type::boolean: {
        bool b;
        if (v.get_bool().get(b)) return absl::InvalidArgumentError("bad JSON bool");
        p.value = b ? "true" : "false";
        break;
      }
      case simdjson::ondemand::json_type::null:
        continue;
      default:
        return absl::InvalidArgumentError("backpack: nested value for '" + p.key +
                                          "' is not signable");
    }
    out->push_back(std::move(p));
  }
  return absl::OkStatus();
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) {
      return absl::InvalidArgumentError("backpack: bad percent escape in query");
    }
    int hi = HexVal(s[i + 1]), lo = HexVal(s[i + 2]);
    if (hi < 0 || lo < 0) return absl::InvalidArgumentError("backpack: bad percent escape");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

absl::Status VerifyString(const SignedRequestView& h, const std::string& signing_string) {
  auto pub = crypto::Base64Decode(h.api_key);
  if (!pub.ok() || pub->size() != 32) {
    return absl::UnauthenticatedError("Invalid X-API-Key header");
  }
  auto sig = crypto::Base64Decode(h.signature);
  if (!sig.ok() || sig->size() != 64) {
    return absl::UnauthenticatedError("Invalid X-Signature header");
  }
  std::array<uint8_t, 32> pk;
  std::copy(pub->begin(), pub->end(), pk.begin());
  if (!crypto::Ed25519Verify(pk, signing_string, sig->data())) {
    return absl::UnauthenticatedError("Invalid signature");
  }
  return absl::OkStatus();
}

// Validates timestamp/window headers and the expiry rule; fills the parsed values.
absl::Status CheckHeaders(const SignedRequestView& h, std::optional<int64_t> now_ms, int64_t* ts,
                          int64_t* window) {
  if (!ParseInt64(h.timestamp, ts) || *ts <= 0) {
    return absl::InvalidArgumentError("Invalid X-Timestamp header");
  }
  *window = kDefaultWindowMs;
  if (!h.window.empty() && (!ParseInt64(h.window, window) || *window <= 0)) {
    return absl::InvalidArgumentError("Invalid X-Window header");
  }
  if (*window > kMaxWindowMs) return absl::InvalidArgumentError("Invalid X-Window header");
  if (now_ms) {
    if (*now_ms > *ts + *window) return absl::UnauthenticatedError("Request has expired");
    if (*ts > *now_ms + *window) {
      return absl::UnauthenticatedError("Request timestamp is in the future");
    }
  }
  return absl::OkStatus();
}

}  // namespace

ParamList& ParamList::Add(std::string_view key, std::string_view value) {
  params_.push_back({std::string(key), std::string(value)});
  return *this;
}
ParamList& ParamList::AddBool(std::string_view key, bool value) {
  return Add(key, value ? "true" : "false");
}
ParamList& ParamList::AddInt(std::string_view key, int64_t value) {
  return Add(key, std::to_string(value));
}
ParamList& ParamList::AddUint(std::string_view key, uint64_t value) {
  return Add(key, std::to_string(value));
}

std::string BuildSigningString(std::string_view instruction, std::vector<SignParam> params,
                               int64_t timestamp_ms, int64_t window_ms) {
  std::string out = "instruction=";
  out.append(instruction);
  AppendSorted(&out, &params);
  AppendTail(&out, timestamp_ms, window_ms);
  return out;
}

std::string BuildBatchSigningString(std::string_view instruction,
                                    std::vector<std::vector<SignParam>> items, int64_t timestamp_ms,
                                    int64_t window_ms) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back('&');
    out.append("instruction=");
    out.append(instruction);
    AppendSorted(&out, &items[i]);
  }
  if (items.empty()) {
    out.append("instruction=");
    out.append(instruction);
  }
  AppendTail(&out, timestamp_ms, window_ms);
  return out;
}

Signer::Signer(crypto::Ed25519Key key)
    : key_(std::move(key)), api_key_b64_(key_.PublicKeyBase64()) {}

absl::StatusOr<Signer> Signer::FromSecretBase64(std::string_view secret_b64) {
  auto raw = crypto::Base64Decode(secret_b64);
  if (!raw.ok()) return absl::InvalidArgumentError("backpack: API secret is not valid base64");
  if (raw->size() != 32 && raw->size() != 64) {
    size_t n = raw->size();
    crypto::SecureWipe(raw->data(), raw->size());
    return absl::InvalidArgumentError("backpack: API secret must decode to 32 or 64 bytes, got " +
                                      std::to_string(n));
  }
  crypto::Bytes seed(raw->begin(), raw->begin() + 32);
  auto key = crypto::Ed25519Key::FromSeed(seed);
  crypto::SecureWipe(seed.data(), seed.size());
  bool pub_mismatch = false;
  if (key.ok() && raw->size() == 64) {
    pub_mismatch =
        !std::equal(key->public_key().begin(), key->public_key().end(), raw->begin() + 32);
  }
  crypto::SecureWipe(raw->data(), raw->size());
  if (!key.ok()) return absl::InvalidArgumentError("backpack: API secret rejected as Ed25519 seed");
  if (pub_mismatch) {
    return absl::InvalidArgumentError(
        "backpack: 64-byte API secret's public half does not match its seed");
  }
  return Signer(std::move(*key));
}

std::string Signer::SignStringBase64(std::string_view signing_string) const {
  std::array<uint8_t, 64> sig = key_.Sign(signing_string);
  return crypto::Base64Encode(sig.data(), sig.size());
}

absl::StatusOr<AuthHeaders> Signer::Sign(std::string_view instruction,
                                         std::vector<SignParam> params, int64_t timestamp_ms,
                                         int64_t window_ms) const {
  if (auto st = CheckTimes(timestamp_ms, window_ms); !st.ok()) return st;
  AuthHeaders h;
  h.signing_string = BuildSigningString(instruction, std::move(params), timestamp_ms, window_ms);
  h.api_key = api_key_b64_;
  h.signature = SignStringBase64(h.signing_string);
  h.timestamp = std::to_string(timestamp_ms);
  h.window = std::to_string(window_ms);
  return h;
}

absl::StatusOr<AuthHeaders> Signer::SignBatch(std::string_view instruction,
                                              std::vector<std::vector<SignParam>> items,
                                              int64_t timestamp_ms, int64_t window_ms) const {
  if (auto st = CheckTimes(timestamp_ms, window_ms); !st.ok()) return st;
  if (items.empty()) return absl::InvalidArgumentError("backpack: empty batch");
  AuthHeaders h;
  h.signing_string =
      BuildBatchSigningString(instruction, std::move(items), timestamp_ms, window_ms);
  h.api_key = api_key_b64_;
  h.signature = SignStringBase64(h.signing_string);
  h.timestamp = std::to_string(timestamp_ms);
  h.window = std::to_string(window_ms);
  return h;
}

absl::StatusOr<WsSignature> Signer::SignWsSubscribe(int64_t timestamp_ms, int64_t window_ms) const {
  auto h = Sign("subscribe", {}, timestamp_ms, window_ms);
  if (!h.ok()) return h.status();
  return WsSignature{h->api_key, h->signature, h->timestamp, h->window};
}

absl::StatusOr<std::string> InstructionFor(std::string_view method, std::string_view path) {
  struct Route {
    std::string_view method, path, instruction;
  };
  static constexpr Route kRoutes[] = {
      {"GET", "/api/v1/account", "accountQuery"},
      {"PATCH", "/api/v1/account", "accountUpdate"},
      {"GET", "/api/v1/account/limits/order", "maxOrderQuantity"},
      {"GET", "/api/v1/account/limits/borrow", "maxBorrowQuantity"},
      {"GET", "/api/v1/account/limits/withdrawal", "maxWithdrawalQuantity"},
      {"GET", "/api/v1/capital", "balanceQuery"},
      {"GET", "/api/v1/capital/collateral", "collateralQuery"},
      {"GET", "/api/v1/position", "positionQuery"},
      {"POST", "/api/v1/order", "orderExecute"},
      {"DELETE", "/api/v1/order", "orderCancel"},
      {"GET", "/api/v1/order", "orderQuery"},
      {"POST", "/api/v1/orders", "orderExecute"},
      {"GET", "/api/v1/orders", "orderQueryAll"},
      {"DELETE", "/api/v1/orders", "orderCancelAll"},
      {"GET", "/wapi/v1/history/orders", "orderHistoryQueryAll"},
      {"GET", "/wapi/v1/history/fills", "fillHistoryQueryAll"},
      {"GET", "/wapi/v1/history/funding", "fundingHistoryQueryAll"},
      {"GET", "/wapi/v1/history/position", "positionHistoryQueryAll"},
      {"GET", "/wapi/v1/capital/deposits", "depositQueryAll"},
      {"GET", "/wapi/v1/capital/withdrawals", "withdrawalQueryAll"},
      {"POST", "/wapi/v1/capital/withdrawals", "withdraw"},
      {"GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery"},
  };
  size_t q = path.find('?');
  if (q != std::string_view::npos) path = path.substr(0, q);
  for (const Route& r : kRoutes) {
    if (r.method == method && r.path == path) return std::string(r.instruction);
  }
  return absl::NotFoundError("backpack: no instruction for " + std::string(method) + " " +
                             std::string(path));
}

absl::StatusOr<std::vector<SignParam>> ParamsFromJsonObject(std::string_view json) {
  simdjson::padded_string padded(json);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return absl::InvalidArgumentError("backpack: bad JSON body");
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) {
    return absl::InvalidArgumentError("backpack: JSON body is not an object");
  }
  std::vector<SignParam> out;
  if (auto st = CollectObject(obj, &out); !st.ok()) {
    return absl::InvalidArgumentError("backpack: " + std::string(st.message()));
  }
  return out;
}

absl::StatusOr<std::vector<std::vector<SignParam>>> ParamsFromJsonArray(std::string_view json) {
  simdjson::padded_string padded(json);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return absl::InvalidArgumentError("backpack: bad JSON body");
  simdjson::ondemand::array arr;
  if (doc.get_array().get(arr)) {
    return absl::InvalidArgumentError("backpack: JSON body is not an array");
  }
  std::vector<std::vector<SignParam>> out;
  for (auto elem : arr) {
    simdjson::ondemand::object obj;
    if (elem.get_object().get(obj)) {
      return absl::InvalidArgumentError("backpack: batch element is not an object");
    }
    std::vector<SignParam> item;
    if (auto st = CollectObject(obj, &item); !st.ok()) {
      return absl::InvalidArgumentError("backpack: " + std::string(st.message()));
    }
    out.push_back(std::move(item));
  }
  return out;
}

absl::StatusOr<std::vector<SignParam>> ParamsFromQueryString(std::string_view query) {
  std::vector<SignParam> out;
  if (!query.empty() && query[0] == '?') query.remove_prefix(1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq));
    if (!key.ok()) return key.status();
    auto value =
        PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!value.ok()) return value.status();
    out.push_back({std::move(*key), std::move(*value)});
  }
  return out;
}

absl::Status VerifyRequest(const SignedRequestView& headers, std::string_view instruction,
                           const std::vector<SignParam>& params, std::optional<int64_t> now_ms) {
  int64_t ts = 0, window = 0;
  if (auto st = CheckHeaders(headers, now_ms, &ts, &window); !st.ok()) return st;
  return VerifyString(headers, BuildSigningString(instruction, params, ts, window));
}

absl::Status VerifyBatchRequest(const SignedRequestView& headers, std::string_view instruction,
                                const std::vector<std::vector<SignParam>>& items,
                                std::optional<int64_t> now_ms) {
  int64_t ts = 0, window = 0;
  if (auto st = CheckHeaders(headers, now_ms, &ts, &window); !st.ok()) return st;
  return VerifyString(headers, BuildBatchSigningString(instruction, items, ts, window));
}

absl::Status VerifyWsSubscribe(const WsSignature& sig, std::optional<int64_t> now_ms) {
  SignedRequestView v{sig.api_key, sig.signature, sig.timestamp, sig.window};
  return VerifyRequest(v, "subscribe", {}, now_ms);
}

}  // namespace perpgw::adapters::backpack
