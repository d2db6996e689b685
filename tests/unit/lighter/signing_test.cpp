// Tests for the Lighter signing library against the official signer's known-answer vectors.
#include "adapters/lighter/signing.h"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "adapters/lighter/lighter_ecgfp5.h"
#include "adapters/lighter/lighter_goldilocks.h"
#include "adapters/lighter/lighter_poseidon2.h"

namespace lt = perpgw::adapters::lighter;
namespace in = perpgw::adapters::lighter::internal;

namespace {

const simdjson::dom::element& Kat() {
  static simdjson::dom::parser parser;
  static simdjson::dom::element doc =
      parser.load(PERPGW_TEST_DATA "/lighter/vectors/lighter_signer_kat.json").value();
  return doc;
}

std::string Str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

template <size_t N>
std::array<uint8_t, N> HexBytes(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && hex[1] == 'x') hex.remove_prefix(2);
  REQUIRE(hex.size() == 2 * N);
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) {
    out[i] = static_cast<uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  }
  return out;
}

lt::TxAttributes ParseAttributes(simdjson::dom::element e) {
  lt::TxAttributes a;
  if (e.is_null()) return a;
  for (auto [key, value] : simdjson::dom::object(e)) {
    const int64_t v = int64_t(value);
    switch (std::stoi(std::string(key))) {
      case 1:
        a.integrator_account_index = v;
        break;
      case 2:
        a.integrator_taker_fee = v;
        break;
      case 3:
        a.integrator_maker_fee = v;
        break;
      case 4:
        a.skip_nonce = v;
        break;
      case 5:
        a.cancel_all_market_index = v;
        break;
      case 6:
        a.self_trade_behavior = v;
        break;
      case 7:
        a.self_trade_equality = v;
        break;
      default:
        FAIL("unknown attribute");
    }
  }
  return a;
}

struct ParsedTx {
  int type = 0;
  lt::CreateOrderTx create;
  lt::CancelOrderTx cancel;
  lt::CancelAllOrdersTx cancel_all;
};

ParsedTx ParseTx(int64_t tx_type, simdjson::dom::element j) {
  ParsedTx p;
  p.type = static_cast<int>(tx_type);
  auto i64 = [&](const char* k) { return int64_t(j[k]); };
  if (tx_type == 14) {
    auto& t = p.create;
    t.account_index = i64("AccountIndex");
    t.api_key_index = static_cast<uint8_t>(i64("ApiKeyIndex"));
    t.market_index = static_cast<int16_t>(i64("MarketIndex"));
    t.client_order_index = i64("ClientOrderIndex");
    t.base_amount = i64("BaseAmount");
    t.price = static_cast<uint32_t>(i64("Price"));
    t.is_ask = i64("IsAsk") != 0;
    t.type = static_cast<lt::OrderType>(i64("Type"));
    t.time_in_force = static_cast<lt::TimeInForce>(i64("TimeInForce"));
    t.reduce_only = i64("ReduceOnly") != 0;
    t.trigger_price = static_cast<uint32_t>(i64("TriggerPrice"));
    t.order_expiry = i64("OrderExpiry");
    t.expired_at = i64("ExpiredAt");
    t.nonce = i64("Nonce");
    t.attributes = ParseAttributes(j["L2TxAttributes"]);
  } else if (tx_type == 15) {
    auto& t = p.cancel;
    t.account_index = i64("AccountIndex");
    t.api_key_index = static_cast<uint8_t>(i64("ApiKeyIndex"));
    t.market_index = static_cast<int16_t>(i64("MarketIndex"));
    t.index = i64("Index");
    t.expired_at = i64("ExpiredAt");
    t.nonce = i64("Nonce");
    t.attributes = ParseAttributes(j["L2TxAttributes"]);
  } else {
    REQUIRE(tx_type == 16);
    auto& t = p.cancel_all;
    t.account_index = i64("AccountIndex");
    t.api_key_index = static_cast<uint8_t>(i64("ApiKeyIndex"));
    t.time_in_force = static_cast<lt::CancelAllTimeInForce>(i64("TimeInForce"));
    t.time = i64("Time");
    t.expired_at = i64("ExpiredAt");
    t.nonce = i64("Nonce");
    t.attributes = ParseAttributes(j["L2TxAttributes"]);
  }
  return p;
}

template <typename F>
auto Dispatch(const ParsedTx& p, F&& f) {
  if (p.type == 14) return f(p.create);
  if (p.type == 15) return f(p.cancel);
  return f(p.cancel_all);
}

lt::PrivateKey SigningKey() {
  return lt::PrivateKey::FromHex(Str(Kat()["signing_key"]["private_key_le_hex"])).value();
}
lt::PublicKey SigningPublicKey() {
  return lt::PublicKey::FromHex(Str(Kat()["signing_key"]["public_key_fp5_le_hex"])).value();
}

in::Scalar RandomScalar(std::mt19937_64& rng) {
  std::array<uint64_t, 5> l;
  for (auto& x : l) x = rng();
  return in::ScalarReduce320(l);
}

in::Fp5 RandomFp5(std::mt19937_64& rng) {
  in::Fp5 a;
  for (auto& c : a.c) c = in::Fp::FromU64(rng());
  return a;
}

}  // namespace

