// Paradex module helpers: error bodies, the ES384 JWT issuer (OpenSSL), number formats and the
// venue's spelling of engine states. Stark signatures are verified with the adapter's pure
// signing code (adapters/paradex/signing.h), never re-implemented here.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstring>

#include "adapters/common/crypto.h"
#include "sim/paradex/internal.h"

namespace perpgw::sim::paradex {

void WriteError(HttpResponse& resp, const ApiError& e) {
  JsonWriter w;
  w.BeginObject().Field("error", e.code).Field("message", e.message).EndObject();
  resp.Json(e.http, w.Take());
}

void WriteJson(HttpResponse& resp, int status, std::string body) {
  resp.Json(status, std::move(body));
}

// ---- JWT ----------------------------------------------------------------------------------

namespace {

std::string B64Url(const uint8_t* data, size_t n) {
  std::string s = crypto::Base64Encode(data, n);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}
std::string B64Url(std::string_view s) {
  return B64Url(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
bool B64UrlDecode(std::string_view in, std::string* out) {
  std::string s(in);
  for (char& c : s) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (s.size() % 4 != 0) s.push_back('=');
  auto b = crypto::Base64Decode(s);
  if (!b.ok()) return false;
  out->assign(b->begin(), b->end());
  return true;
}

constexpr size_t kCoord = 48;  // P-384

}  // namespace

struct JwtIssuer::Key {
  EVP_PKEY* pkey = nullptr;
};

JwtIssuer::JwtIssuer() : key_(new Key) {
  key_->pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
}

JwtIssuer::~JwtIssuer() {
  EVP_PKEY_free(key_->pkey);
  delete key_;
}

std::string JwtIssuer::Issue(std::string_view account, int64_t iat_s, int64_t exp_s) const {
  JsonWriter payload;
  payload.BeginObject()
      .Field("typ", "at+JWT")
      .Field("exp", exp_s)
      .Field("iat", iat_s)
      .Field("iss", "Paradex perpgw-sim")
      .Field("sub", account)
      .Field("jti", std::to_string(next_jti_++))
      .EndObject();
  std::string input = B64Url(R"({"alg":"ES384","typ":"JWT"})") + "." + B64Url(payload.str());
  std::string sig_raw;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t der_len = 0;
  if (ctx != nullptr && key_->pkey != nullptr &&
      EVP_DigestSignInit(ctx, nullptr, EVP_sha384(), nullptr, key_->pkey) == 1 &&
      EVP_DigestSign(ctx, nullptr, &der_len, reinterpret_cast<const uint8_t*>(input.data()),
                     input.size()) == 1) {
    std::vector<uint8_t> der(der_len);
    if (EVP_DigestSign(ctx, der.data(), &der_len, reinterpret_cast<const uint8_t*>(input.data()),
                       input.size()) == 1) {
      const uint8_t* p = der.data();
      ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len));
      if (sig != nullptr) {
        uint8_t rs[2 * kCoord];
        BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, kCoord);
        BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + kCoord, kCoord);
        sig_raw = B64Url(rs, sizeof rs);
        ECDSA_SIG_free(sig);
      }
    }
  }
  EVP_MD_CTX_free(ctx);
  return input + "." + sig_raw;
}

bool JwtIssuer::Verify(std::string_view token, std::string* sub, int64_t* jti,
                       int64_t* exp_s) const {
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || key_->pkey == nullptr) return false;
  std::string sig;
  if (!B64UrlDecode(token.substr(d2 + 1), &sig) || sig.size() != 2 * kCoord) return false;
  ECDSA_SIG* es = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const uint8_t*>(sig.data()), kCoord, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const uint8_t*>(sig.data()) + kCoord, kCoord, nullptr);
  ECDSA_SIG_set0(es, r, s);
  uint8_t* der = nullptr;
  int der_len = i2d_ECDSA_SIG(es, &der);
  ECDSA_SIG_free(es);
  bool ok = false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string_view input = token.substr(0, d2);
  if (der_len > 0 && ctx != nullptr &&
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha384(), nullptr, key_->pkey) == 1) {
    ok = EVP_DigestVerify(ctx, der, static_cast<size_t>(der_len),
                          reinterpret_cast<const uint8_t*>(input.data()), input.size()) == 1;
  }
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  if (!ok) return false;
  std::string payload;
  if (!B64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1), &payload)) return false;
  auto f = ParseJsonObject(payload);
  if (!f.ok()) return false;
  auto it = f->find("sub");
  auto ex = f->find("exp");
  auto ia = f->find("jti");
  if (it == f->end() || ex == f->end() || ia == f->end()) return false;
  *sub = it->second;
  char* end1 = nullptr;
  char* end2 = nullptr;
  *exp_s = std::strtoll(ex->second.c_str(), &end1, 10);
  *jti = std::strtoll(ia->second.c_str(), &end2, 10);
  return *end1 == '\0' && *end2 == '\0';
}

