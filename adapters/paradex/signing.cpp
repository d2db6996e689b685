// Paradex signing stack: felt parsing/encoding, typed-data rev 0 hashes, key/sign/verify API
// and the POST /auth header and signature-field builders.
#include "adapters/paradex/signing.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "adapters/paradex/stark_curve.h"
#include "adapters/paradex/stark_ecdsa.h"
#include "adapters/paradex/stark_field.h"

namespace perpgw::adapters::paradex {
namespace stark {

struct FeltAccess {
  static Felt Make(const U256& u) { return Felt({u.v[0], u.v[1], u.v[2], u.v[3]}); }
  static U256 Get(const Felt& f) {
    const auto& l = f.limbs();
    return U256{{l[0], l[1], l[2], l[3]}};
  }
};

}  // namespace stark

namespace {

using stark::FeltAccess;
using stark::u128;
using stark::U256;
using stark::u64;

const U256 kP = stark::ModulusOf(stark::FpParams::kMod);
const U256 kN = stark::ModulusOf(stark::FnParams::kMod);

// Inputs echoed in errors are venue/user data, never keys; keep messages short anyway.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  out += std::string(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool HasHexPrefix(std::string_view s) {
  return s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Hex digits (no prefix) -> U256; false on empty, bad digit or more than 256 bits.
bool ParseHexDigits(std::string_view h, U256* out) {
  if (h.empty()) return false;
  size_t i = 0;
  while (i + 1 < h.size() && h[i] == '0') ++i;
  h.remove_prefix(i);
  if (h.size() > 64) return false;
  U256 x;
  for (char c : h) {
    int d = HexValue(c);
    if (d < 0) return false;
    x.v[3] = (x.v[3] << 4) | (x.v[2] >> 60);
    x.v[2] = (x.v[2] << 4) | (x.v[1] >> 60);
    x.v[1] = (x.v[1] << 4) | (x.v[0] >> 60);
    x.v[0] = (x.v[0] << 4) | u64(d);
  }
  *out = x;
  return true;
}

// Decimal digits -> U256; false on empty, bad digit or overflow of 256 bits.
bool ParseDecDigits(std::string_view s, U256* out) {
  if (s.empty()) return false;
  U256 x;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    u128 carry = u64(c - '0');
    for (int i = 0; i < 4; ++i) {
      u128 t = (u128)x.v[i] * 10 + carry;
      x.v[i] = u64(t);
      carry = t >> 64;
    }
    if (carry != 0) return false;
  }
  *out = x;
  return true;
}

Felt P(const Felt& a, const Felt& b) {
  return FeltAccess::Make(stark::Pedersen(FeltAccess::Get(a), FeltAccess::Get(b)));
}

// Continues a hash_on_elements chain from `h` and closes it with the total element count.
Felt ChainAndClose(Felt h, std::span<const Felt> elements, uint64_t total_len) {
  for (const Felt& e : elements) h = P(h, e);
  return P(h, Felt::FromU64(total_len));
}

Felt ConstFelt(const char* hex) { return *ParseFelt(hex); }

const Felt& StarkNetMessageFelt() {
  static const Felt f = *ShortString("StarkNet Message");
  return f;
}

// pedersen(0, type_hash): the constant first link of every struct hash of that type.
const Felt& OrderPrefix() {
  static const Felt f = P(Felt(), TypeHashOrder());
  return f;
}
const Felt& ModifyOrderPrefix() {
  static const Felt f = P(Felt(), TypeHashModifyOrder());
  return f;
}
const Felt& RequestPrefix() {
  static const Felt f = P(Felt(), TypeHashRequest());
  return f;
}

absl::StatusOr<std::array<Felt, 6>> EncodeOrder(const OrderFields& o) {
  std::array<Felt, 6> f;
  f[0] = Felt::FromU64(o.timestamp_ms);
  if (o.market.empty()) return absl::InvalidArgumentError("order: market is empty");
  auto market = EncodeTypedValue(o.market);
  if (!market.ok())
    return absl::InvalidArgumentError("order market: " + std::string(market.status().message()));
  f[1] = *market;
  if (o.side != OrderSide::kBuy && o.side != OrderSide::kSell) {
    return absl::InvalidArgumentError("order: side must be BUY (1) or SELL (2)");
  }
  f[2] = Felt::FromU64(static_cast<uint64_t>(o.side));
  if (o.order_type.empty()) return absl::InvalidArgumentError("order: order_type is empty");
  auto type = EncodeTypedValue(o.order_type);
  if (!type.ok())
    return absl::InvalidArgumentError("order type: " + std::string(type.status().message()));
  f[3] = *type;
  auto size = ScaleDecimal8(o.size);
  if (!size.ok())
    return absl::InvalidArgumentError("order size: " + std::string(size.status().message()));
  f[4] = *size;
  if (IsMarketOrderType(o.order_type)) {
    f[5] = Felt();  // market-type orders sign price 0 whatever the caller passed
  } else {
    if (o.price.empty()) {
      return absl::InvalidArgumentError("order price is required for " + o.order_type + " orders");
    }
    auto price = ScaleDecimal8(o.price);
    if (!price.ok())
      return absl::InvalidArgumentError("order price: " + std::string(price.status().message()));
    f[5] = *price;
  }
  return f;
}

absl::StatusOr<std::array<Felt, 7>> EncodeModify(const ModifyOrderFields& m) {
  auto base = EncodeOrder(m.order);
  if (!base.ok()) return base.status();
  auto id = ParseFelt(m.id);
  if (!id.ok())
    return absl::InvalidArgumentError("modify order id: " + std::string(id.status().message()));
  std::array<Felt, 7> f;
  std::copy(base->begin(), base->end(), f.begin());
  f[6] = *id;
  return f;
}

absl::StatusOr<std::array<Felt, 5>> EncodeRequest(std::string_view method, std::string_view path,
                                                  std::string_view body, uint64_t timestamp_s,
                                                  uint64_t expiration_s) {
  std::array<Felt, 5> f;
  auto m = EncodeTypedValue(method);
  if (!m.ok())
    return absl::InvalidArgumentError("auth method: " + std::string(m.status().message()));
  auto p = EncodeTypedValue(path);
  if (!p.ok()) return absl::InvalidArgumentError("auth path: " + std::string(p.status().message()));
  auto b = EncodeTypedValue(body);
  if (!b.ok()) return absl::InvalidArgumentError("auth body: " + std::string(b.status().message()));
  f[0] = *m;
  f[1] = *p;
  f[2] = *b;
  f[3] = Felt::FromU64(timestamp_s);
  f[4] = Felt::FromU64(expiration_s);
  return f;
}

}  // namespace