TEST_CASE("Goldilocks field arithmetic", "[lighter][field]") {
  std::mt19937_64 rng(1);
  const unsigned __int128 p = in::kP;
  for (int i = 0; i < 2000; ++i) {
    const uint64_t a = rng() % in::kP, b = rng() % in::kP;
    REQUIRE(in::FpMul(in::Fp{a}, in::Fp{b}).v ==
            static_cast<uint64_t>(static_cast<unsigned __int128>(a) * b % p));
    REQUIRE(in::FpAdd(in::Fp{a}, in::Fp{b}).v ==
            static_cast<uint64_t>((static_cast<unsigned __int128>(a) + b) % p));
    REQUIRE(in::FpSub(in::Fp{a}, in::Fp{b}).v ==
            static_cast<uint64_t>((static_cast<unsigned __int128>(a) + p - b) % p));
  }
  // Edge values.
  const uint64_t edges[] = {0, 1, 2, in::kP - 1, in::kP - 2, 0xFFFFFFFFULL, 0x100000000ULL};
  for (uint64_t a : edges) {
    for (uint64_t b : edges) {
      REQUIRE(in::FpMul(in::Fp{a}, in::Fp{b}).v ==
              static_cast<uint64_t>(static_cast<unsigned __int128>(a) * b % p));
      REQUIRE(in::FpAdd(in::Fp{a}, in::Fp{b}).v ==
              static_cast<uint64_t>((static_cast<unsigned __int128>(a) + b) % p));
    }
    if (a != 0) REQUIRE(in::FpMul(in::Fp{a}, in::FpInverseOrZero(in::Fp{a})).v == 1);
  }
  REQUIRE(in::Fp::FromU64(~0ULL).v == 0xFFFFFFFEULL);
  for (int i = 0; i < 200; ++i) {
    const in::Fp a{rng() % in::kP};
    const auto r = in::FpSqrt(in::FpSquare(a));
    REQUIRE(r.has_value());
    REQUIRE(in::FpSquare(*r) == in::FpSquare(a));
  }
  REQUIRE_FALSE(in::FpSqrt(in::Fp{7}).has_value());  // 7 generates Fp*, not a square
}

TEST_CASE("Fp5 arithmetic", "[lighter][field]") {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 100; ++i) {
    const in::Fp5 a = RandomFp5(rng), b = RandomFp5(rng), c = RandomFp5(rng);
    REQUIRE(in::Fp5Square(a) == in::Fp5Mul(a, a));
    REQUIRE(in::Fp5Mul(a, b) == in::Fp5Mul(b, a));
    REQUIRE(in::Fp5Mul(in::Fp5Mul(a, b), c) == in::Fp5Mul(a, in::Fp5Mul(b, c)));
    REQUIRE(in::Fp5Mul(a, in::Fp5Add(b, c)) == in::Fp5Add(in::Fp5Mul(a, b), in::Fp5Mul(a, c)));
    REQUIRE(in::Fp5Mul(a, in::Fp5InverseOrZero(a)) == in::Fp5::One());
    // Frobenius is x -> x^p: multiplicative and of order 5.
    REQUIRE(in::Fp5Frobenius(in::Fp5Mul(a, b), 1) ==
            in::Fp5Mul(in::Fp5Frobenius(a, 1), in::Fp5Frobenius(b, 1)));
    in::Fp5 f = a;
    for (int k = 0; k < 5; ++k) f = in::Fp5Frobenius(f, 1);
    REQUIRE(f == a);
    const in::Fp5 sq = in::Fp5Square(a);
    REQUIRE(in::Fp5Legendre(sq).v == 1);
    const auto r = in::Fp5Sqrt(sq);
    REQUIRE(r.has_value());
    REQUIRE(in::Fp5Square(*r) == sq);
  }
  // z^5 = 3.
  in::Fp5 z;
  z.c[1] = in::Fp{1};
  in::Fp5 z5 = in::Fp5::One();
  for (int i = 0; i < 5; ++i) z5 = in::Fp5Mul(z5, z);
  REQUIRE(z5 == in::Fp5::FromU64(3));
  // Non-squares have no root.
  int non_squares = 0;
  for (int i = 0; i < 40; ++i) {
    const in::Fp5 a = RandomFp5(rng);
    if (in::Fp5Legendre(a).v != 1) {
      ++non_squares;
      REQUIRE_FALSE(in::Fp5Sqrt(a).has_value());
    }
  }
  REQUIRE(non_squares > 0);
  REQUIRE(in::Fp5InverseOrZero(in::Fp5::Zero()).IsZero());
}

TEST_CASE("Canonical Fp5 encoding", "[lighter][field]") {
  std::array<uint8_t, 40> bytes{};
  for (int limb = 0; limb < 5; ++limb) {
    bytes.fill(0);
    // p itself in limb `limb` is non-canonical.
    for (int j = 0; j < 8; ++j) bytes[limb * 8 + j] = static_cast<uint8_t>(in::kP >> (8 * j));
    REQUIRE_FALSE(in::Fp5FromCanonicalBytes(bytes.data()).has_value());
    bytes[limb * 8] -= 1;  // p - 1 is fine
    REQUIRE(in::Fp5FromCanonicalBytes(bytes.data()).has_value());
  }
}

TEST_CASE("Poseidon2 sponge behaviour", "[lighter][poseidon2]") {
  // Empty input: no permutation, zero output (reference behaviour).
  REQUIRE(in::HashToQuinticExtension({}).IsZero());
  // Input canonicalization: a uint64 cast >= p equals the reduced value.
  const std::array<in::Fp, 2> a = {in::Fp::FromU64(in::kP + 5), in::Fp{1}};
  const std::array<in::Fp, 2> b = {in::Fp{5}, in::Fp{1}};
  REQUIRE(in::HashToQuinticExtension(a) == in::HashToQuinticExtension(b));
}

