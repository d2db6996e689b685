// Paradex signing stack: known-answer vectors (paradex_vectors.json) and API edge cases.
#include "adapters/paradex/signing.h"

#include <simdjson.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace px = perpgw::adapters::paradex;
using px::Felt;

namespace {

const char* kVectorPath = PERPGW_TEST_DATA "/paradex/vectors/paradex_vectors.json";

simdjson::dom::element Sections() {
  static simdjson::dom::parser parser;
  static simdjson::dom::element doc = parser.load(kVectorPath);
  return doc["sections"];
}

Felt F(std::string_view s) {
  auto f = px::ParseFelt(s);
  INFO("felt literal " << s << ": " << f.status().ToString());
  REQUIRE(f.ok());
  return *f;
}

std::string Str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

// Value of a typed-data field: JSON string or number.
std::string FieldText(simdjson::dom::element e) {
  if (e.is_string()) return Str(e);
  return std::to_string(uint64_t(e));
}

Felt FlipBit(const Felt& f, int bit, bool* ok) {
  auto limbs = f.limbs();
  limbs[bit / 64] ^= uint64_t(1) << (bit % 64);
  auto r = Felt::FromLimbs(limbs);
  *ok = r.ok();
  return r.ok() ? *r : Felt();
}

const std::vector<int> kBitSample = {0,   1,   2,   7,   8,   31,  32,  63,  64,
                                     65,  100, 127, 128, 129, 150, 191, 192, 193,
                                     200, 230, 247, 248, 249, 250, 251};

px::StarkKey VectorKey() {
  auto key = px::StarkKey::FromPrivateHex(Str(Sections()["keys"]["private_key"]));
  REQUIRE(key.ok());
  return *key;
}

}  // namespace

TEST_CASE("pedersen known answers", "[paradex][pedersen]") {
  int n = 0;
  for (auto v : Sections()["pedersen"].get_array()) {
    CHECK(px::PedersenHash(F(Str(v["a"])), F(Str(v["b"]))) == F(Str(v["hash"])));
    ++n;
  }
  CHECK(n == 4);
}

TEST_CASE("hash on elements known answers", "[paradex][pedersen]") {
  int n = 0;
  for (auto v : Sections()["compute_hash_on_elements"].get_array()) {
    std::vector<Felt> elems;
    for (auto e : v["elements"].get_array()) elems.push_back(F(Str(e)));
    CHECK(px::HashOnElements(elems) == F(Str(v["hash"])));
    ++n;
  }
  CHECK(n == 2);
}

TEST_CASE("short strings", "[paradex][felt]") {
  int n = 0;
  for (auto [key, value] : Sections()["short_strings"].get_object()) {
    auto f = px::ShortString(key);
    REQUIRE(f.ok());
    CHECK(f->ToHex() == Str(value));
    ++n;
  }
  CHECK(n == 13);
  CHECK_FALSE(px::ShortString(std::string(32, 'a')).ok());
  CHECK(px::ShortString(std::string(31, 'a')).ok());
  CHECK_FALSE(px::ShortString("caf\xc3\xa9").ok());
}

TEST_CASE("type hashes are the hard-coded constants", "[paradex][typed]") {
  auto th = Sections()["type_hashes"];
  CHECK(px::TypeHashStarkNetDomain() ==
        F(Str(th["StarkNetDomain(name:felt,chainId:felt,version:felt)"])));
  CHECK(
      px::TypeHashOrder() ==
      F(Str(
          th["Order(timestamp:felt,market:felt,side:felt,orderType:felt,size:felt,price:felt)"])));
  CHECK(px::TypeHashModifyOrder() ==
        F(Str(th["ModifyOrder(timestamp:felt,market:felt,side:felt,orderType:felt,size:felt,"
                 "price:felt,id:felt)"])));
  CHECK(px::TypeHashRequest() ==
        F(Str(th["Request(method:felt,path:felt,body:felt,timestamp:felt,expiration:felt)"])));
  CHECK(px::TypeHashConstant() == F(Str(th["Constant(action:felt)"])));
}