// --- Felt ---------------------------------------------------------------------------------

absl::StatusOr<Felt> Felt::FromLimbs(const std::array<uint64_t, 4>& limbs) {
  U256 x{{limbs[0], limbs[1], limbs[2], limbs[3]}};
  if (!stark::Less(x, kP)) return absl::InvalidArgumentError("felt out of range (>= p)");
  return Felt(limbs);
}

absl::StatusOr<Felt> Felt::FromBytesBE(std::span<const uint8_t> bytes) {
  if (bytes.size() > 32) return absl::InvalidArgumentError("felt bytes longer than 32");
  std::array<uint64_t, 4> l{};
  for (size_t i = 0; i < bytes.size(); ++i) {
    size_t bit = 8 * (bytes.size() - 1 - i);
    l[bit >> 6] |= uint64_t(bytes[i]) << (bit & 63);
  }
  return FromLimbs(l);
}

std::array<uint8_t, 32> Felt::ToBytesBE() const {
  std::array<uint8_t, 32> out{};
  for (int i = 0; i < 32; ++i) out[31 - i] = uint8_t(limbs_[i >> 3] >> (8 * (i & 7)));
  return out;
}

std::string Felt::ToHex() const {
  static const char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  bool started = false;
  for (int i = 63; i >= 0; --i) {
    unsigned d = (limbs_[i / 16] >> (4 * (i % 16))) & 15;
    if (d == 0 && !started) continue;
    started = true;
    out.push_back(kDigits[d]);
  }
  if (!started) out.push_back('0');
  return out;
}

std::string Felt::ToDec() const {
  // Repeated division by 10^19 (largest power of ten in a limb).
  constexpr u64 kChunk = 10000000000000000000ULL;
  std::array<u64, 4> x = limbs_;
  std::vector<u64> chunks;
  auto nonzero = [&x] { return (x[0] | x[1] | x[2] | x[3]) != 0; };
  do {
    u128 rem = 0;
    for (int i = 3; i >= 0; --i) {
      u128 cur = (rem << 64) | x[i];
      x[i] = u64(cur / kChunk);
      rem = cur % kChunk;
    }
    chunks.push_back(u64(rem));
  } while (nonzero());
  std::string out = std::to_string(chunks.back());
  for (size_t i = chunks.size() - 1; i-- > 0;) {
    std::string part = std::to_string(chunks[i]);
    out.append(19 - part.size(), '0');
    out += part;
  }
  return out;
}