TEST_CASE("ECgFp5 group law", "[lighter][curve]") {
  const in::Point g = in::Point::Generator();
  REQUIRE(in::PointEncode(g) == in::Fp5::FromU64(4));
  const auto dec = in::PointDecode(in::Fp5::FromU64(4));
  REQUIRE(dec.has_value());
  REQUIRE(in::PointEncode(*dec) == in::Fp5::FromU64(4));
  REQUIRE(in::Fp5Mul(dec->x, in::Fp5InverseOrZero(dec->z)) == g.x);

  // Neutral behaviour and doubling consistency.
  REQUIRE(in::PointEncode(in::PointAdd(g, in::Point::Neutral())) == in::PointEncode(g));
  REQUIRE(in::PointEncode(in::PointAdd(g, g)) == in::PointEncode(in::PointDouble(g)));
  in::Point p = g;
  for (int n = 1; n <= 7; ++n) {
    p = in::PointDouble(p);
    REQUIRE(in::PointEncode(in::PointMDouble(g, n)) == in::PointEncode(p));
  }

  // n*G = neutral: (n-1)*G + G.
  std::array<uint8_t, 40> nm1 = HexBytes<40>(
      "e0ff8b9496d90fe89ca024d7395c88e83906b8cfe6ffff7f16000000f1ffff7f07000080fdffff7f");
  const auto s = in::ScalarFromCanonicalBytes(nm1.data());
  REQUIRE(s.has_value());
  REQUIRE(in::PointIsNeutral(in::PointAdd(in::MulGenerator(*s), g)));
  REQUIRE(in::PointIsNeutral(in::PointAdd(in::MulVarTime(g, *s), g)));
  REQUIRE(in::PointEncode(in::MulGenerator(*s)) == in::Fp5Neg(in::Fp5::FromU64(4)));

  std::mt19937_64 rng(3);
  for (int i = 0; i < 20; ++i) {
    const in::Scalar k = RandomScalar(rng);
    const in::Scalar k2 = RandomScalar(rng);
    const in::Fp5 w = in::PointEncode(in::MulGenerator(k));
    REQUIRE(w == in::PointEncode(in::MulVarTime(g, k)));
    // Round trip through decode.
    const auto d = in::PointDecode(w);
    REQUIRE(d.has_value());
    REQUIRE(in::PointEncode(*d) == w);
    // (k + k2)*G = k*G + k2*G; k*(k2*G) = (k*k2)*G.
    REQUIRE(in::PointEncode(in::MulGenerator(in::ScalarAdd(k, k2))) ==
            in::PointEncode(in::PointAdd(in::MulGenerator(k), in::MulGenerator(k2))));
    REQUIRE(in::PointEncode(in::MulVarTime(in::MulGenerator(k2), k)) ==
            in::PointEncode(in::MulGenerator(in::ScalarMul(k, k2))));
    const in::Fp5 expected =
        in::PointEncode(in::PointAdd(in::MulGenerator(k), in::MulVarTime(*d, k2)));
    REQUIRE(in::PointEncode(in::MulAddGeneratorVarTime(k, *d, k2)) == expected);
    if (i < 3) {
      const in::VerifyTables tables = in::MakeVerifyTables(*d, true);
      REQUIRE(in::PointEncode(in::MulAddGeneratorVarTime(k, tables, k2)) == expected);
      REQUIRE(in::PointEncode(in::MulAddGeneratorVarTime(k, in::MakeVerifyTables(*d, false), k2)) ==
              expected);
    }
  }
  REQUIRE(in::PointIsNeutral(in::MulGenerator(in::Scalar{})));
}

TEST_CASE("Scalar arithmetic mod n", "[lighter][scalar]") {
  std::mt19937_64 rng(4);
  for (int i = 0; i < 50; ++i) {
    const in::Scalar a = RandomScalar(rng), b = RandomScalar(rng);
    REQUIRE(in::ScalarEqual(in::ScalarSub(in::ScalarAdd(a, b), b), a));
    REQUIRE(in::ScalarEqual(in::ScalarMul(a, b), in::ScalarMul(b, a)));
    in::Scalar one{};
    one.l[0] = 1;
    REQUIRE(in::ScalarEqual(in::ScalarMul(a, one), a));
  }
  // n and 2^320 - 1 reduce correctly; n is rejected as a canonical scalar.
  std::array<uint8_t, 40> n_bytes = HexBytes<40>(
      "e1ff8b9496d90fe89ca024d7395c88e83906b8cfe6ffff7f16000000f1ffff7f07000080fdffff7f");
  REQUIRE_FALSE(in::ScalarFromCanonicalBytes(n_bytes.data()).has_value());
  REQUIRE(in::ScalarIsZero(
      in::ScalarReduce320({0xE80FD996948BFFE1ULL, 0xE8885C39D724A09CULL, 0x7FFFFFE6CFB80639ULL,
                           0x7FFFFFF100000016ULL, 0x7FFFFFFD80000007ULL})));
  const in::Scalar big = in::ScalarReduce320({~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL});
  const auto big_bytes = in::ScalarToBytes(big);
  REQUIRE(in::ScalarFromCanonicalBytes(big_bytes.data()).has_value());
}

