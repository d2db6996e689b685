// Aster request parameters, error bodies, number formats and signature verification (the crypto
// itself is the adapter's pure signing code: HMAC, EIP-712 digest, ecrecover).
#include <charconv>
#include <cstdlib>

#include "adapters/aster/signing.h"
#include "adapters/common/keccak.h"
#include "sim/aster/internal.h"
#include "sim/core/json.h"

namespace perpgw::sim::aster {
namespace {

namespace sig = perpgw::adapters::aster;

constexpr int64_t kNonceWindowUs = 10LL * 1000 * 1000;
constexpr size_t kNoncesKept = 100;

ApiError BadSignature() { return {400, -1022, "Signature for this request is not valid."}; }
ApiError BadKey() { return {401, -2015, "Invalid API-key, IP, or permissions for action."}; }

bool ParseI64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits `raw` into the string without its "signature=..." parameter and the signature value.
// The signature must be the last parameter. Returns false when absent; sets *misplaced when
// present but not last.
bool StripSignature(std::string_view raw, std::string* without, std::string* value,
                    bool* misplaced) {
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t amp = raw.find('&', pos);
    size_t end = amp == std::string_view::npos ? raw.size() : amp;
    std::string_view part = raw.substr(pos, end - pos);
    if (part.substr(0, 10) == "signature=") {
      if (end != raw.size()) {
        *misplaced = true;
        return true;
      }
      *value = UrlDecode(part.substr(10));
      *without = std::string(raw.substr(0, pos == 0 ? 0 : pos - 1));
      return true;
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return false;
}

// The signed string and signature of a request: the signature may sit at the end of the query
// or of the body; the rest of both parts is what was signed.
struct Signed {
  bool found = false, misplaced = false;
  std::string query, body, signature;
};
Signed SplitSigned(const HttpRequest& req) {
  Signed s;
  std::string q = RawQuery(req);
  s.query = q;
  s.body = req.body;
  std::string without;
  if (StripSignature(q, &without, &s.signature, &s.misplaced)) {
    s.found = true;
    s.query = without;
  } else if (StripSignature(req.body, &without, &s.signature, &s.misplaced)) {
    s.found = true;
    s.body = without;
  }
  return s;
}

}  // namespace

Params Params::From(const HttpRequest& req) {
  Params p;
  p.kv = req.query;
  if (!req.body.empty() && req.Header("content-type").find("json") == std::string::npos) {
    for (auto& [k, v] : ParseQuery(req.body)) {
      if (!p.Has(k)) p.kv.emplace_back(std::move(k), std::move(v));
    }
  }
  return p;
}

const std::string* Params::Find(std::string_view key) const {
  for (const auto& [k, v] : kv) {
    if (k == key) return &v;
  }
  return nullptr;
}

void WriteError(HttpResponse& resp, const ApiError& e) {
  JsonWriter w;
  w.BeginObject().Field("code", e.code).Field("msg", e.msg).EndObject();
  resp.Json(e.http, w.Take());
}

ApiError Mandatory(std::string_view param) {
  return {400, -1102,
          "Mandatory parameter '" + std::string(param) +
              "' was not sent, was empty/null, or malformed."};
}

std::string RawQuery(const HttpRequest& req) {
  size_t q = req.target.find('?');
  return q == std::string::npos ? std::string() : req.target.substr(q + 1);
}

const AccountSpec* Authenticator::VerifyV1(const HttpRequest& req, const Params& p,
                                           bool is_signed, int64_t now_ms, ApiError* err) {
  std::string key = req.Header("x-mbx-apikey");
  if (key.empty()) {
    *err = {401, -2014, "API-key format invalid."};
    return nullptr;
  }
  const AccountSpec* acct = nullptr;
  for (const auto& a : accounts_) {
    auto it = a.credentials.find("api_key");
    if (it != a.credentials.end() && it->second == key) acct = &a;
  }
  if (acct == nullptr) {
    *err = BadKey();
    return nullptr;
  }
  if (!is_signed) return acct;
  Signed s = SplitSigned(req);
  if (!s.found) {
    *err = Mandatory("signature");
    return nullptr;
  }
  auto secret = acct->credentials.find("api_secret");
  if (s.misplaced || secret == acct->credentials.end() ||
      !EqualsIgnoreCase(sig::HmacSignatureV1(secret->second, s.query, s.body), s.signature)) {
    *err = BadSignature();
    return nullptr;
  }
  int64_t ts = 0;
  if (!ParseI64(p.Get("timestamp"), &ts)) {
    *err = Mandatory("timestamp");
    return nullptr;
  }
  int64_t recv = sig::kDefaultRecvWindowMs;
  if (p.Has("recvWindow") && (!ParseI64(p.Get("recvWindow"), &recv) || recv <= 0 ||
                              recv > sig::kMaxRecvWindowMs)) {
    *err = {400, -1131, "recvWindow must be less than 60000"};
    return nullptr;
  }
  if (ts >= now_ms + 1000 || now_ms - ts > recv) {
    *err = {400, -1021, "Timestamp for this request is outside of the recvWindow."};
    return nullptr;
  }
  return acct;
}

namespace {

// aster.md (ccxt evidence, vectors/eip712_v3_ccxt_requests.json approveBuilder_post): primary
// type ApproveBuilder{Builder:string, MaxFeeRate:string, BuilderName:string, AsterChain:string,
// User:string, Nonce:uint256} in the usual AsterSignTransaction domain; the values are the
// request's params as sent (signatureChainId is sent but not in the struct).
sig::Hash32 ApproveBuilderDigest(const Params& p, uint64_t chain_id, uint64_t nonce) {
  using perpgw::crypto::Keccak256;
  std::string enc;
  auto put = [&](const std::array<uint8_t, 32>& h) { enc.append(h.begin(), h.end()); };
  put(Keccak256(
      "ApproveBuilder(string Builder,string MaxFeeRate,string BuilderName,string AsterChain,"
      "string User,uint256 Nonce)"));
  for (const char* k : {"builder", "maxFeeRate", "builderName", "asterChain", "user"}) {
    put(Keccak256(p.Get(k)));
  }
  std::array<uint8_t, 32> n{};
  for (int i = 0; i < 8; ++i) n[31 - i] = static_cast<uint8_t>(nonce >> (8 * i));
  put(n);
  const auto struct_hash = Keccak256(enc);
  const sig::Hash32 domain = sig::Eip712DomainSeparator(chain_id);
  std::string d = "\x19\x01";
  d.append(domain.begin(), domain.end());
  d.append(struct_hash.begin(), struct_hash.end());
  return Keccak256(d);
}

}  // namespace

const AccountSpec* Authenticator::VerifyV3(const HttpRequest& req, const Params& p,
                                           int64_t now_us, ApiError* err, bool approve_builder) {
  Signed s = SplitSigned(req);
  if (!s.found) {
    *err = Mandatory("signature");
    return nullptr;
  }
  for (const char* k : {"nonce", "user", "signer"}) {
    if (approve_builder && std::string_view(k) == "signer") continue;
    if (p.Get(k).empty()) {
      *err = Mandatory(k);
      return nullptr;
    }
  }
  if (s.misplaced) {
    *err = BadSignature();
    return nullptr;
  }
  // The signed message is the raw parameter string as sent, without "&signature=...".
  std::string msg = s.query;
  if (!msg.empty() && !s.body.empty()) msg += '&';
  msg += s.body;
  uint64_t approve_nonce = 0;
  if (approve_builder) {
    int64_t n = 0;
    if (!ParseI64(p.Get("nonce"), &n) || n <= 0) {
      *err = Mandatory("nonce");
      return nullptr;
    }
    approve_nonce = static_cast<uint64_t>(n);
  }
  auto recovered = sig::RecoverAddress(approve_builder
                                           ? ApproveBuilderDigest(p, chain_id_, approve_nonce)
                                           : sig::Eip712MessageDigest(msg, chain_id_),
                                       s.signature);
  const std::string user = p.Get("user");
  // approveBuilder is signed by the main wallet itself (no signer param).
  const std::string signer = approve_builder ? user : p.Get("signer");
  if (!recovered.ok() || !EqualsIgnoreCase(*recovered, signer)) {
    *err = BadSignature();
    return nullptr;
  }
  const AccountSpec* acct = nullptr;
  for (const auto& a : accounts_) {
    auto it = a.credentials.find("user");
    if (it != a.credentials.end() && EqualsIgnoreCase(it->second, user)) acct = &a;
  }
  if (acct == nullptr) {
    *err = BadKey();
    return nullptr;
  }
  auto agent = acct->credentials.find("signer");
  bool approved = EqualsIgnoreCase(signer, user) ||
                  (agent != acct->credentials.end() && EqualsIgnoreCase(agent->second, signer));
  if (!approved) {
    *err = {401, -2015, "Invalid API-key, IP, or permissions for action. (signer is not an "
                        "approved agent of user)"};
    return nullptr;
  }
  int64_t nonce = 0;
  if (!ParseI64(p.Get("nonce"), &nonce) || nonce <= 0) {
    *err = Mandatory("nonce");
    return nullptr;
  }
  if (std::llabs(nonce - now_us) > kNonceWindowUs) {
    *err = {400, -4225, "Nonce Expired"};
    return nullptr;
  }
  auto& kept = nonces_[LowerAscii(user)];
  const auto u = static_cast<uint64_t>(nonce);
  if (kept.count(u)) {
    *err = {400, -4225, "Nonce Expired (nonce already used)"};
    return nullptr;
  }
  if (kept.size() >= kNoncesKept && u < *kept.begin()) {
    *err = {400, -4225, "Nonce Expired"};
    return nullptr;
  }
  kept.insert(u);
  while (kept.size() > kNoncesKept) kept.erase(kept.begin());
  return acct;
}

int64_t ToMs(UnixNanos t) { return t / 1000000; }

std::string Fixed(int64_t mantissa, int scale) {
  bool neg = mantissa < 0;
  uint64_t v = neg ? 0 - static_cast<uint64_t>(mantissa) : static_cast<uint64_t>(mantissa);
  std::string digits = std::to_string(v);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) {
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), 1, '.');
  }
  return neg ? "-" + digits : digits;
}

std::string Money8(Money m) { return Fixed(m, kMoneyScale); }

std::string Rate8(int64_t rate) {
  // 1e-10 → 1e-8, half-even.
  int64_t q = rate / 100, r = rate % 100;
  int64_t twice = (r < 0 ? -r : r) * 2;
  if (twice > 100 || (twice == 100 && q % 2 != 0)) q += rate < 0 ? -1 : 1;
  return Fixed(q, 8);
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return LowerAscii(a) == LowerAscii(b);
}

}  // namespace perpgw::sim::aster