absl::StatusOr<Felt> ParseFelt(std::string_view s) {
  U256 x;
  if (HasHexPrefix(s)) {
    if (!ParseHexDigits(s.substr(2), &x)) {
      return absl::InvalidArgumentError("invalid hex felt " + Quote(s));
    }
  } else if (!ParseDecDigits(s, &x)) {
    return absl::InvalidArgumentError("invalid felt " + Quote(s) +
                                      " (expected 0x-hex or decimal digits)");
  }
  if (!stark::Less(x, kP)) return absl::InvalidArgumentError("felt " + Quote(s) + " is >= p");
  return FeltAccess::Make(x);
}

absl::StatusOr<Felt> ShortString(std::string_view s) {
  if (s.size() > 31) {
    return absl::InvalidArgumentError("short string " + Quote(s) + " longer than 31 characters");
  }
  U256 x;
  for (char c : s) {
    auto b = static_cast<unsigned char>(c);
    if (b >= 0x80) return absl::InvalidArgumentError("short string " + Quote(s) + " is not ASCII");
    x.v[3] = (x.v[3] << 8) | (x.v[2] >> 56);
    x.v[2] = (x.v[2] << 8) | (x.v[1] >> 56);
    x.v[1] = (x.v[1] << 8) | (x.v[0] >> 56);
    x.v[0] = (x.v[0] << 8) | b;
  }
  return FeltAccess::Make(x);  // < 2^248 < p
}

absl::StatusOr<Felt> EncodeTypedValue(std::string_view v) {
  if (HasHexPrefix(v) && v.size() > 2 &&
      std::all_of(v.begin() + 2, v.end(), [](char c) { return HexValue(c) >= 0; })) {
    return ParseFelt(v);
  }
  if (AllDigits(v)) return ParseFelt(v);
  return ShortString(v);
}

absl::StatusOr<Felt> ScaleDecimal8(std::string_view s) {
  constexpr int kDecimals = 8;
  constexpr u128 kScale = 100000000;
  constexpr u128 kMax = ~u128(0);
  if (s.empty()) return absl::InvalidArgumentError("decimal is empty");
  if (s[0] == '-') return absl::InvalidArgumentError("decimal " + Quote(s) + " is negative");
  size_t dot = s.find('.');
  std::string_view int_part = s.substr(0, dot);
  std::string_view frac_part =
      dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if (!AllDigits(int_part) || (dot != std::string_view::npos && !AllDigits(frac_part))) {
    return absl::InvalidArgumentError("decimal " + Quote(s) +
                                      " is not of the form DIGITS[.DIGITS]");
  }
  if (frac_part.size() > kDecimals) {
    return absl::InvalidArgumentError("decimal " + Quote(s) +
                                      " has more than 8 decimal places (would need rounding)");
  }
  const auto out_of_range = [&s] {
    return absl::OutOfRangeError("decimal " + Quote(s) +
                                 " out of range (max 2^128-1 units of 1e-8)");
  };
  u128 v = 0;
  for (char c : int_part) {
    u64 d = u64(c - '0');
    if (v > (kMax - d) / 10) return out_of_range();
    v = v * 10 + d;
  }
  if (v > kMax / kScale) return out_of_range();
  v *= kScale;
  u128 frac = 0;
  for (char c : frac_part) frac = frac * 10 + u64(c - '0');
  for (size_t i = frac_part.size(); i < kDecimals; ++i) frac *= 10;
  if (v > kMax - frac) return out_of_range();
  v += frac;
  return FeltAccess::Make(U256{{u64(v), u64(v >> 64), 0, 0}});
}

// --- Pedersen ------------------------------------------------------------------------------

Felt PedersenHash(const Felt& a, const Felt& b) { return P(a, b); }

Felt HashOnElements(std::span<const Felt> elements) {
  return ChainAndClose(Felt(), elements, elements.size());
}

// --- Typed data ------------------------------------------------------------------------------