TEST_CASE("cross-check with starknet-signing-cpp expected values", "[paradex][typed]") {
  auto cc = Sections()["cross_check_starknet_signing_cpp"];
  const std::string chain = "PRIVATE_SN_POTC_GOERLI";
  auto domain = px::DomainHash(chain);
  REQUIRE(domain.ok());
  CHECK(*domain == F(Str(cc["domain_struct_hash"]["expected"])));

  px::OrderFields o{1690186431033, "ETH-USD-PERP", px::OrderSide::kBuy, "MARKET", "0.1", ""};
  auto osh = px::OrderStructHash(o);
  REQUIRE(osh.ok());
  CHECK(*osh == F(Str(cc["order_struct_hash_MARKET_BUY_0p1_ts1690186431033"]["expected"])));

  auto ash = px::AuthRequestStructHash("POST", "/v1/auth", "", 1690186758, 1690273158);
  REQUIRE(ash.ok());
  CHECK(*ash == F(Str(cc["auth_struct_hash_ts1690186758_exp1690273158"]["expected"])));

  o.timestamp_ms = 1690187319619;
  auto omh = px::OrderMessageHash(
      chain, F("0x1F06D2232E3EB0D8BD4B9294A930D553F610A0D7B24BC52D9472C7BDA478927"), o);
  REQUIRE(omh.ok());
  CHECK(*omh == F(Str(cc["order_message_hash_ts1690187319619"]["expected"])));
  CHECK(px::TypeHashStarkNetDomain() == F(Str(cc["type_hash_StarkNetDomain"]["expected"])));
}

TEST_CASE("public key from private key", "[paradex][ecdsa]") {
  auto keys = Sections()["keys"];
  CHECK(VectorKey().public_key() == F(Str(keys["public_key_x"])));
  CHECK(VectorKey().public_key() == F(Str(keys["cpp_test_expected_public_x"])));
}

