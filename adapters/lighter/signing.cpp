// Lighter signing public API: tx hash layouts, validation, tx_info JSON, keys, auth tokens.
#include "adapters/lighter/signing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapters/lighter/lighter_ecgfp5.h"
#include "adapters/lighter/lighter_goldilocks.h"
#include "adapters/lighter/lighter_poseidon2.h"
#include "adapters/lighter/lighter_schnorr.h"

namespace perpgw::adapters::lighter {
namespace {

using internal::Fp;
using internal::Fp5;
using internal::Scalar;

// Bounds from lighter-go types/txtypes/constants.go.
constexpr int64_t kMinAccountIndex = -1;
constexpr int64_t kMaxAccountIndex = (int64_t{1} << 48) - 2;
constexpr uint8_t kMaxApiKeyIndex = 254;
constexpr uint8_t kNilApiKeyIndex = 255;
constexpr int16_t kMaxPerpsMarketIndex = 254;
constexpr int16_t kNilMarketIndex = 255;
constexpr int16_t kMinSpotMarketIndex = 2048;
constexpr int16_t kMaxSpotMarketIndex = 4094;
constexpr int64_t kMaxClientOrderIndex = (int64_t{1} << 48) - 1;
constexpr int64_t kMaxOrderIndex = (int64_t{1} << 60) - 1;
constexpr int64_t kMaxBaseAmount = (int64_t{1} << 48) - 1;
constexpr int64_t kMaxTimestamp = (int64_t{1} << 48) - 1;
constexpr int64_t kFeeTick = 1'000'000;
constexpr int kMaxAttributesPerTx = 4;

// Debian's abseil has its own string_view type; bridge explicitly.
absl::string_view AV(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

int HexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view StripHexPrefix(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  return hex;
}

// Decodes hex into `out`; false on odd length or a non-hex character.
bool DecodeHex(std::string_view hex, std::vector<uint8_t>& out) {
  if (hex.size() % 2 != 0) return false;
  out.resize(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexNibble(hex[2 * i]);
    const int lo = HexNibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

template <size_t N>
absl::StatusOr<std::array<uint8_t, N>> FixedFromHex(std::string_view hex, std::string_view what) {
  hex = StripHexPrefix(hex);
  if (hex.size() != 2 * N) {
    return absl::InvalidArgumentError(
        absl::StrCat(AV(what), ": expected ", 2 * N, " hex chars, got ", hex.size()));
  }
  std::vector<uint8_t> bytes;
  if (!DecodeHex(hex, bytes))
    return absl::InvalidArgumentError(absl::StrCat(AV(what), ": not hex"));
  std::array<uint8_t, N> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

Fp F(int64_t v) {
  return Fp::FromU64(static_cast<uint64_t>(v));
}

TxHash ToTxHash(const Fp5& h) {
  return internal::Fp5ToBytes(h);
}

// ---- attributes ----

struct AttrSpec {
  uint8_t type;
  int64_t min;
  int64_t max;
  int64_t nil;
  const char* name;
};
constexpr AttrSpec kAttrSpecs[7] = {
    {1, 0, kMaxAccountIndex, 0, "integrator_account_index"},
    {2, 0, kFeeTick, 0, "integrator_taker_fee"},
    {3, 0, kFeeTick, 0, "integrator_maker_fee"},
    {4, 1, 1, 0, "skip_nonce"},
    {5, 0, kNilMarketIndex, kNilMarketIndex, "cancel_all_market_index"},
    {6, 0, 3, 0, "self_trade_behavior"},
    {7, 0, 1, 0, "self_trade_equality"},
};

// Present attributes as (type, value), ascending by type.
std::vector<std::pair<uint8_t, int64_t>> PresentAttributes(const TxAttributes& a) {
  const std::optional<int64_t>* fields[7] = {
      &a.integrator_account_index, &a.integrator_taker_fee, &a.integrator_maker_fee, &a.skip_nonce,
      &a.cancel_all_market_index,  &a.self_trade_behavior,  &a.self_trade_equality};
  std::vector<std::pair<uint8_t, int64_t>> out;
  for (int i = 0; i < 7; ++i) {
    if (fields[i]->has_value()) out.emplace_back(kAttrSpecs[i].type, **fields[i]);
  }
  return out;
}

bool IsNilAttr(uint8_t type, int64_t value) {
  return value == kAttrSpecs[type - 1].nil;
}

int64_t AttrOrNil(const std::optional<int64_t>& v, uint8_t type) {
  return v.value_or(kAttrSpecs[type - 1].nil);
}

// HashToQuinticExtension(preimage), then combined with the attribute hash if any is non-nil.
TxHash HashWithAttributes(std::span<const Fp> preimage, const TxAttributes& attributes) {
  const Fp5 h = internal::HashToQuinticExtension(preimage);
  std::array<Fp, 2 * kMaxAttributesPerTx> attr_elems{};
  int n = 0;
  for (const auto& [type, value] : PresentAttributes(attributes)) {
    if (IsNilAttr(type, value) || n >= kMaxAttributesPerTx) continue;
    attr_elems[2 * n] = F(type);
    attr_elems[2 * n + 1] = F(value);
    ++n;
  }
  if (n == 0) return ToTxHash(h);
  const Fp5 a = internal::HashToQuinticExtension(attr_elems);
  std::array<Fp, 10> combined;
  for (int i = 0; i < 5; ++i) {
    combined[i] = h.c[i];
    combined[5 + i] = a.c[i];
  }
  return ToTxHash(internal::HashToQuinticExtension(combined));
}

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(AV(what));
}

absl::Status ValidateEnvelope(int64_t account_index, uint8_t api_key_index, int64_t nonce,
                              int64_t expired_at, bool allow_nil_api_key) {
  if (account_index < kMinAccountIndex || account_index > kMaxAccountIndex) {
    return Invalid(absl::StrCat("account_index out of range: ", account_index));
  }
  if (api_key_index > kMaxApiKeyIndex && !(allow_nil_api_key && api_key_index == kNilApiKeyIndex)) {
    return Invalid(absl::StrCat("api_key_index out of range: ", api_key_index));
  }
  if (nonce < 0) return Invalid(absl::StrCat("nonce must be >= 0, got ", nonce));
  if (expired_at < 0 || expired_at > kMaxTimestamp) {
    return Invalid(absl::StrCat("expired_at out of range (ms): ", expired_at));
  }
  return absl::OkStatus();
}

// Attributes and envelope: what every tx type checks first.
template <typename Tx>
absl::Status ValidateHead(const Tx& tx, bool allow_nil_api_key) {
  if (absl::Status s = ValidateAttributes(tx.attributes); !s.ok()) return s;
  return ValidateEnvelope(tx.account_index, tx.api_key_index, tx.nonce, tx.expired_at,
                          allow_nil_api_key);
}

absl::Status ValidateMarket(int16_t market_index, bool* is_perps) {
  const bool spot = market_index >= kMinSpotMarketIndex && market_index <= kMaxSpotMarketIndex;
  const bool perps = market_index >= 0 && market_index <= kMaxPerpsMarketIndex;
  if (!spot && !perps) return Invalid(absl::StrCat("invalid market_index: ", market_index));
  if (is_perps != nullptr) *is_perps = perps;
  return absl::OkStatus();
}

absl::Status ValidateOrderIndex(int64_t index) {
  if (index < 1 || index > kMaxOrderIndex) {
    return Invalid(absl::StrCat("order index out of range: ", index));
  }
  return absl::OkStatus();
}

// ---- JSON ----

void AppendAttributesJson(std::string& out, const TxAttributes& attributes) {
  const auto present = PresentAttributes(attributes);
  if (present.empty()) {
    absl::StrAppend(&out, "null");
    return;
  }
  out.push_back('{');
  bool first = true;
  for (const auto& [type, value] : present) {
    if (!first) out.push_back(',');
    first = false;
    absl::StrAppend(&out, "\"", type, "\":", value);
  }
  out.push_back('}');
}

void AppendTail(std::string& out, int64_t expired_at, int64_t nonce, const Signature& sig,
                const TxAttributes& attributes) {
  absl::StrAppend(&out, ",\"ExpiredAt\":", expired_at, ",\"Nonce\":", nonce, ",\"Sig\":\"",
                  SignatureToBase64(sig), "\",\"L2TxAttributes\":");
  AppendAttributesJson(out, attributes);
  out.push_back('}');
}

template <typename Tx>
absl::StatusOr<SignedTx> SignImpl(const Tx& tx, TxType type, uint32_t chain_id,
                                  const PrivateKey& key) {
  absl::StatusOr<TxHash> hash = HashTx(tx, chain_id);
  if (!hash.ok()) return hash.status();
  absl::StatusOr<Signature> sig = key.Sign(*hash);
  if (!sig.ok()) return sig.status();
  SignedTx out{type, *hash, ToHex(*hash), *sig, TxInfoJson(tx, *sig)};
  return out;
}

absl::StatusOr<Fp5> HashToFp5(const TxHash& hash) {
  std::optional<Fp5> m = internal::Fp5FromCanonicalBytes(hash.data());
  if (!m) return absl::InvalidArgumentError("message hash has a non-canonical field limb (>= p)");
  return *m;
}

Signature EncodeSig(const internal::SchnorrSig& sig) {
  Signature out{};
  const auto s = internal::ScalarToBytes(sig.s);
  const auto e = internal::ScalarToBytes(sig.e);
  std::copy(s.begin(), s.end(), out.begin());
  std::copy(e.begin(), e.end(), out.begin() + 40);
  return out;
}

}  // namespace

// ---- PrivateKey ----

PrivateKey::PrivateKey(const Scalar& sk)
    : sk_(std::make_unique<Scalar>(sk)),
      public_key_(internal::Fp5ToBytes(internal::SchnorrPublicKey(sk))) {}

PrivateKey::PrivateKey(PrivateKey&&) noexcept = default;
PrivateKey& PrivateKey::operator=(PrivateKey&& other) noexcept {
  if (this != &other) {
    if (sk_) internal::ScalarWipe(*sk_);
    sk_ = std::move(other.sk_);
    public_key_ = other.public_key_;
  }
  return *this;
}
PrivateKey::~PrivateKey() {
  if (sk_) internal::ScalarWipe(*sk_);
}

absl::StatusOr<PrivateKey> PrivateKey::FromBytes(std::span<const uint8_t> bytes40) {
  if (bytes40.size() != kPrivateKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("private key: expected 40 bytes, got ", bytes40.size()));
  }
  std::optional<Scalar> sk = internal::ScalarFromCanonicalBytes(bytes40.data());
  if (!sk) return absl::InvalidArgumentError("private key: scalar out of range (>= group order)");
  if (internal::ScalarIsZero(*sk)) return absl::InvalidArgumentError("private key: zero scalar");
  PrivateKey key(*sk);
  internal::ScalarWipe(*sk);
  return key;
}

absl::StatusOr<PrivateKey> PrivateKey::FromHex(std::string_view hex) {
  hex = StripHexPrefix(hex);
  if (hex.size() != 2 * kPrivateKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("private key: expected 80 hex chars, got ", hex.size()));
  }
  std::vector<uint8_t> bytes;
  const bool ok = DecodeHex(hex, bytes);
  absl::StatusOr<PrivateKey> key =
      ok ? FromBytes(bytes) : absl::InvalidArgumentError("private key: not hex");
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

absl::StatusOr<PrivateKey> PrivateKey::FromSeedHex(std::string_view seed_hex) {
  std::vector<uint8_t> seed;
  if (!DecodeHex(StripHexPrefix(seed_hex), seed)) {
    return absl::InvalidArgumentError("seed: not hex");
  }
  if (seed.size() < 32) {
    OPENSSL_cleanse(seed.data(), seed.size());
    return absl::InvalidArgumentError(
        absl::StrCat("seed: at least 32 bytes required, got ", seed.size()));
  }
  uint8_t part[2][SHA256_DIGEST_LENGTH];
  std::vector<uint8_t> tagged(seed.size() + 1);
  std::copy(seed.begin(), seed.end(), tagged.begin() + 1);
  for (int i = 0; i < 2; ++i) {
    tagged[0] = static_cast<uint8_t>(i + 1);
    SHA256(tagged.data(), tagged.size(), part[i]);
  }
  OPENSSL_cleanse(tagged.data(), tagged.size());
  OPENSSL_cleanse(seed.data(), seed.size());
  // part1 || part2[0..8) as a big-endian 320-bit integer.
  uint8_t be[40];
  std::copy(part[0], part[0] + 32, be);
  std::copy(part[1], part[1] + 8, be + 32);
  std::array<uint64_t, 5> limbs{};
  for (int i = 0; i < 5; ++i) {
    uint64_t v = 0;
    for (int j = 0; j < 8; ++j) v = (v << 8) | be[(4 - i) * 8 + j];
    limbs[i] = v;
  }
  Scalar sk = internal::ScalarReduce320(limbs);
  OPENSSL_cleanse(part, sizeof(part));
  OPENSSL_cleanse(be, sizeof(be));
  OPENSSL_cleanse(limbs.data(), sizeof(limbs));
  if (internal::ScalarIsZero(sk)) return absl::InvalidArgumentError("seed: derived zero scalar");
  PrivateKey key(sk);
  internal::ScalarWipe(sk);
  return key;
}

std::string PrivateKey::PublicKeyHex() const {
  return ToHex(public_key_);
}

std::array<uint8_t, kPrivateKeySize> PrivateKey::ToBytes() const {
  return internal::ScalarToBytes(*sk_);
}

absl::StatusOr<Signature> PrivateKey::Sign(const TxHash& hash) const {
  absl::StatusOr<Fp5> m = HashToFp5(hash);
  if (!m.ok()) return m.status();
  std::optional<Scalar> k = internal::SampleNonce();
  if (!k) return absl::InternalError("RAND_bytes failed: cannot draw a signing nonce");
  const internal::SchnorrSig sig = internal::SchnorrSignWithNonce(*m, *sk_, *k);
  internal::ScalarWipe(*k);
  return EncodeSig(sig);
}

absl::StatusOr<Signature> PrivateKey::SignWithNonceForTesting(
    const TxHash& hash, std::span<const uint8_t> nonce40) const {
  absl::StatusOr<Fp5> m = HashToFp5(hash);
  if (!m.ok()) return m.status();
  if (nonce40.size() != 40) return absl::InvalidArgumentError("nonce: expected 40 bytes");
  std::optional<Scalar> k = internal::ScalarFromCanonicalBytes(nonce40.data());
  if (!k || internal::ScalarIsZero(*k)) {
    return absl::InvalidArgumentError("nonce: scalar out of range");
  }
  return EncodeSig(internal::SchnorrSignWithNonce(*m, *sk_, *k));
}

// ---- PublicKey ----

absl::StatusOr<PublicKey> PublicKey::FromBytes(std::span<const uint8_t> bytes40) {
  if (bytes40.size() != kPublicKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("public key: expected 40 bytes, got ", bytes40.size()));
  }
  std::optional<Fp5> w = internal::Fp5FromCanonicalBytes(bytes40.data());
  if (!w) return absl::InvalidArgumentError("public key: non-canonical field limb (>= p)");
  if (w->IsZero()) return absl::InvalidArgumentError("public key: neutral point");
  std::optional<internal::Point> point = internal::PointDecode(*w);
  if (!point) return absl::InvalidArgumentError("public key: not a valid ECgFp5 point encoding");
  PublicKey key;
  key.tables_ =
      std::make_shared<const internal::VerifyTables>(internal::MakeVerifyTables(*point, false));
  std::copy(bytes40.begin(), bytes40.end(), key.bytes_.begin());
  return key;
}

absl::StatusOr<PublicKey> PublicKey::FromHex(std::string_view hex) {
  absl::StatusOr<std::array<uint8_t, 40>> bytes = FixedFromHex<40>(hex, "public key");
  if (!bytes.ok()) return bytes.status();
  return FromBytes(*bytes);
}

std::string PublicKey::Hex() const {
  return ToHex(bytes_);
}

PublicKey PublicKey::WithPrecomputation() const {
  PublicKey out = *this;
  if (tables_ && tables_->comb.empty()) {
    out.tables_ = std::make_shared<const internal::VerifyTables>(
        internal::MakeVerifyTables(tables_->point, true));
  }
  return out;
}

absl::Status PublicKey::Verify(const TxHash& hash, const Signature& sig) const {
  if (!tables_) return absl::FailedPreconditionError("public key not initialized");
  absl::StatusOr<Fp5> m = HashToFp5(hash);
  if (!m.ok()) return m.status();
  std::optional<Scalar> s = internal::ScalarFromCanonicalBytes(sig.data());
  if (!s) return absl::InvalidArgumentError("signature: s out of range (>= group order)");
  std::optional<Scalar> e = internal::ScalarFromCanonicalBytes(sig.data() + 40);
  if (!e) return absl::InvalidArgumentError("signature: e out of range (>= group order)");
  if (!internal::SchnorrVerify(*tables_, *m, internal::SchnorrSig{*s, *e})) {
    return absl::UnauthenticatedError("signature does not verify");
  }
  return absl::OkStatus();
}

// ---- validation ----

absl::Status ValidateAttributes(const TxAttributes& attributes) {
  const auto present = PresentAttributes(attributes);
  if (present.size() > kMaxAttributesPerTx) {
    return Invalid(absl::StrCat("too many tx attributes: ", present.size(), " > 4"));
  }
  for (const auto& [type, value] : present) {
    const AttrSpec& spec = kAttrSpecs[type - 1];
    if (value < spec.min || value > spec.max) {
      return Invalid(absl::StrCat("attribute ", spec.name, " out of range: ", value));
    }
  }
  const bool has_fees = AttrOrNil(attributes.integrator_taker_fee, 2) != 0 ||
                        AttrOrNil(attributes.integrator_maker_fee, 3) != 0;
  const bool has_integrator = AttrOrNil(attributes.integrator_account_index, 1) != 0;
  if (has_fees && !has_integrator) {
    return Invalid("integrator fees require integrator_account_index");
  }
  const bool has_self_trade = AttrOrNil(attributes.self_trade_behavior, 6) != 0 ||
                              AttrOrNil(attributes.self_trade_equality, 7) != 0;
  if (has_self_trade && has_fees) {
    return Invalid("self-trade attributes are not allowed with integrator fees");
  }
  if (AttrOrNil(attributes.self_trade_behavior, 6) == 3 &&
      AttrOrNil(attributes.self_trade_equality, 7) == 1) {
    return Invalid("self-trade reduce mode is not allowed with master-account equality");
  }
  return absl::OkStatus();
}

absl::Status ValidateTx(const CreateOrderTx& tx) {
  if (absl::Status s = ValidateHead(tx, false); !s.ok()) return s;
  bool perps = false;
  if (absl::Status s = ValidateMarket(tx.market_index, &perps); !s.ok()) return s;
  if (tx.client_order_index != 0 &&
      (tx.client_order_index < 1 || tx.client_order_index > kMaxClientOrderIndex)) {
    return Invalid(absl::StrCat("client_order_index out of range: ", tx.client_order_index));
  }
  if (!tx.reduce_only && tx.base_amount == 0) {
    return Invalid("base_amount must be > 0 unless reduce_only");
  }
  if (tx.base_amount < 0 || tx.base_amount > kMaxBaseAmount) {
    return Invalid(absl::StrCat("base_amount out of range: ", tx.base_amount));
  }
  if (tx.price == 0) return Invalid("price must be >= 1");
  const auto tif = tx.time_in_force;
  if (tif != TimeInForce::kImmediateOrCancel && tif != TimeInForce::kGoodTillTime &&
      tif != TimeInForce::kPostOnly) {
    return Invalid(absl::StrCat("invalid time_in_force: ", static_cast<int>(tif)));
  }
  if (!perps && tx.reduce_only) return Invalid("reduce_only is not allowed on spot markets");
  if (tx.order_expiry < 0) return Invalid(absl::StrCat("invalid order_expiry: ", tx.order_expiry));
  const bool ioc = tif == TimeInForce::kImmediateOrCancel;
  switch (tx.type) {
    case OrderType::kMarket:
      if (!ioc) return Invalid("market orders must be IOC");
      if (tx.order_expiry != 0) return Invalid("market orders must have order_expiry 0");
      if (tx.trigger_price != 0) return Invalid("market orders must have trigger_price 0");
      break;
    case OrderType::kLimit:
      if (tx.trigger_price != 0) return Invalid("limit orders must have trigger_price 0");
      if (ioc && tx.order_expiry != 0) return Invalid("limit IOC orders must have order_expiry 0");
      if (!ioc && tx.order_expiry == 0) {
        return Invalid("limit GTT/post-only orders need a non-zero order_expiry");
      }
      break;
    case OrderType::kStopLoss:
    case OrderType::kTakeProfit:
      if (!perps) return Invalid("SL/TP orders are perps-only");
      if (!ioc) return Invalid("SL/TP market orders must be IOC");
      if (tx.trigger_price == 0) return Invalid("SL/TP orders need a trigger_price");
      if (tx.order_expiry == 0) return Invalid("SL/TP orders need an order_expiry");
      break;
    case OrderType::kStopLossLimit:
    case OrderType::kTakeProfitLimit:
      if (!perps) return Invalid("SL/TP orders are perps-only");
      if (tx.trigger_price == 0) return Invalid("SL/TP orders need a trigger_price");
      if (tx.order_expiry == 0) return Invalid("SL/TP orders need an order_expiry");
      break;
    case OrderType::kTwap:
      if (tif != TimeInForce::kGoodTillTime) return Invalid("TWAP orders must be GTT");
      if (tx.trigger_price != 0) return Invalid("TWAP orders must have trigger_price 0");
      if (tx.order_expiry == 0) return Invalid("TWAP orders need an order_expiry");
      break;
    default: return Invalid(absl::StrCat("invalid order type: ", static_cast<int>(tx.type)));
  }
  return absl::OkStatus();
}

absl::Status ValidateTx(const CancelOrderTx& tx) {
  if (absl::Status s = ValidateHead(tx, false); !s.ok()) return s;
  if (absl::Status s = ValidateMarket(tx.market_index, nullptr); !s.ok()) return s;
  return ValidateOrderIndex(tx.index);
}

absl::Status ValidateTx(const CancelAllOrdersTx& tx) {
  if (absl::Status s = ValidateHead(tx, true); !s.ok()) return s;
  if (tx.attributes.cancel_all_market_index.has_value() &&
      tx.time_in_force != CancelAllTimeInForce::kImmediate &&
      *tx.attributes.cancel_all_market_index != kNilMarketIndex) {
    return Invalid("a single-market cancel-all cannot be scheduled");
  }
  switch (tx.time_in_force) {
    case CancelAllTimeInForce::kImmediate:
    case CancelAllTimeInForce::kAbortScheduled:
      if (tx.time != 0) return Invalid("cancel-all time must be 0 unless scheduled");
      break;
    case CancelAllTimeInForce::kScheduled:
      if (tx.time < 1) return Invalid("scheduled cancel-all needs a time (ms)");
      break;
    default:
      return Invalid(
          absl::StrCat("invalid cancel-all time_in_force: ", static_cast<int>(tx.time_in_force)));
  }
  return absl::OkStatus();
}

absl::Status ValidateTx(const ModifyOrderTx& tx) {
  if (absl::Status s = ValidateHead(tx, false); !s.ok()) return s;
  if (absl::Status s = ValidateMarket(tx.market_index, nullptr); !s.ok()) return s;
  if (absl::Status s = ValidateOrderIndex(tx.index); !s.ok()) return s;
  if (tx.base_amount < 0 || tx.base_amount > kMaxBaseAmount) {
    return Invalid(absl::StrCat("base_amount out of range: ", tx.base_amount));
  }
  if (tx.price == 0) return Invalid("price must be >= 1");
  return absl::OkStatus();
}

absl::Status ValidateTx(const UpdateLeverageTx& tx) {
  if (absl::Status s = ValidateHead(tx, false); !s.ok()) return s;
  bool perps = false;
  if (absl::Status s = ValidateMarket(tx.market_index, &perps); !s.ok()) return s;
  if (!perps) return Invalid("leverage is set on perps markets only");
  if (tx.margin_mode != MarginMode::kCross && tx.margin_mode != MarginMode::kIsolated) {
    return Invalid(absl::StrCat("invalid margin_mode: ", static_cast<int>(tx.margin_mode)));
  }
  if (tx.initial_margin_fraction < 1 || tx.initial_margin_fraction > kMarginFractionTick) {
    return Invalid(
        absl::StrCat("initial_margin_fraction out of range 1..10000: ", tx.initial_margin_fraction));
  }
  return absl::OkStatus();
}

// ---- hashing ----

absl::StatusOr<TxHash> HashTx(const CreateOrderTx& tx, uint32_t chain_id) {
  if (absl::Status s = ValidateTx(tx); !s.ok()) return s;
  const std::array<Fp, 16> pre = {F(chain_id),
                                  F(14),
                                  F(tx.nonce),
                                  F(tx.expired_at),
                                  F(tx.account_index),
                                  F(tx.api_key_index),
                                  F(tx.market_index),
                                  F(tx.client_order_index),
                                  F(tx.base_amount),
                                  F(tx.price),
                                  F(tx.is_ask ? 1 : 0),
                                  F(static_cast<int64_t>(tx.type)),
                                  F(static_cast<int64_t>(tx.time_in_force)),
                                  F(tx.reduce_only ? 1 : 0),
                                  F(tx.trigger_price),
                                  F(tx.order_expiry)};
  return HashWithAttributes(pre, tx.attributes);
}

absl::StatusOr<TxHash> HashTx(const CancelOrderTx& tx, uint32_t chain_id) {
  if (absl::Status s = ValidateTx(tx); !s.ok()) return s;
  const std::array<Fp, 8> pre = {F(chain_id),         F(15),
                                 F(tx.nonce),         F(tx.expired_at),
                                 F(tx.account_index), F(tx.api_key_index),
                                 F(tx.market_index),  F(tx.index)};
  return HashWithAttributes(pre, tx.attributes);
}

absl::StatusOr<TxHash> HashTx(const CancelAllOrdersTx& tx, uint32_t chain_id) {
  if (absl::Status s = ValidateTx(tx); !s.ok()) return s;
  const std::array<Fp, 8> pre = {F(chain_id),
                                 F(16),
                                 F(tx.nonce),
                                 F(tx.expired_at),
                                 F(tx.account_index),
                                 F(tx.api_key_index),
                                 F(static_cast<int64_t>(tx.time_in_force)),
                                 F(tx.time)};
  return HashWithAttributes(pre, tx.attributes);
}

absl::StatusOr<TxHash> HashTx(const ModifyOrderTx& tx, uint32_t chain_id) {
  if (absl::Status s = ValidateTx(tx); !s.ok()) return s;
  const std::array<Fp, 11> pre = {F(chain_id),         F(17),
                                  F(tx.nonce),         F(tx.expired_at),
                                  F(tx.account_index), F(tx.api_key_index),
                                  F(tx.market_index),  F(tx.index),
                                  F(tx.base_amount),   F(tx.price),
                                  F(tx.trigger_price)};
  return HashWithAttributes(pre, tx.attributes);
}

absl::StatusOr<TxHash> HashTx(const UpdateLeverageTx& tx, uint32_t chain_id) {
  if (absl::Status s = ValidateTx(tx); !s.ok()) return s;
  const std::array<Fp, 9> pre = {F(chain_id),
                                 F(20),
                                 F(tx.nonce),
                                 F(tx.expired_at),
                                 F(tx.account_index),
                                 F(tx.api_key_index),
                                 F(tx.market_index),
                                 F(static_cast<int64_t>(tx.initial_margin_fraction)),
                                 F(static_cast<int64_t>(tx.margin_mode))};
  return HashWithAttributes(pre, tx.attributes);
}

// ---- tx_info JSON ----

std::string TxInfoJson(const CreateOrderTx& tx, const Signature& sig) {
  std::string out;
  out.reserve(512);
  absl::StrAppend(&out, "{\"AccountIndex\":", tx.account_index,
                  ",\"ApiKeyIndex\":", tx.api_key_index, ",\"MarketIndex\":", tx.market_index,
                  ",\"ClientOrderIndex\":", tx.client_order_index,
                  ",\"BaseAmount\":", tx.base_amount, ",\"Price\":", tx.price);
  absl::StrAppend(&out, ",\"IsAsk\":", tx.is_ask ? 1 : 0, ",\"Type\":", static_cast<int>(tx.type),
                  ",\"TimeInForce\":", static_cast<int>(tx.time_in_force),
                  ",\"ReduceOnly\":", tx.reduce_only ? 1 : 0,
                  ",\"TriggerPrice\":", tx.trigger_price, ",\"OrderExpiry\":", tx.order_expiry);
  AppendTail(out, tx.expired_at, tx.nonce, sig, tx.attributes);
  return out;
}

std::string TxInfoJson(const CancelOrderTx& tx, const Signature& sig) {
  std::string out;
  out.reserve(384);
  absl::StrAppend(&out, "{\"AccountIndex\":", tx.account_index,
                  ",\"ApiKeyIndex\":", tx.api_key_index, ",\"MarketIndex\":", tx.market_index,
                  ",\"Index\":", tx.index);
  AppendTail(out, tx.expired_at, tx.nonce, sig, tx.attributes);
  return out;
}

std::string TxInfoJson(const CancelAllOrdersTx& tx, const Signature& sig) {
  std::string out;
  out.reserve(384);
  absl::StrAppend(&out, "{\"AccountIndex\":", tx.account_index,
                  ",\"ApiKeyIndex\":", tx.api_key_index,
                  ",\"TimeInForce\":", static_cast<int>(tx.time_in_force), ",\"Time\":", tx.time);
  AppendTail(out, tx.expired_at, tx.nonce, sig, tx.attributes);
  return out;
}

std::string TxInfoJson(const ModifyOrderTx& tx, const Signature& sig) {
  std::string out;
  out.reserve(448);
  absl::StrAppend(&out, "{\"AccountIndex\":", tx.account_index,
                  ",\"ApiKeyIndex\":", tx.api_key_index, ",\"MarketIndex\":", tx.market_index,
                  ",\"Index\":", tx.index, ",\"BaseAmount\":", tx.base_amount,
                  ",\"Price\":", tx.price, ",\"TriggerPrice\":", tx.trigger_price);
  AppendTail(out, tx.expired_at, tx.nonce, sig, tx.attributes);
  return out;
}

std::string TxInfoJson(const UpdateLeverageTx& tx, const Signature& sig) {
  std::string out;
  out.reserve(384);
  absl::StrAppend(&out, "{\"AccountIndex\":", tx.account_index,
                  ",\"ApiKeyIndex\":", tx.api_key_index, ",\"MarketIndex\":", tx.market_index,
                  ",\"InitialMarginFraction\":", tx.initial_margin_fraction,
                  ",\"MarginMode\":", static_cast<int>(tx.margin_mode));
  AppendTail(out, tx.expired_at, tx.nonce, sig, tx.attributes);
  return out;
}

absl::StatusOr<SignedTx> SignTx(const CreateOrderTx& tx, uint32_t chain_id, const PrivateKey& key) {
  return SignImpl(tx, TxType::kCreateOrder, chain_id, key);
}
absl::StatusOr<SignedTx> SignTx(const CancelOrderTx& tx, uint32_t chain_id, const PrivateKey& key) {
  return SignImpl(tx, TxType::kCancelOrder, chain_id, key);
}
absl::StatusOr<SignedTx> SignTx(const CancelAllOrdersTx& tx, uint32_t chain_id,
                                const PrivateKey& key) {
  return SignImpl(tx, TxType::kCancelAllOrders, chain_id, key);
}
absl::StatusOr<SignedTx> SignTx(const ModifyOrderTx& tx, uint32_t chain_id, const PrivateKey& key) {
  return SignImpl(tx, TxType::kModifyOrder, chain_id, key);
}
absl::StatusOr<SignedTx> SignTx(const UpdateLeverageTx& tx, uint32_t chain_id,
                                const PrivateKey& key) {
  return SignImpl(tx, TxType::kUpdateLeverage, chain_id, key);
}

// ---- auth token ----

std::string AuthMessage(int64_t deadline_unix_s, int64_t account_index, uint8_t api_key_index) {
  return absl::StrCat(deadline_unix_s, ":", account_index, ":", api_key_index);
}

absl::StatusOr<TxHash> HashAuthMessage(std::string_view message) {
  std::vector<Fp> elems;
  elems.reserve((message.size() + 7) / 8);
  for (size_t i = 0; i < message.size(); i += 8) {
    uint64_t v = 0;
    for (size_t j = 0; j < 8 && i + j < message.size(); ++j) {
      v |= static_cast<uint64_t>(static_cast<uint8_t>(message[i + j])) << (8 * j);
    }
    if (v >= internal::kP) {
      return absl::InvalidArgumentError("auth message chunk is not a canonical field element");
    }
    elems.push_back(Fp{v});
  }
  return ToTxHash(internal::HashToQuinticExtension(elems));
}

absl::StatusOr<std::string> MakeAuthToken(int64_t deadline_unix_s, int64_t account_index,
                                          uint8_t api_key_index, const PrivateKey& key) {
  std::string message = AuthMessage(deadline_unix_s, account_index, api_key_index);
  absl::StatusOr<TxHash> hash = HashAuthMessage(message);
  if (!hash.ok()) return hash.status();
  absl::StatusOr<Signature> sig = key.Sign(*hash);
  if (!sig.ok()) return sig.status();
  return absl::StrCat(message, ":", ToHex(*sig));
}

absl::StatusOr<AuthToken> ParseAuthToken(std::string_view token) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t colon = token.find(':', start);
    parts.push_back(token.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 4) {
    return absl::InvalidArgumentError(
        "auth token: expected <deadline>:<account>:<api_key>:<sig_hex>");
  }
  AuthToken out;
  int64_t api_key = 0;
  if (!absl::SimpleAtoi(AV(parts[0]), &out.deadline_unix_s) ||
      !absl::SimpleAtoi(AV(parts[1]), &out.account_index) ||
      !absl::SimpleAtoi(AV(parts[2]), &api_key) || api_key < 0 || api_key > 255) {
    return absl::InvalidArgumentError("auth token: bad deadline/account/api key field");
  }
  out.api_key_index = static_cast<uint8_t>(api_key);
  absl::StatusOr<Signature> sig = SignatureFromHex(parts[3]);
  if (!sig.ok()) return sig.status();
  out.signature = *sig;
  // The signed message is the exact prefix, not a re-rendering of the parsed numbers.
  out.message = std::string(token.substr(0, token.size() - parts[3].size() - 1));
  return out;
}

absl::StatusOr<AuthToken> VerifyAuthToken(std::string_view token, const PublicKey& key) {
  absl::StatusOr<AuthToken> parsed = ParseAuthToken(token);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<TxHash> hash = HashAuthMessage(parsed->message);
  if (!hash.ok()) return hash.status();
  if (absl::Status s = key.Verify(*hash, parsed->signature); !s.ok()) return s;
  return parsed;
}

// ---- encodings ----

std::string ToHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

absl::StatusOr<TxHash> TxHashFromHex(std::string_view hex) {
  return FixedFromHex<kTxHashSize>(hex, "tx hash");
}

absl::StatusOr<Signature> SignatureFromHex(std::string_view hex) {
  return FixedFromHex<kSignatureSize>(hex, "signature");
}

std::string SignatureToBase64(const Signature& sig) {
  unsigned char buf[4 * ((kSignatureSize + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(buf, sig.data(), static_cast<int>(sig.size()));
  return std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

absl::StatusOr<Signature> SignatureFromBase64(std::string_view b64) {
  // 80 bytes -> 108 chars with one '=' of padding.
  if (b64.size() != 108) {
    return absl::InvalidArgumentError(
        absl::StrCat("signature base64: expected 108 chars, got ", b64.size()));
  }
  unsigned char buf[81 + 3];
  const int n = EVP_DecodeBlock(buf, reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  // EVP_DecodeBlock counts padding as zero bytes: 108 chars -> 81 bytes, the last from '='.
  if (n != 81 || b64[107] != '=' || b64[106] == '=') {
    return absl::InvalidArgumentError("signature base64: malformed");
  }
  Signature sig{};
  std::copy(buf, buf + kSignatureSize, sig.begin());
  return sig;
}

absl::StatusOr<int64_t> ScaleDecimal(std::string_view decimal, int decimals) {
  if (decimals < 0 || decimals > 18) {
    return absl::InvalidArgumentError(absl::StrCat("decimals out of range: ", decimals));
  }
  if (decimal.empty()) return absl::InvalidArgumentError("empty decimal");
  const size_t dot = decimal.find('.');
  std::string_view int_part = decimal.substr(0, dot);
  std::string_view frac_part =
      dot == std::string_view::npos ? std::string_view() : decimal.substr(dot + 1);
  if (int_part.empty() && frac_part.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("not a decimal: \"", AV(decimal), "\""));
  }
  // Trailing zeros beyond the allowed precision are harmless ("1.500" at 2 decimals).
  while (frac_part.size() > static_cast<size_t>(decimals) && frac_part.back() == '0') {
    frac_part.remove_suffix(1);
  }
  if (frac_part.size() > static_cast<size_t>(decimals)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", AV(decimal), "\" has more than ", decimals, " decimals"));
  }
  unsigned __int128 v = 0;
  auto push = [&v](char c) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
    return v <= static_cast<unsigned __int128>(INT64_MAX);
  };
  for (char c : int_part) {
    if (!push(c))
      return absl::InvalidArgumentError(absl::StrCat("bad decimal \"", AV(decimal), "\""));
  }
  for (char c : frac_part) {
    if (!push(c))
      return absl::InvalidArgumentError(absl::StrCat("bad decimal \"", AV(decimal), "\""));
  }
  for (size_t i = frac_part.size(); i < static_cast<size_t>(decimals); ++i) {
    if (!push('0')) {
      return absl::InvalidArgumentError(absl::StrCat("decimal \"", AV(decimal), "\" overflows"));
    }
  }
  return static_cast<int64_t>(v);
}

absl::StatusOr<uint32_t> ScalePrice(std::string_view price, int price_decimals) {
  absl::StatusOr<int64_t> v = ScaleDecimal(price, price_decimals);
  if (!v.ok()) return v.status();
  if (*v < 1 || *v > int64_t{0xFFFFFFFF}) {
    return absl::InvalidArgumentError(
        absl::StrCat("price \"", AV(price), "\" scales to ", *v, ", outside [1, 2^32-1]"));
  }
  return static_cast<uint32_t>(*v);
}

absl::StatusOr<int64_t> ScaleBaseAmount(std::string_view size, int size_decimals) {
  absl::StatusOr<int64_t> v = ScaleDecimal(size, size_decimals);
  if (!v.ok()) return v.status();
  if (*v > kMaxBaseAmount) {
    return absl::InvalidArgumentError(
        absl::StrCat("size \"", AV(size), "\" scales to ", *v, ", above 2^48-1"));
  }
  return *v;
}

}  // namespace perpgw::adapters::lighter