Felt TypeHashStarkNetDomain() {
  static const Felt f =
      ConstFelt("0x98d1932052fc5137543de5ed85b7a88555a4cd1ff5d5bfedb62ed9b9a1f0db");
  return f;
}
Felt TypeHashOrder() {
  static const Felt f =
      ConstFelt("0xa56d5225b97b257c15ae2cb1cc0ea605381a886cd75463db45fd2ef9fbc255");
  return f;
}
Felt TypeHashModifyOrder() {
  static const Felt f =
      ConstFelt("0x201789bb587c17b251fd38daf43b14807010ea721c2929a8c2fc33bf15c2e2c");
  return f;
}
Felt TypeHashRequest() {
  static const Felt f =
      ConstFelt("0x186cdef6b179923c411c13c11b8a825f12bf34203bdda0a984da9d6f2313c2");
  return f;
}
Felt TypeHashConstant() {
  static const Felt f =
      ConstFelt("0xe84bbcb68e0f7c73a9058ba82b6da9c1ffdc502efcf034e78b0c003c22ecc9");
  return f;
}

Felt StructHash(const Felt& type_hash, std::span<const Felt> fields) {
  return ChainAndClose(P(Felt(), type_hash), fields, fields.size() + 1);
}

absl::StatusOr<Felt> DomainHash(std::string_view chain_id) {
  if (chain_id.empty()) return absl::InvalidArgumentError("chain id is empty");
  auto chain = EncodeTypedValue(chain_id);
  if (!chain.ok())
    return absl::InvalidArgumentError("chain id: " + std::string(chain.status().message()));
  static const Felt kName = *ShortString("Paradex");
  const Felt fields[3] = {kName, *chain, Felt::FromU64(1)};
  return StructHash(TypeHashStarkNetDomain(), fields);
}

Felt MessageHash(const Felt& domain_hash, const Felt& account, const Felt& struct_hash) {
  const Felt elems[4] = {StarkNetMessageFelt(), domain_hash, account, struct_hash};
  return HashOnElements(elems);
}

bool IsMarketOrderType(std::string_view t) {
  constexpr std::string_view kSuffix = "MARKET";
  return t.size() >= kSuffix.size() && t.substr(t.size() - kSuffix.size()) == kSuffix;
}

absl::StatusOr<Felt> OrderStructHash(const OrderFields& order) {
  auto f = EncodeOrder(order);
  if (!f.ok()) return f.status();
  return ChainAndClose(OrderPrefix(), *f, f->size() + 1);
}

absl::StatusOr<Felt> ModifyOrderStructHash(const ModifyOrderFields& modify) {
  auto f = EncodeModify(modify);
  if (!f.ok()) return f.status();
  return ChainAndClose(ModifyOrderPrefix(), *f, f->size() + 1);
}

absl::StatusOr<Felt> AuthRequestStructHash(std::string_view method, std::string_view path,
                                           std::string_view body, uint64_t timestamp_s,
                                           uint64_t expiration_s) {
  auto f = EncodeRequest(method, path, body, timestamp_s, expiration_s);
  if (!f.ok()) return f.status();
  return ChainAndClose(RequestPrefix(), *f, f->size() + 1);
}

absl::StatusOr<MessageHasher> MessageHasher::Create(std::string_view chain_id,
                                                    const Felt& account) {
  auto domain = DomainHash(chain_id);
  if (!domain.ok()) return domain.status();
  MessageHasher h;
  h.domain_hash_ = *domain;
  h.account_ = account;
  h.prefix_ = P(P(P(Felt(), StarkNetMessageFelt()), *domain), account);
  return h;
}

Felt MessageHasher::ForStruct(const Felt& struct_hash) const {
  return P(P(prefix_, struct_hash), Felt::FromU64(4));
}

absl::StatusOr<Felt> MessageHasher::Order(const OrderFields& order) const {
  auto sh = OrderStructHash(order);
  if (!sh.ok()) return sh.status();
  return ForStruct(*sh);
}

absl::StatusOr<Felt> MessageHasher::ModifyOrder(const ModifyOrderFields& modify) const {
  auto sh = ModifyOrderStructHash(modify);
  if (!sh.ok()) return sh.status();
  return ForStruct(*sh);
}

absl::StatusOr<Felt> MessageHasher::Auth(uint64_t timestamp_s, uint64_t expiration_s) const {
  auto sh = AuthRequestStructHash("POST", "/v1/auth", "", timestamp_s, expiration_s);
  if (!sh.ok()) return sh.status();
  return ForStruct(*sh);
}

Felt MessageHasher::Onboarding() const {
  static const Felt kStruct = [] {
    const Felt fields[1] = {*ShortString("Onboarding")};
    return StructHash(TypeHashConstant(), fields);
  }();
  return ForStruct(kStruct);
}