TEST_CASE("paradex messages: hashes, signatures, verification", "[paradex][vectors]") {
  const px::StarkKey key = VectorKey();
  auto pub = px::StarkPublicKey::FromX(key.public_key());
  REQUIRE(pub.ok());
  int messages = 0, signatures = 0;
  for (auto m : Sections()["paradex_messages"].get_array()) {
    const std::string kind = Str(m["kind"]);
    const std::string chain = Str(m["chain"]);
    const Felt account = F(Str(m["account"]));
    auto td = m["typed_data"];
    auto msg = td["message"];
    INFO(kind << " on " << chain);
    // The vector domain carries the chain id as its 0x felt; both forms must hash the same.
    CHECK(*px::DomainHash(chain) == *px::DomainHash(Str(td["domain"]["chainId"])));

    auto hasher = px::MessageHasher::Create(chain, account);
    REQUIRE(hasher.ok());
    absl::StatusOr<Felt> hash = absl::UnknownError("unset");
    absl::StatusOr<Felt> cached = absl::UnknownError("unset");
    if (kind == "auth") {
      uint64_t ts = uint64_t(msg["timestamp"]), exp = uint64_t(msg["expiration"]);
      hash = px::AuthMessageHash(chain, account, Str(msg["method"]), Str(msg["path"]),
                                 Str(msg["body"]), ts, exp);
      cached = hasher->Auth(ts, exp);
    } else if (kind == "onboarding") {
      hash = px::OnboardingMessageHash(chain, account);
      cached = hasher->Onboarding();
    } else {
      auto api = m["api_fields"];
      px::OrderFields o;
      o.timestamp_ms = uint64_t(api["signature_timestamp"]);
      o.market = Str(api["market"]);
      o.side = Str(api["side"]) == "BUY" ? px::OrderSide::kBuy : px::OrderSide::kSell;
      o.order_type = Str(api["type"]);
      o.size = Str(api["size"]);
      std::string_view price;
      if (api["price"].get(price) == simdjson::SUCCESS) o.price = std::string(price);
      // Exact scaling reproduces the integers inside the signed message.
      CHECK(px::ScaleDecimal8(o.size)->ToDec() == FieldText(msg["size"]));
      CHECK(std::to_string(o.timestamp_ms) == FieldText(msg["timestamp"]));
      if (kind == "modify_order") {
        px::ModifyOrderFields mo{o, Str(api["id"])};
        hash = px::ModifyOrderMessageHash(chain, account, mo);
        cached = hasher->ModifyOrder(mo);
      } else {
        hash = px::OrderMessageHash(chain, account, o);
        cached = hasher->Order(o);
      }
    }
    REQUIRE(hash.ok());
    REQUIRE(cached.ok());
    const Felt expected_hash = F(Str(m["message_hash"]));
    CHECK(*hash == expected_hash);
    CHECK(*cached == expected_hash);
    ++messages;

    auto sigs = m["signatures"];
    // RFC 6979, no extra entropy: byte-for-byte, repeatable, header format.
    auto det = sigs["rfc6979_no_extra_entropy"];
    auto sig = key.Sign(expected_hash);
    REQUIRE(sig.ok());
    CHECK(sig->r.ToDec() == Str(det["r"]));
    CHECK(sig->s.ToDec() == Str(det["s"]));
    CHECK(px::SignatureJson(*sig) == Str(det["header_value"]));
    CHECK(*key.Sign(expected_hash) == *sig);
    CHECK(pub->Verify(expected_hash, *sig));
    CHECK(px::Verify(key.public_key(), expected_hash, *sig));
    auto parsed = px::ParseSignatureJson(Str(det["header_value"]));
    REQUIRE(parsed.ok());
    CHECK(*parsed == *sig);
    ++signatures;

    // RFC 6979 with extra data 0x20.
    auto ent = sigs["rfc6979_extra_entropy_0x20"];
    const uint8_t extra[1] = {0x20};
    auto esig = key.SignWithExtraEntropy(expected_hash, extra);
    REQUIRE(esig.ok());
    CHECK(esig->r.ToDec() == Str(ent["r"]));
    CHECK(esig->s.ToDec() == Str(ent["s"]));
    CHECK(pub->Verify(expected_hash, *esig));
    ++signatures;

    // Explicit k (starknet-signing-cpp tests), including w = s^-1.
    auto ek = sigs["explicit_k"];
    auto ksig = key.SignWithK(expected_hash, F(Str(ek["k"])));
    REQUIRE(ksig.ok());
    CHECK(ksig->r.ToDec() == Str(ek["r"]));
    CHECK(ksig->s.ToDec() == Str(ek["s"]));
    CHECK(*px::InverseModOrder(ksig->s) == F(Str(ek["w_inverse_s"])));
    CHECK(pub->Verify(expected_hash, *ksig));
    ++signatures;

    // Any single-bit change of hash, r, s or public key breaks verification.
    for (int bit : kBitSample) {
      INFO("bit " << bit);
      bool ok = false;
      Felt h2 = FlipBit(expected_hash, bit, &ok);
      if (ok) CHECK_FALSE(pub->Verify(h2, *sig));
      Felt r2 = FlipBit(sig->r, bit, &ok);
      if (ok) CHECK_FALSE(pub->Verify(expected_hash, px::Signature{r2, sig->s}));
      Felt s2 = FlipBit(sig->s, bit, &ok);
      if (ok) CHECK_FALSE(pub->Verify(expected_hash, px::Signature{sig->r, s2}));
      Felt k2 = FlipBit(key.public_key(), bit, &ok);
      if (ok) CHECK_FALSE(px::Verify(k2, expected_hash, *sig));
    }
  }
  CHECK(messages == 10);
  CHECK(signatures == 30);
}

TEST_CASE("generic StarkWare RFC 6979 vector", "[paradex][ecdsa]") {
  auto v = Sections()["generic_rfc6979_vector"];
  auto key = px::StarkKey::FromPrivateHex(Str(v["private_key"]));
  REQUIRE(key.ok());
  CHECK(key->public_key() == F(Str(v["public_key_x"])));
  const Felt hash = F(Str(v["msg_hash"]));
  auto sig = key->Sign(hash);
  REQUIRE(sig.ok());
  CHECK(sig->r == F(Str(v["recalled_expected_r"])));
  CHECK(sig->s == F(Str(v["recalled_expected_s"])));
  CHECK(px::Verify(key->public_key(), hash, *sig));
  CHECK_FALSE(px::Verify(key->public_key(), F("0x1234"), *sig));
}