std::string JwtIssuer::JwksJson() const {
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  std::string xs, ys;
  if (key_->pkey != nullptr &&
      EVP_PKEY_get_bn_param(key_->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
      EVP_PKEY_get_bn_param(key_->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1) {
    uint8_t buf[kCoord];
    BN_bn2binpad(x, buf, kCoord);
    xs = B64Url(buf, kCoord);
    BN_bn2binpad(y, buf, kCoord);
    ys = B64Url(buf, kCoord);
  }
  BN_free(x);
  BN_free(y);
  JsonWriter w;
  w.BeginObject().Key("keys").BeginArray().BeginObject();
  w.Field("kty", "EC").Field("crv", "P-384").Field("alg", "ES384").Field("use", "sig");
  w.Field("kid", "perpgw-sim").Field("x", xs).Field("y", ys);
  w.EndObject().EndArray().EndObject();
  return w.Take();
}

// ---- formats ------------------------------------------------------------------------------

std::string Trimmed(int64_t mantissa, int scale) {
  return Decimal::FromUnits(mantissa, scale).ToNormalizedString();
}
std::string MoneyText(Money m) {
  return Trimmed(m, kMoneyScale);
}
std::string RateText(int64_t rate) {
  return Trimmed(rate, kRateScale);
}
int64_t ToMs(UnixNanos t) {
  return t / 1'000'000;
}
int64_t ToUs(UnixNanos t) {
  return t / 1'000;
}

const char* SideText(Side s) {
  return s == Side::kBuy ? "BUY" : "SELL";
}

const char* OrderStatusText(const SimOrder& o) {
  if (o.awaiting_trigger()) return "UNTRIGGERED";
  if (o.open()) return "OPEN";
  if (o.status == OrderStatus::kPendingNew) return "NEW";
  return "CLOSED";
}

std::string CancelReasonText(const SimOrder& o) {
  if (o.open() || o.status == OrderStatus::kPendingNew || o.status == OrderStatus::kFilled) {
    return "";
  }
  // The venue's cancel_reason vocabulary is not enumerated in the notes (NOT_ENOUGH_MARGIN is
  // the one named); these names follow its style and carry the words clients match on.
  switch (o.reject) {
    case RejectCode::kPostOnlyViolation: return "POST_ONLY_WOULD_CROSS";
    case RejectCode::kInsufficientMargin: return "NOT_ENOUGH_MARGIN";
    case RejectCode::kReduceOnly: return "REDUCE_ONLY_WOULD_INCREASE";
    case RejectCode::kMinNotional: return "ORDER_SIZE_BELOW_MIN_NOTIONAL";
    case RejectCode::kNone: break;
    default: return "REJECTED";
  }
  switch (o.reason) {
    case CancelReason::kUserCanceled: return "USER_CANCELED";
    case CancelReason::kExpired: return "IOC_UNFILLED";
    case CancelReason::kLiquidation: return "LIQUIDATION";
    case CancelReason::kSelfTrade: return "SELF_TRADE";
    case CancelReason::kPostOnlyViolation: return "POST_ONLY_WOULD_CROSS";
    case CancelReason::kInsufficientBalance: return "NOT_ENOUGH_MARGIN";
    case CancelReason::kReduceOnly: return "REDUCE_ONLY_WOULD_INCREASE";
    default: return "USER_CANCELED";
  }
}

namespace {
std::string Id28(const char* prefix, uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%026llu", prefix, static_cast<unsigned long long>(n));
  return buf;
}
}  // namespace

std::string VenueOrderId(uint64_t engine_id) {
  return Id28("17", engine_id);
}
std::string VenueTradeId(uint64_t engine_trade_id) {
  return Id28("18", engine_trade_id);
}

std::optional<uint64_t> EngineOrderId(std::string_view v) {
  if (v.size() != 28 || v.substr(0, 2) != "17") return std::nullopt;
  uint64_t n = 0;
  for (char c : v.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    if (__builtin_mul_overflow(n, uint64_t{10}, &n) ||
        __builtin_add_overflow(n, static_cast<uint64_t>(c - '0'), &n)) {
      return std::nullopt;
    }
  }
  return n;
}

}  // namespace perpgw::sim::paradex