absl::StatusOr<Felt> AuthMessageHash(std::string_view chain_id, const Felt& account,
                                     std::string_view method, std::string_view path,
                                     std::string_view body, uint64_t timestamp_s,
                                     uint64_t expiration_s) {
  auto sh = AuthRequestStructHash(method, path, body, timestamp_s, expiration_s);
  if (!sh.ok()) return sh.status();
  auto hasher = MessageHasher::Create(chain_id, account);
  if (!hasher.ok()) return hasher.status();
  return hasher->ForStruct(*sh);
}

absl::StatusOr<Felt> OrderMessageHash(std::string_view chain_id, const Felt& account,
                                      const OrderFields& order) {
  auto hasher = MessageHasher::Create(chain_id, account);
  if (!hasher.ok()) return hasher.status();
  return hasher->Order(order);
}

absl::StatusOr<Felt> ModifyOrderMessageHash(std::string_view chain_id, const Felt& account,
                                            const ModifyOrderFields& modify) {
  auto hasher = MessageHasher::Create(chain_id, account);
  if (!hasher.ok()) return hasher.status();
  return hasher->ModifyOrder(modify);
}

absl::StatusOr<Felt> OnboardingMessageHash(std::string_view chain_id, const Felt& account) {
  auto hasher = MessageHasher::Create(chain_id, account);
  if (!hasher.ok()) return hasher.status();
  return hasher->Onboarding();
}

// --- Keys, signing, verification ------------------------------------------------------------

absl::StatusOr<StarkKey> StarkKey::FromPrivateHex(std::string_view hex) {
  // Never echo the input: it is a secret.
  std::string_view digits = HasHexPrefix(hex) ? hex.substr(2) : hex;
  U256 d;
  if (!ParseHexDigits(digits, &d)) {
    return absl::InvalidArgumentError("stark private key: expected up to 64 hex digits");
  }
  if (stark::IsZero(d) || !stark::Less(d, kN)) {
    OPENSSL_cleanse(&d, sizeof(d));
    return absl::InvalidArgumentError("stark private key out of range (must be 1 <= d < n)");
  }
  StarkKey key;
  key.d_ = {d.v[0], d.v[1], d.v[2], d.v[3]};
  key.public_key_ = FeltAccess::Make(stark::PublicKeyX(d));
  OPENSSL_cleanse(&d, sizeof(d));
  return key;
}

StarkKey::~StarkKey() { OPENSSL_cleanse(d_.data(), sizeof(d_)); }

absl::StatusOr<Signature> StarkKey::Sign(const Felt& msg_hash) const {
  return SignWithExtraEntropy(msg_hash, {});
}

absl::StatusOr<Signature> StarkKey::SignWithExtraEntropy(const Felt& msg_hash,
                                                         std::span<const uint8_t> extra) const {
  U256 z = FeltAccess::Get(msg_hash);
  if (!stark::Below2Pow251(z)) return absl::InvalidArgumentError("message hash must be < 2^251");
  U256 d{{d_[0], d_[1], d_[2], d_[3]}};
  U256 r, s;
  bool ok = stark::SignRfc6979(d, z, extra.data(), extra.size(), &r, &s);
  OPENSSL_cleanse(&d, sizeof(d));
  if (!ok)
    return absl::InternalError("stark sign: no valid RFC 6979 nonce (or SHA-256 unavailable)");
  return Signature{FeltAccess::Make(r), FeltAccess::Make(s)};
}

absl::StatusOr<Signature> StarkKey::SignWithK(const Felt& msg_hash, const Felt& k) const {
  U256 z = FeltAccess::Get(msg_hash);
  if (!stark::Below2Pow251(z)) return absl::InvalidArgumentError("message hash must be < 2^251");
  U256 kv = FeltAccess::Get(k);
  if (stark::IsZero(kv) || !stark::Less(kv, kN)) {
    return absl::InvalidArgumentError("nonce k out of range (must be 1 <= k < n)");
  }
  U256 d{{d_[0], d_[1], d_[2], d_[3]}};
  U256 r, s;
  auto res = stark::SignWithNonce(d, z, kv, &r, &s);
  OPENSSL_cleanse(&d, sizeof(d));
  if (res != stark::SignResult::kOk) {
    return absl::InvalidArgumentError("nonce k gives r or s^-1 outside [1, 2^251)");
  }
  return Signature{FeltAccess::Make(r), FeltAccess::Make(s)};
}