TEST_CASE("signatures over many hashes verify; wrong key does not", "[paradex][ecdsa]") {
  const px::StarkKey key = VectorKey();
  auto other = px::StarkKey::FromPrivateHex("0x1");
  REQUIRE(other.ok());
  auto pub = px::StarkPublicKey::FromX(key.public_key());
  auto other_pub = px::StarkPublicKey::FromX(other->public_key());
  REQUIRE(pub.ok());
  REQUIRE(other_pub.ok());
  Felt h = Felt::FromU64(7);
  for (int i = 0; i < 40; ++i) {
    h = px::PedersenHash(h, Felt::FromU64(i));
    if ((h.limbs()[3] >> 59) != 0) continue;  // >= 2^251: not signable
    auto sig = key.Sign(h);
    REQUIRE(sig.ok());
    CHECK(pub->Verify(h, *sig));
    CHECK_FALSE(other_pub->Verify(h, *sig));
  }
  // Short hashes (fewer than 63 hex digits) take the other bits2int branch.
  for (uint64_t small : {uint64_t(0), uint64_t(1), uint64_t(0xdeadbeef)}) {
    auto sig = key.Sign(Felt::FromU64(small));
    REQUIRE(sig.ok());
    CHECK(pub->Verify(Felt::FromU64(small), *sig));
  }
}

TEST_CASE("sign and verify reject out-of-range inputs", "[paradex][ecdsa]") {
  const px::StarkKey key = VectorKey();
  const Felt big = F("0x800000000000000000000000000000000000000000000000000000000000000");  // 2^251
  CHECK_FALSE(key.Sign(big).ok());
  CHECK_FALSE(key.SignWithK(Felt::FromU64(1), Felt()).ok());
  auto sig = key.Sign(Felt::FromU64(42));
  REQUIRE(sig.ok());
  auto pub = px::StarkPublicKey::FromX(key.public_key());
  REQUIRE(pub.ok());
  CHECK_FALSE(pub->Verify(big, *sig));
  CHECK_FALSE(pub->Verify(Felt::FromU64(42), px::Signature{Felt(), sig->s}));
  CHECK_FALSE(pub->Verify(Felt::FromU64(42), px::Signature{sig->r, Felt()}));
  CHECK_FALSE(pub->Verify(Felt::FromU64(42), px::Signature{big, sig->s}));
  // s >= n
  CHECK_FALSE(pub->Verify(
      Felt::FromU64(42),
      px::Signature{sig->r,
                    F("0x800000000000010ffffffffffffffffb781126dcae7b2321e66a241adc64d2f")}));

  // Private key parsing: range and format, and the key never leaks into the message.
  for (const char* bad :
       {"", "0x", "0x0", "zz", "0x800000000000010ffffffffffffffffb781126dcae7b2321e66a241adc64d2f",
        "0x1234567890123456789012345678901234567890123456789012345678901234567"}) {
    auto k = px::StarkKey::FromPrivateHex(bad);
    CHECK_FALSE(k.ok());
    if (std::string_view(bad).size() > 3) {
      CHECK(std::string(k.status().message()).find(std::string(bad).substr(2)) ==
            std::string::npos);
    }
  }
  // Public key x that is not on the curve.
  int off_curve = 0;
  for (uint64_t x = 1; x < 20; ++x)
    off_curve += px::StarkPublicKey::FromX(Felt::FromU64(x)).ok() ? 0 : 1;
  CHECK(off_curve > 0);
}