TEST_CASE("KAT: key derivations", "[lighter][kat]") {
  int checked = 0;
  for (auto k : simdjson::dom::array(Kat()["keys"])) {
    const std::string kind = Str(k["kind"]);
    const std::string expected_pk = Str(k["public_key"]);
    if (kind == "private_key_le_hex") {
      auto key = lt::PrivateKey::FromHex(Str(k["input_private_key"]));
      REQUIRE(key.ok());
      CHECK(key->PublicKeyHex() == expected_pk);
      CHECK(lt::ToHex(key->ToBytes()) == Str(k["returned_prv"]));
    } else {
      REQUIRE(kind == "seed_hex");
      auto key = lt::PrivateKey::FromSeedHex(Str(k["input_seed"]));
      REQUIRE(key.ok());
      CHECK(lt::ToHex(key->ToBytes()) == Str(k["derived_private_key"]));
      CHECK(key->PublicKeyHex() == expected_pk);
    }
    auto pk = lt::PublicKey::FromHex(expected_pk);
    REQUIRE(pk.ok());
    CHECK(pk->Hex() == expected_pk);
    ++checked;
  }
  REQUIRE(checked == 3);
  CHECK(SigningKey().PublicKeyHex() == Str(Kat()["signing_key"]["public_key_fp5_le_hex"]));
}

TEST_CASE("KAT: tx hashes, signatures and tx_info", "[lighter][kat]") {
  const uint32_t chain_id = static_cast<uint32_t>(int64_t(Kat()["chain_id"]));
  const lt::PublicKey pk = SigningPublicKey();
  const lt::PublicKey pk_fast = pk.WithPrecomputation();
  const lt::PrivateKey sk = SigningKey();
  int checked = 0;
  for (auto v : simdjson::dom::array(Kat()["txs"])) {
    const std::string label = Str(v["label"]);
    INFO(label);
    const int64_t tx_type = int64_t(v["tx_type"]);
    const ParsedTx tx = ParseTx(tx_type, v["tx_info_json_as_signed_by_sdk"]);

    // Inner hash straight from the recorded preimage.
    std::vector<in::Fp> pre;
    for (auto e : simdjson::dom::array(v["hash_preimage_elements"])) {
      pre.push_back(in::Fp::FromU64(uint64_t(e)));
    }
    CHECK(lt::ToHex(in::Fp5ToBytes(in::HashToQuinticExtension(pre))) ==
          Str(v["inner_hash_fp5_le_hex"]));
    simdjson::dom::element attr_pre;
    if (v["attribute_preimage_elements"].get(attr_pre) == simdjson::SUCCESS) {
      std::vector<in::Fp> apre;
      for (auto e : simdjson::dom::array(attr_pre)) apre.push_back(in::Fp::FromU64(uint64_t(e)));
      CHECK(lt::ToHex(in::Fp5ToBytes(in::HashToQuinticExtension(apre))) ==
            Str(v["attribute_hash_fp5_le_hex"]));
    }

    // Full tx hash via the typed API.
    const auto hash = Dispatch(tx, [&](const auto& t) { return lt::HashTx(t, chain_id); });
    REQUIRE(hash.ok());
    const std::string tx_hash_hex = Str(v["tx_hash_hex"]);
    CHECK(lt::ToHex(*hash) == tx_hash_hex);

    // Recorded signatures (both runs) verify; the tx_info Sig is run A.
    for (const char* run : {"signature_hex_run_A", "signature_hex_run_B_os_random"}) {
      const auto sig = lt::SignatureFromHex(Str(v[run]));
      REQUIRE(sig.ok());
      CHECK(pk.Verify(*hash, *sig).ok());
      CHECK(pk_fast.Verify(*hash, *sig).ok());
    }
    const auto sig_a = lt::SignatureFromHex(Str(v["signature_hex_run_A"])).value();
    const std::string sdk_sig_b64 = Str(v["tx_info_json_as_signed_by_sdk"]["Sig"]);
    CHECK(lt::SignatureToBase64(sig_a) == sdk_sig_b64);
    CHECK(lt::SignatureFromBase64(sdk_sig_b64).value() == sig_a);

    // Our JSON with the SDK's signature is byte-identical to the SDK's tx_info.
    const std::string sdk_json = simdjson::minify(v["tx_info_json_as_signed_by_sdk"]);
    CHECK(Dispatch(tx, [&](const auto& t) { return lt::TxInfoJson(t, sig_a); }) == sdk_json);

    // Our own signature: verifies, same hash, JSON equal except the signature.
    const auto signed_tx = Dispatch(tx, [&](const auto& t) { return lt::SignTx(t, chain_id, sk); });
    REQUIRE(signed_tx.ok());
    CHECK(static_cast<int>(signed_tx->tx_type) == tx_type);
    CHECK(signed_tx->hash_hex == tx_hash_hex);
    CHECK(pk.Verify(signed_tx->hash, signed_tx->signature).ok());
    std::string expected = sdk_json;
    const std::string ours_b64 = lt::SignatureToBase64(signed_tx->signature);
    expected.replace(expected.find(sdk_sig_b64), sdk_sig_b64.size(), ours_b64);
    CHECK(signed_tx->tx_info == expected);
    ++checked;
  }
  REQUIRE(checked == 9);
}