absl::StatusOr<Felt> InverseModOrder(const Felt& s) {
  U256 v = FeltAccess::Get(s);
  if (stark::IsZero(v) || !stark::Less(v, kN)) {
    return absl::InvalidArgumentError("value must be in [1, n)");
  }
  return FeltAccess::Make(stark::FromMont(stark::FnInv(stark::ToMont<stark::FnParams>(v))));
}

absl::StatusOr<StarkPublicKey> StarkPublicKey::FromX(const Felt& x) {
  stark::Fp xm = stark::ToMont<stark::FpParams>(FeltAccess::Get(x));
  stark::Fp y;
  if (!stark::FpSqrt(stark::CurveRhs(xm), &y)) {
    return absl::InvalidArgumentError("public key " + x.ToHex() + " is not on the Stark curve");
  }
  StarkPublicKey key;
  key.x_ = x;
  key.y_mont_ = {y.v[0], y.v[1], y.v[2], y.v[3]};
  return key;
}

bool StarkPublicKey::Verify(const Felt& msg_hash, const Signature& sig) const {
  stark::Affine q{stark::ToMont<stark::FpParams>(FeltAccess::Get(x_)),
                  stark::Fp{{y_mont_[0], y_mont_[1], y_mont_[2], y_mont_[3]}}};
  return stark::VerifySignature(q, FeltAccess::Get(msg_hash), FeltAccess::Get(sig.r),
                                FeltAccess::Get(sig.s));
}

bool Verify(const Felt& public_key_x, const Felt& msg_hash, const Signature& sig) {
  auto key = StarkPublicKey::FromX(public_key_x);
  return key.ok() && key->Verify(msg_hash, sig);
}

// --- Builders --------------------------------------------------------------------------------

std::string SignatureJson(const Signature& sig) {
  return "[\"" + sig.r.ToDec() + "\",\"" + sig.s.ToDec() + "\"]";
}

absl::StatusOr<Signature> ParseSignatureJson(std::string_view text) {
  const auto bad = [&text](const char* why) {
    return absl::InvalidArgumentError(std::string("signature ") + Quote(text) + ": " + why);
  };
  size_t i = 0;
  const auto skip_ws = [&] {
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
      ++i;
  };
  const auto expect = [&](char c) {
    skip_ws();
    if (i >= text.size() || text[i] != c) return false;
    ++i;
    return true;
  };
  Felt parts[2];
  if (!expect('[')) return bad("expected '['");
  for (int k = 0; k < 2; ++k) {
    if (k == 1 && !expect(',')) return bad("expected ','");
    if (!expect('"')) return bad("expected a quoted number");
    size_t end = text.find('"', i);
    if (end == std::string_view::npos) return bad("unterminated string");
    auto f = ParseFelt(text.substr(i, end - i));
    if (!f.ok()) return bad("element is not a felt");
    parts[k] = *f;
    i = end + 1;
  }
  if (!expect(']')) return bad("expected ']' after two elements");
  skip_ws();
  if (i != text.size()) return bad("trailing characters");
  return Signature{parts[0], parts[1]};
}

absl::StatusOr<HeaderList> AuthHeaders(const StarkKey& key, std::string_view chain_id,
                                       std::string_view account, uint64_t timestamp_s,
                                       uint64_t expiration_s) {
  if (expiration_s <= timestamp_s) {
    return absl::InvalidArgumentError("auth: expiration must be after the timestamp");
  }
  auto acct = ParseFelt(account);
  if (!acct.ok())
    return absl::InvalidArgumentError("auth account: " + std::string(acct.status().message()));
  auto hash = AuthMessageHash(chain_id, *acct, "POST", "/v1/auth", "", timestamp_s, expiration_s);
  if (!hash.ok()) return hash.status();
  auto sig = key.Sign(*hash);
  if (!sig.ok()) return sig.status();
  return AuthHeadersFromSignature(account, *sig, timestamp_s, expiration_s);
}

HeaderList AuthHeadersFromSignature(std::string_view account, const Signature& sig,
                                    uint64_t timestamp_s, uint64_t expiration_s) {
  HeaderList h;
  h.reserve(4);
  h.emplace_back("PARADEX-STARKNET-ACCOUNT", std::string(account));
  h.emplace_back("PARADEX-STARKNET-SIGNATURE", SignatureJson(sig));
  h.emplace_back("PARADEX-TIMESTAMP", std::to_string(timestamp_s));
  h.emplace_back("PARADEX-SIGNATURE-EXPIRATION", std::to_string(expiration_s));
  return h;
}

}  // namespace perpgw::adapters::paradex