TEST_CASE("ScaleDecimal8 is exact and strict", "[paradex][decimal]") {
  const std::vector<std::pair<std::string, std::string>> good = {
      {"0", "0"},
      {"0.1", "10000000"},
      {"1500", "150000000000"},
      {"1.234", "123400000"},
      {"0.00000001", "1"},
      {"12345678.12345678", "1234567812345678"},
      {"007.50", "750000000"},
  };
  for (const auto& [in, out] : good) {
    auto v = px::ScaleDecimal8(in);
    INFO(in);
    REQUIRE(v.ok());
    CHECK(v->ToDec() == out);
  }
  // Largest accepted value: 2^128 - 1 units.
  auto max = px::ScaleDecimal8("3402823669209384634633746074317.68211455");
  REQUIRE(max.ok());
  CHECK(max->ToDec() == "340282366920938463463374607431768211455");
  auto over = px::ScaleDecimal8("3402823669209384634633746074317.68211456");
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == absl::StatusCode::kOutOfRange);
  CHECK_FALSE(px::ScaleDecimal8("99999999999999999999999999999999999999999").ok());

  auto nine = px::ScaleDecimal8("0.123456789");
  REQUIRE_FALSE(nine.ok());
  CHECK(std::string(nine.status().message()).find("more than 8 decimal") != std::string::npos);
  CHECK_FALSE(px::ScaleDecimal8("1.000000000").ok());
  for (const char* bad : {"", "-1", "-0.1", "+1", "1e5", " 1", "1 ", "1.", ".5", "1,5", "0x10",
                          "1.2.3", "abc", "NaN", "inf"}) {
    INFO("input '" << bad << "'");
    CHECK_FALSE(px::ScaleDecimal8(bad).ok());
  }
}

TEST_CASE("felt parsing and formatting", "[paradex][felt]") {
  CHECK(F("0x0").ToHex() == "0x0");
  CHECK(F("0").ToDec() == "0");
  CHECK(F("0xABCdef").ToHex() == "0xabcdef");
  CHECK(F("12345678901234567890123456789").ToDec() == "12345678901234567890123456789");
  CHECK(F("0x000000000000000000000000000000000000000000000000000000000000000000001") ==
        Felt::FromU64(1));
  const std::string p_minus_1 =
      "3618502788666131213697322783095070105623107215331596699973092056135872020480";
  CHECK(F(p_minus_1).ToDec() == p_minus_1);
  CHECK(F(p_minus_1).ToHex() ==
        "0x800000000000011000000000000000000000000000000000000000000000000");
  CHECK_FALSE(
      px::ParseFelt("3618502788666131213697322783095070105623107215331596699973092056135872020481")
          .ok());
  CHECK_FALSE(
      px::ParseFelt("0x800000000000011000000000000000000000000000000000000000000000001").ok());
  for (const char* bad : {"", "0x", "0xg1", "12a", "-1", " 1", "1.0"}) {
    INFO(bad);
    CHECK_FALSE(px::ParseFelt(bad).ok());
  }
  auto bytes = F("0x0102").ToBytesBE();
  CHECK(bytes[30] == 1);
  CHECK(bytes[31] == 2);
  CHECK(*Felt::FromBytesBE(bytes) == F("0x0102"));
  // Typed-data value rules (starknet.js): hex and digits are numbers, the rest short strings.
  CHECK(*px::EncodeTypedValue("1634736000000") == F("1634736000000"));
  CHECK(*px::EncodeTypedValue("0x10") == Felt::FromU64(16));
  CHECK(*px::EncodeTypedValue("") == Felt());
  CHECK(*px::EncodeTypedValue("LIMIT") == *px::ShortString("LIMIT"));
}