TEST_CASE("KAT: signed_tx_infos.json sample", "[lighter][kat]") {
  simdjson::dom::parser parser;
  simdjson::dom::element doc =
      parser.load(PERPGW_TEST_DATA "/lighter/vectors/signed_tx_infos.json").value();
  const uint32_t chain_id = static_cast<uint32_t>(int64_t(doc["chain_id"]));
  const lt::PublicKey pk = SigningPublicKey();
  int checked = 0;
  for (auto item : simdjson::dom::array(doc["items"])) {
    INFO(Str(item["label"]));
    const ParsedTx tx = ParseTx(int64_t(item["tx_type"]), item["tx_info"]);
    const auto hash = Dispatch(tx, [&](const auto& t) { return lt::HashTx(t, chain_id); });
    REQUIRE(hash.ok());
    CHECK(lt::ToHex(*hash) == Str(item["tx_hash"]));
    const auto sig = lt::SignatureFromBase64(Str(item["tx_info"]["Sig"]));
    REQUIRE(sig.ok());
    CHECK(pk.Verify(*hash, *sig).ok());
    CHECK(Dispatch(tx, [&](const auto& t) { return lt::TxInfoJson(t, *sig); }) ==
          simdjson::minify(item["tx_info"]));
    ++checked;
  }
  REQUIRE(checked == 9);
}

TEST_CASE("KAT: auth token", "[lighter][kat][auth]") {
  const auto& a = Kat()["auth_token"];
  const std::string message = Str(a["message_ascii"]);
  CHECK(lt::AuthMessage(1760003600, 12345, 3) == message);
  const auto hash = lt::HashAuthMessage(message);
  REQUIRE(hash.ok());
  CHECK(lt::ToHex(*hash) == Str(a["message_hash_fp5_le_hex"]));
  // The recorded limbs match our chunking.
  std::vector<uint64_t> limbs;
  for (auto e : simdjson::dom::array(a["message_limbs_u64_le_8byte_zero_padded"])) {
    limbs.push_back(uint64_t(e));
  }
  REQUIRE(limbs.size() == 3);
  std::vector<in::Fp> pre;
  for (uint64_t l : limbs) pre.push_back(in::Fp{l});
  CHECK(lt::ToHex(in::Fp5ToBytes(in::HashToQuinticExtension(pre))) == lt::ToHex(*hash));

  const lt::PublicKey pk = SigningPublicKey();
  for (const char* run : {"token_run_A", "token_run_B_os_random"}) {
    const auto parsed = lt::VerifyAuthToken(Str(a[run]), pk);
    REQUIRE(parsed.ok());
    CHECK(parsed->deadline_unix_s == 1760003600);
    CHECK(parsed->account_index == 12345);
    CHECK(parsed->api_key_index == 3);
  }
  const auto sig = lt::SignatureFromHex(Str(a["signature_hex_run_A"]));
  REQUIRE(sig.ok());
  CHECK(pk.Verify(*hash, *sig).ok());

  const lt::PrivateKey sk = SigningKey();
  const auto token = lt::MakeAuthToken(1760003600, 12345, 3, sk);
  REQUIRE(token.ok());
  CHECK(token->rfind(message + ":", 0) == 0);
  CHECK(token->size() == message.size() + 1 + 160);
  CHECK(lt::VerifyAuthToken(*token, pk).ok());

  // Tampering with the message or signature fails.
  std::string bad = *token;
  bad[0] = '2';
  CHECK_FALSE(lt::VerifyAuthToken(bad, pk).ok());
  bad = *token;
  bad.back() = bad.back() == '0' ? '1' : '0';
  CHECK_FALSE(lt::VerifyAuthToken(bad, pk).ok());
  CHECK_FALSE(lt::ParseAuthToken("1:2:3").ok());
  CHECK_FALSE(lt::ParseAuthToken("a:2:3:" + std::string(160, '0')).ok());
  CHECK_FALSE(lt::ParseAuthToken("1:2:300:" + std::string(160, '0')).ok());
  CHECK_FALSE(lt::ParseAuthToken("1:2:3:" + std::string(158, '0')).ok());
}

TEST_CASE("Bit flips in message, signature or key break verification", "[lighter][verify]") {
  const lt::PrivateKey sk = SigningKey();
  const lt::PublicKey pk = SigningPublicKey();
  lt::CreateOrderTx tx;
  tx.account_index = 12345;
  tx.api_key_index = 3;
  tx.client_order_index = 42;
  tx.base_amount = 1000;
  tx.price = 300000;
  tx.order_expiry = 1762419200000;
  tx.expired_at = 1760000599000;
  tx.nonce = 99;
  const auto signed_tx = lt::SignTx(tx, lt::kMainnetChainId, sk);
  REQUIRE(signed_tx.ok());
  const lt::TxHash hash = signed_tx->hash;
  const lt::Signature sig = signed_tx->signature;
  REQUIRE(pk.Verify(hash, sig).ok());

  const lt::PublicKey pk_fast = pk.WithPrecomputation();
  REQUIRE(pk_fast.Verify(hash, sig).ok());
  // Message bits: every byte, rotating bit position (top limb bits included).
  for (int byte = 0; byte < 40; ++byte) {
    lt::TxHash h = hash;
    h[byte] ^= static_cast<uint8_t>(1u << (byte % 8));
    CHECK_FALSE(pk.Verify(h, sig).ok());
    CHECK_FALSE(pk_fast.Verify(h, sig).ok());
  }
  // Signature bits across s and e.
  for (int byte = 0; byte < 80; ++byte) {
    lt::Signature s = sig;
    s[byte] ^= static_cast<uint8_t>(1u << ((byte * 3) % 8));
    CHECK_FALSE(pk.Verify(hash, s).ok());
    CHECK_FALSE(pk_fast.Verify(hash, s).ok());
  }
  // Public key bits: either the key is rejected or verification fails.
  for (int byte = 0; byte < 40; ++byte) {
    lt::PublicKeyBytes k = pk.bytes();
    k[byte] ^= static_cast<uint8_t>(1u << ((byte * 5) % 8));
    const auto other = lt::PublicKey::FromBytes(k);
    if (other.ok()) CHECK_FALSE(other->Verify(hash, sig).ok());
  }
  // A different key's signature does not verify.
  const auto other_sk = lt::PrivateKey::FromSeedHex(std::string(64, 'a'));
  REQUIRE(other_sk.ok());
  const auto other_sig = other_sk->Sign(hash);
  REQUIRE(other_sig.ok());
  CHECK_FALSE(pk.Verify(hash, *other_sig).ok());
  // Signatures are randomized but both verify.
  const auto sig2 = sk.Sign(hash);
  REQUIRE(sig2.ok());
  CHECK(*sig2 != sig);
  CHECK(pk.Verify(hash, *sig2).ok());
}

TEST_CASE("Deterministic signing core", "[lighter][sign]") {
  const lt::PrivateKey sk = SigningKey();
  const lt::PublicKey pk = SigningPublicKey();
  const lt::TxHash hash =
      lt::TxHashFromHex(
          "01591bff16060d222a092789f16fe031b58811f1b356c341acd47885fa43e391e71401d6bad823c9")
          .value();
  std::array<uint8_t, 40> nonce{};
  nonce[0] = 7;
  const auto s1 = sk.SignWithNonceForTesting(hash, nonce);
  const auto s2 = sk.SignWithNonceForTesting(hash, nonce);
  REQUIRE(s1.ok());
  REQUIRE(s2.ok());
  CHECK(*s1 == *s2);
  CHECK(pk.Verify(hash, *s1).ok());
  std::array<uint8_t, 40> zero{};
  CHECK_FALSE(sk.SignWithNonceForTesting(hash, zero).ok());
}

TEST_CASE("Malformed inputs are rejected", "[lighter][errors]") {
  // Private keys.
  CHECK_FALSE(lt::PrivateKey::FromHex("").ok());
  CHECK_FALSE(lt::PrivateKey::FromHex("0x0102").ok());
  CHECK_FALSE(lt::PrivateKey::FromHex(std::string(79, '1')).ok());
  CHECK_FALSE(lt::PrivateKey::FromHex(std::string(78, '1') + "zz").ok());
  CHECK_FALSE(lt::PrivateKey::FromHex(std::string(80, '0')).ok());  // zero
  const auto n_hex =
      "e1ff8b9496d90fe89ca024d7395c88e83906b8cfe6ffff7f16000000f1ffff7f07000080fdffff7f";
  const auto too_big = lt::PrivateKey::FromHex(n_hex);
  REQUIRE_FALSE(too_big.ok());
  CHECK(std::string(too_big.status().message()).find("range") != std::string::npos);
  CHECK_FALSE(lt::PrivateKey::FromHex(std::string(80, 'f')).ok());
  // Error messages never echo the key.
  const std::string secretish = std::string(78, 'f') + "zz";
  CHECK(std::string(lt::PrivateKey::FromHex(secretish).status().message()).find("ffff") ==
        std::string::npos);
  CHECK_FALSE(lt::PrivateKey::FromSeedHex("abcd").ok());
  CHECK_FALSE(lt::PrivateKey::FromSeedHex(std::string(64, 'g')).ok());

  // Public keys: wrong size, non-canonical limb, neutral, not on curve.
  CHECK_FALSE(lt::PublicKey::FromHex("04").ok());
  CHECK_FALSE(lt::PublicKey::FromHex(std::string(80, '0')).ok());  // neutral
  CHECK_FALSE(
      lt::PublicKey::FromHex(
          "0100000000000000ffffffffffffffff000000000000000000000000000000000000000000000000")
          .ok());  // limb 1 >= p
  {
    // The generator (w = 4) written non-canonically as 4 + p in limb 0.
    std::array<uint8_t, 40> b{};
    const uint64_t v = in::kP + 4;
    for (int j = 0; j < 8; ++j) b[j] = static_cast<uint8_t>(v >> (8 * j));
    const auto pk = lt::PublicKey::FromBytes(b);
    REQUIRE_FALSE(pk.ok());
    CHECK(std::string(pk.status().message()).find("non-canonical") != std::string::npos);
    b.fill(0);
    b[0] = 4;
    CHECK(lt::PublicKey::FromBytes(b).ok());
  }
  int invalid_points = 0;
  for (uint64_t w = 1; w < 64; ++w) {
    std::array<uint8_t, 40> b{};
    b[0] = static_cast<uint8_t>(w);
    const auto pk = lt::PublicKey::FromBytes(b);
    if (!pk.ok()) {
      ++invalid_points;
      CHECK(std::string(pk.status().message()).find("point") != std::string::npos);
    }
  }
  CHECK(invalid_points > 0);  // about half of all w are not encodings

  // Signatures: scalars >= n rejected; message with non-canonical limb rejected.
  const lt::PublicKey pk = SigningPublicKey();
  const lt::TxHash hash = lt::TxHashFromHex(std::string(80, '1')).value();
  lt::Signature sig{};
  auto n_bytes = HexBytes<40>(n_hex);
  std::copy(n_bytes.begin(), n_bytes.end(), sig.begin());
  CHECK(pk.Verify(hash, sig).code() == absl::StatusCode::kInvalidArgument);
  sig.fill(0);
  std::copy(n_bytes.begin(), n_bytes.end(), sig.begin() + 40);
  CHECK(pk.Verify(hash, sig).code() == absl::StatusCode::kInvalidArgument);
  sig.fill(0);
  CHECK(pk.Verify(hash, sig).code() == absl::StatusCode::kUnauthenticated);
  lt::TxHash bad_hash{};
  for (int j = 0; j < 8; ++j) bad_hash[j] = 0xFF;
  CHECK(pk.Verify(bad_hash, sig).code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(SigningKey().Sign(bad_hash).ok());
  CHECK_FALSE(lt::SignatureFromHex("00").ok());
  CHECK_FALSE(lt::SignatureFromBase64("AAAA").ok());
  CHECK_FALSE(lt::SignatureFromBase64(std::string(108, '!')).ok());
}

TEST_CASE("Tx validation", "[lighter][validate]") {
  lt::CreateOrderTx tx;
  tx.account_index = 1;
  tx.api_key_index = 2;
  tx.base_amount = 10;
  tx.price = 100;
  tx.order_expiry = 1762419200000;
  tx.expired_at = 1760000599000;
  REQUIRE(lt::ValidateTx(tx).ok());
  auto bad = tx;
  bad.api_key_index = 255;
  CHECK_FALSE(lt::ValidateTx(bad).ok());
  bad = tx;
  bad.order_expiry = 0;  // GTT needs expiry
  CHECK_FALSE(lt::ValidateTx(bad).ok());
  bad = tx;
  bad.type = lt::OrderType::kMarket;  // market must be IOC
  CHECK_FALSE(lt::ValidateTx(bad).ok());
  bad = tx;
  bad.price = 0;
  CHECK_FALSE(lt::ValidateTx(bad).ok());
  bad = tx;
  bad.nonce = -1;
  CHECK_FALSE(lt::HashTx(bad, lt::kMainnetChainId).ok());
  bad = tx;
  bad.market_index = 300;
  CHECK_FALSE(lt::ValidateTx(bad).ok());
  bad = tx;
  bad.attributes.integrator_taker_fee = 10;  // without integrator index
  CHECK_FALSE(lt::ValidateTx(bad).ok());
  bad.attributes.integrator_account_index = 718718;
  CHECK(lt::ValidateTx(bad).ok());
  bad.attributes.self_trade_behavior = 1;  // not with fees
  CHECK_FALSE(lt::ValidateTx(bad).ok());

  lt::CancelAllOrdersTx ca;
  ca.account_index = 1;
  ca.time_in_force = lt::CancelAllTimeInForce::kScheduled;
  CHECK_FALSE(lt::ValidateTx(ca).ok());  // needs time
  ca.time = 1760003600000;
  CHECK(lt::ValidateTx(ca).ok());
  ca.attributes.cancel_all_market_index = 1;
  CHECK_FALSE(lt::ValidateTx(ca).ok());  // single market cannot be scheduled

  lt::CancelOrderTx c;
  c.account_index = 1;
  c.index = 0;
  CHECK_FALSE(lt::ValidateTx(c).ok());
}

TEST_CASE("Attributes change the hash; nil attributes do not", "[lighter][attributes]") {
  lt::CancelOrderTx c;
  c.account_index = 12345;
  c.api_key_index = 3;
  c.index = 1001;
  c.expired_at = 1760000599000;
  c.nonce = 11;
  const auto base = lt::HashTx(c, lt::kMainnetChainId).value();
  CHECK(lt::ToHex(base) ==
        "b3d8eef8b54b3e239d9437aab086758fd5ac97575100ae899269ac2b45d4faeeefab68f6257d7153");
  auto with_nil = c;
  with_nil.attributes.self_trade_behavior = 0;  // nil value
  CHECK(lt::HashTx(with_nil, lt::kMainnetChainId).value() == base);
  lt::Signature zero{};
  CHECK(lt::TxInfoJson(with_nil, zero).find("\"L2TxAttributes\":{\"6\":0}") != std::string::npos);
  auto skip = c;
  skip.attributes.skip_nonce = 1;
  CHECK(lt::HashTx(skip, lt::kMainnetChainId).value() != base);
  CHECK(lt::HashTx(c, lt::kTestnetChainId).value() != base);
  auto multi = c;
  multi.attributes.integrator_account_index = 718718;
  multi.attributes.integrator_taker_fee = 1000;
  multi.attributes.integrator_maker_fee = 1000;
  CHECK(lt::TxInfoJson(multi, zero)
            .find("\"L2TxAttributes\":{\"1\":718718,\"2\":1000,\"3\":1000}}") != std::string::npos);
}

TEST_CASE("ModifyOrder hash layout and JSON", "[lighter][modify]") {
  lt::ModifyOrderTx m;
  m.account_index = 12345;
  m.api_key_index = 3;
  m.market_index = 0;
  m.index = 1001;
  m.base_amount = 2000;
  m.price = 310000;
  m.trigger_price = 0;
  m.expired_at = 1760000599000;
  m.nonce = 16;
  const auto hash = lt::HashTx(m, lt::kMainnetChainId);
  REQUIRE(hash.ok());
  const std::array<in::Fp, 11> pre = {
      in::Fp{304}, in::Fp{17},   in::Fp{16},   in::Fp{1760000599000}, in::Fp{12345}, in::Fp{3},
      in::Fp{0},   in::Fp{1001}, in::Fp{2000}, in::Fp{310000},        in::Fp{0}};
  CHECK(*hash == in::Fp5ToBytes(in::HashToQuinticExtension(pre)));
  const auto signed_tx = lt::SignTx(m, lt::kMainnetChainId, SigningKey());
  REQUIRE(signed_tx.ok());
  CHECK(SigningPublicKey().Verify(signed_tx->hash, signed_tx->signature).ok());
  const std::string b64 = lt::SignatureToBase64(signed_tx->signature);
  CHECK(signed_tx->tx_info ==
        "{\"AccountIndex\":12345,\"ApiKeyIndex\":3,\"MarketIndex\":0,\"Index\":1001,"
        "\"BaseAmount\":2000,\"Price\":310000,\"TriggerPrice\":0,\"ExpiredAt\":1760000599000,"
        "\"Nonce\":16,\"Sig\":\"" +
            b64 + "\",\"L2TxAttributes\":null}");
  CHECK(static_cast<int>(signed_tx->tx_type) == 17);
}

// Not in the signer vectors: the layout is the official Go signer's L2UpdateLeverageTxInfo
// (chain id, 20, nonce, expired_at, account, api key, market, IMF, margin mode; JSON keys in
// that struct's order). This pins it so a change is deliberate.
TEST_CASE("UpdateLeverage hash layout, JSON and validation", "[lighter][leverage]") {
  lt::UpdateLeverageTx u;
  u.account_index = 12345;
  u.api_key_index = 3;
  u.market_index = 1;
  u.initial_margin_fraction = 500;  // 20x
  u.margin_mode = lt::MarginMode::kCross;
  u.expired_at = 1760000599000;
  u.nonce = 17;
  const auto hash = lt::HashTx(u, lt::kMainnetChainId);
  REQUIRE(hash.ok());
  const std::array<in::Fp, 9> pre = {in::Fp{304},   in::Fp{20}, in::Fp{17},
                                     in::Fp{1760000599000}, in::Fp{12345}, in::Fp{3},
                                     in::Fp{1},     in::Fp{500}, in::Fp{0}};
  CHECK(*hash == in::Fp5ToBytes(in::HashToQuinticExtension(pre)));
  u.margin_mode = lt::MarginMode::kIsolated;
  CHECK(*lt::HashTx(u, lt::kMainnetChainId) != *hash);
  u.margin_mode = lt::MarginMode::kCross;
  const auto signed_tx = lt::SignTx(u, lt::kMainnetChainId, SigningKey());
  REQUIRE(signed_tx.ok());
  CHECK(SigningPublicKey().Verify(signed_tx->hash, signed_tx->signature).ok());
  CHECK(static_cast<int>(signed_tx->tx_type) == 20);
  const std::string b64 = lt::SignatureToBase64(signed_tx->signature);
  CHECK(signed_tx->tx_info ==
        "{\"AccountIndex\":12345,\"ApiKeyIndex\":3,\"MarketIndex\":1,"
        "\"InitialMarginFraction\":500,\"MarginMode\":0,\"ExpiredAt\":1760000599000,"
        "\"Nonce\":17,\"Sig\":\"" +
            b64 + "\",\"L2TxAttributes\":null}");
  // Out of range: IMF 0 or above 10 000, a margin mode other than 0/1, a spot market.
  lt::UpdateLeverageTx bad = u;
  bad.initial_margin_fraction = 0;
  CHECK(!lt::ValidateTx(bad).ok());
  bad.initial_margin_fraction = 10001;
  CHECK(!lt::ValidateTx(bad).ok());
  bad = u;
  bad.margin_mode = static_cast<lt::MarginMode>(2);
  CHECK(!lt::ValidateTx(bad).ok());
  bad = u;
  bad.market_index = 2048;  // spot
  CHECK(!lt::ValidateTx(bad).ok());
}

TEST_CASE("Integer scaling of prices and sizes", "[lighter][scaling]") {
  CHECK(lt::ScalePrice("3000.00", 2).value() == 300000);
  CHECK(lt::ScalePrice("3000", 2).value() == 300000);
  CHECK(lt::ScalePrice("0.17", 5).value() == 17000);
  CHECK(lt::ScalePrice("1.500", 2).value() == 150);  // trailing zeros are fine
  CHECK_FALSE(lt::ScalePrice("1.505", 2).ok());      // excess precision
  CHECK_FALSE(lt::ScalePrice("0", 2).ok());
  CHECK_FALSE(lt::ScalePrice("42949672.96", 2).ok());  // > 2^32 - 1
  CHECK(lt::ScalePrice("42949672.95", 2).value() == 4294967295u);
  CHECK(lt::ScaleBaseAmount("0.0001", 4).value() == 1);
  CHECK(lt::ScaleBaseAmount(".5", 1).value() == 5);
  CHECK(lt::ScaleBaseAmount("10", 0).value() == 10);
  CHECK_FALSE(lt::ScaleBaseAmount("-1", 2).ok());
  CHECK_FALSE(lt::ScaleBaseAmount("1e3", 2).ok());
  CHECK_FALSE(lt::ScaleBaseAmount("", 2).ok());
  CHECK_FALSE(lt::ScaleBaseAmount(".", 2).ok());
  CHECK_FALSE(lt::ScaleBaseAmount("281474976710656", 0).ok());  // 2^48
  CHECK_FALSE(lt::ScaleBaseAmount("99999999999999999999", 0).ok());
}