TEST_CASE("order encoding rules", "[paradex][typed]") {
  const Felt account = F("0x129f3dc1b8962d8a87abc692424c78fda963ade0e1cd17bf3d1c26f8d41ee7a");
  px::OrderFields limit{1634736000000, "ETH-USD-PERP", px::OrderSide::kBuy, "LIMIT", "0.1", "1500"};
  // Equivalent decimal spellings give the same hash; precision beyond 1e-8 is rejected.
  px::OrderFields same = limit;
  same.size = "0.10000000";
  same.price = "1500.0";
  CHECK(*px::OrderStructHash(limit) == *px::OrderStructHash(same));
  same.price = "1500.000000001";
  CHECK_FALSE(px::OrderStructHash(same).ok());
  px::OrderFields no_price = limit;
  no_price.price = "";
  CHECK_FALSE(px::OrderStructHash(no_price).ok());
  // Market-type orders sign price 0 whatever was passed.
  px::OrderFields mkt{1700000000123, "BTC-USD-PERP", px::OrderSide::kSell, "MARKET", "1.234", ""};
  px::OrderFields mkt_with_price = mkt;
  mkt_with_price.price = "65000";
  CHECK(*px::OrderStructHash(mkt) == *px::OrderStructHash(mkt_with_price));
  CHECK(px::IsMarketOrderType("STOP_MARKET"));
  CHECK(px::IsMarketOrderType("TAKE_PROFIT_MARKET"));
  CHECK_FALSE(px::IsMarketOrderType("STOP_LIMIT"));
  // The account is part of the message hash.
  CHECK(*px::OrderMessageHash("PRIVATE_SN_PARACLEAR_MAINNET", account, limit) !=
        *px::OrderMessageHash("PRIVATE_SN_PARACLEAR_MAINNET", Felt::FromU64(1), limit));
  px::OrderFields bad_side = limit;
  bad_side.side = static_cast<px::OrderSide>(3);
  CHECK_FALSE(px::OrderStructHash(bad_side).ok());
  px::OrderFields long_market = limit;
  long_market.market = std::string(40, 'X');
  CHECK_FALSE(px::OrderStructHash(long_market).ok());
  CHECK_FALSE(px::ModifyOrderStructHash(px::ModifyOrderFields{limit, "not-a-number"}).ok());
  CHECK_FALSE(px::DomainHash("").ok());
}

TEST_CASE("auth headers and signature json", "[paradex][builders]") {
  const px::StarkKey key = VectorKey();
  const std::string account = "0x129f3dc1b8962d8a87abc692424c78fda963ade0e1cd17bf3d1c26f8d41ee7a";
  auto headers =
      px::AuthHeaders(key, "PRIVATE_SN_PARACLEAR_MAINNET", account, 1700000000, 1700086400);
  REQUIRE(headers.ok());
  REQUIRE(headers->size() == 4);
  CHECK((*headers)[0] == std::pair<std::string, std::string>{"PARADEX-STARKNET-ACCOUNT", account});
  // Same signature as the auth vector (prod chain).
  std::string expected_sig;
  for (auto m : Sections()["paradex_messages"].get_array()) {
    if (Str(m["kind"]) == "auth" && Str(m["chain"]) == "PRIVATE_SN_PARACLEAR_MAINNET") {
      expected_sig = Str(m["signatures"]["rfc6979_no_extra_entropy"]["header_value"]);
    }
  }
  CHECK((*headers)[1] ==
        std::pair<std::string, std::string>{"PARADEX-STARKNET-SIGNATURE", expected_sig});
  CHECK((*headers)[2] == std::pair<std::string, std::string>{"PARADEX-TIMESTAMP", "1700000000"});
  CHECK((*headers)[3] ==
        std::pair<std::string, std::string>{"PARADEX-SIGNATURE-EXPIRATION", "1700086400"});
  CHECK_FALSE(px::AuthHeaders(key, "PRIVATE_SN_PARACLEAR_MAINNET", account, 10, 10).ok());
  CHECK_FALSE(px::AuthHeaders(key, "PRIVATE_SN_PARACLEAR_MAINNET", "nope", 10, 20).ok());

  px::Signature sig{Felt::FromU64(12), Felt::FromU64(34)};
  CHECK(px::SignatureJson(sig) == "[\"12\",\"34\"]");
  CHECK(*px::ParseSignatureJson(" [ \"12\" , \"0x22\" ] ") == sig);
  for (const char* bad : {"", "[]", "[\"1\"]", "[\"1\",\"2\",\"3\"]", "[1,2]", "[\"1\",\"2\"]x",
                          "[\"a\",\"2\"]", "[\"1\",\"2\""}) {
    INFO(bad);
    CHECK_FALSE(px::ParseSignatureJson(bad).ok());
  }
}
