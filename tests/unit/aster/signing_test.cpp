// Known-answer tests: Keccak-256, V1 HMAC, V3 EIP-712 (docs/ethers and ccxt vectors), legacy ABI.
#include <catch2/catch.hpp>
#include <simdjson.h>

#include "adapters/aster/codec.h"
#include "adapters/aster/signing.h"
#include "adapters/common/crypto.h"
#include "adapters/common/keccak.h"
#include "test_util.h"

namespace perpgw::adapters::aster {
namespace {

using testing::ReadData;

std::string Hex(const Hash32& h) { return crypto::HexEncode(h.data(), h.size()); }

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  REQUIRE(e[key].get_string().get(v) == simdjson::SUCCESS);
  return std::string(v);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST_CASE("Keccak-256 standard digests", "[aster][keccak]") {
  CHECK(Hex(crypto::Keccak256("")) ==
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  CHECK(Hex(crypto::Keccak256("abc")) ==
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  // Multi-block input and incremental updates agree with one-shot hashing.
  std::string long_input(1000, 'x');
  crypto::Keccak256Hasher h;
  for (size_t i = 0; i < long_input.size(); i += 7) {
    h.Update(std::string_view(long_input).substr(i, 7));
  }
  CHECK(Hex(h.Finish()) == Hex(crypto::Keccak256(long_input)));
  // Exactly one rate-sized block (136 bytes) exercises the padding-only final block.
  std::string block(136, 'a');
  CHECK(Hex(crypto::Keccak256(block)).size() == 64);
  CHECK(Hex(crypto::Keccak256(block)) != Hex(crypto::Keccak256(std::string(135, 'a'))));
}

TEST_CASE("V1 HMAC-SHA256 vectors", "[aster][signing]") {
  std::string json = ReadData("vectors/hmac_sha256_v1.json");
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(json);
  simdjson::dom::array vectors = root["vectors"].get_array();
  int n = 0;
  for (simdjson::dom::element v : vectors) {
    std::string name = Str(v, "name");
    INFO(name);
    std::string secret = Str(v, "secretKey"), query = Str(v, "queryString"),
                body = Str(v, "requestBody"), sig = Str(v, "signature");
    CHECK(HmacSignatureV1(secret, query, body) == sig);
    CHECK(HmacSignatureV1(secret, Str(v, "totalParams")) == sig);
    ++n;
  }
  CHECK(n == 6);
}

TEST_CASE("V1 SignV1Params appends recvWindow, timestamp and signature last", "[aster][signing]") {
  const std::string secret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
  auto s = SignV1Params(secret, "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC",
                        1591702613943, 5000);
  REQUIRE(s.ok());
  CHECK(*s ==
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000"
        "&timestamp=1591702613943&signature="
        "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9");
  auto only_ts = SignV1Params("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j", "",
                              1700000000000);
  REQUIRE(only_ts.ok());
  CHECK(*only_ts == "timestamp=1700000000000&signature="
                    "11ce6b18ed8a095f39e30a856dfee442c52b2a29d2b28dd45ef0efd52e7b383a");
  CHECK(!SignV1Params("", "a=1", 1).ok());
  CHECK(!SignV1Params("k", "a=1", 1, 60001).ok());
  CHECK(!SignV1Params("k", "a=1", 0).ok());
}

TEST_CASE("V1 batch order body matches the vector byte for byte", "[aster][signing]") {
  Instrument btc;
  btc.venue_symbol = "BTCUSDT";
  btc.tick_size = Decimal::FromUnits(1, 1);
  btc.step_size = Decimal::FromUnits(1, 3);
  OrderRequest r;
  r.side = Side::kBuy;
  r.type = OrderType::kLimit;
  r.tif = TimeInForce::kGtc;
  r.size = Decimal::FromUnits(1, 3);
  r.price = Decimal::FromInt(60000);
  auto body = EncodeBatchOrders({r}, {&btc});
  REQUIRE(body.ok());
  auto signed_body = SignV1Params("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
                                  *body, 1700000000000);
  REQUIRE(signed_body.ok());
  CHECK(*signed_body ==
        "batchOrders=%5B%7B%22symbol%22%3A%22BTCUSDT%22%2C%22side%22%3A%22BUY%22%2C%22type%22%3A%22"
        "LIMIT%22%2C%22quantity%22%3A%220.001%22%2C%22price%22%3A%2260000%22%2C%22timeInForce%22%3A"
        "%22GTC%22%7D%5D&timestamp=1700000000000&signature="
        "9e566c8c8efa752dfba1fd548e198146111edc966ba075e946ddc61d05d83d15");
  // The gateway's batches ask for the full order back, per entry, after the entry's fields.
  NewOrderOptions full;
  full.result_response = true;
  auto with_result = EncodeBatchOrders({r}, {&btc}, full);
  REQUIRE(with_result.ok());
  CHECK(with_result->find("%22timeInForce%22%3A%22GTC%22%2C%22newOrderRespType%22%3A%22RESULT%22"
                          "%7D%5D") != std::string::npos);
}

TEST_CASE("EIP-712 V3 vectors: every intermediate and the signature", "[aster][signing]") {
  std::string json = ReadData("vectors/eip712_v3.json");
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(json);
  auto key = EvmSigner::FromPrivateKeyHex(Str(root, "privateKey"));
  REQUIRE(key.ok());
  CHECK(key->address() == Str(root, "signerAddress"));
  CHECK(Hex(crypto::Keccak256("EIP712Domain(string name,string version,uint256 chainId,address "
                              "verifyingContract)")) == Str(root, "typehashEIP712Domain"));
  CHECK(Hex(crypto::Keccak256("Message(string msg)")) == Str(root, "typehashMessage"));
  int n = 0;
  for (simdjson::dom::element v : root["vectors"].get_array()) {
    std::string name = Str(v, "name");
    INFO(name);
    uint64_t chain = 0;
    REQUIRE(v["chainId"].get_uint64().get(chain) == simdjson::SUCCESS);
    std::string msg = Str(v, "msg");
    CHECK(Hex(crypto::Keccak256(msg)) == Str(v, "msgKeccak"));
    CHECK(Hex(Eip712DomainSeparator(chain)) == Str(v, "domainSeparator"));
    CHECK(Hex(Eip712MessageStructHash(msg)) == Str(v, "structHash"));
    Hash32 digest = Eip712MessageDigest(msg, chain);
    CHECK(Hex(digest) == Str(v, "digest"));
    auto sig = key->SignDigestHex(digest);
    REQUIRE(sig.ok());
    CHECK(*sig == Str(v, "signature"));
    auto rec = RecoverAddress(digest, Str(v, "signature"));
    REQUIRE(rec.ok());
    CHECK(*rec == Str(v, "recovered"));
    // Without the 0x prefix, and with v as 0/1, recovery still works.
    std::string bare = Str(v, "signature").substr(2);
    CHECK(RecoverAddress(digest, bare).value() == Str(v, "recovered"));
    ++n;
  }
  CHECK(n == 7);
}

TEST_CASE("EIP-712 V3: SignV3Params builds the vectors' strings", "[aster][signing]") {
  std::string json = ReadData("vectors/eip712_v3.json");
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(json);
  auto key = EvmSigner::FromPrivateKeyHex(Str(root, "privateKey"));
  REQUIRE(key.ok());
  V3Auth auth;
  auth.user = Str(root, "userAddress");
  auth.signer = Str(root, "signerAddress");
  const uint64_t nonce = 1748310859508867ULL;
  std::map<std::string, std::string> expected;
  for (simdjson::dom::element v : root["vectors"].get_array()) {
    expected[Str(v, "name")] = Str(v, "msg") + "&signature=" + Str(v, "signature");
  }

  SECTION("docs order, mainnet and testnet") {
    std::string params = "symbol=ASTERUSDT&type=LIMIT&side=BUY&timeInForce=GTC&quantity=20&price=0.5";
    CHECK(SignV3Params(*key, auth, params, nonce).value() ==
          expected["order_post_with_user_mainnet"]);
    V3Auth testnet = auth;
    testnet.chain_id = kTestnetChainId;
    CHECK(SignV3Params(*key, testnet, params, nonce).value() ==
          expected["order_post_with_user_testnet"]);
    V3Auth no_user = auth;
    no_user.include_user = false;
    CHECK(SignV3Params(*key, no_user, params, nonce).value() ==
          expected["order_post_docpython_no_user_mainnet"]);
  }
  SECTION("gateway order encoder + auth first (ccxt order)") {
    Instrument btc;
    btc.venue_symbol = "BTCUSDT";
    btc.tick_size = Decimal::FromUnits(1, 1);
    btc.step_size = Decimal::FromUnits(1, 3);
    OrderRequest r;
    r.client_order_id = "gw-0001";
    r.side = Side::kBuy;
    r.type = OrderType::kLimit;
    r.tif = TimeInForce::kGtc;
    r.size = Decimal::FromUnits(1, 3);
    r.price = Decimal::FromInt(60000);
    auto params = EncodeNewOrder(r, btc);
    REQUIRE(params.ok());
    V3Auth first = auth;
    first.placement = AuthPlacement::kFirst;
    CHECK(SignV3Params(*key, first, *params, nonce).value() ==
          expected["order_post_ccxt_order_mainnet"]);
  }
  SECTION("query, listenKey, batch") {
    CHECK(SignV3Params(*key, auth, EncodeOrderRef("BTCUSDT", "2194215", "").value(), nonce)
              .value() == expected["query_order_get_mainnet"]);
    CHECK(SignV3Params(*key, auth, "", nonce).value() == expected["listenkey_post_mainnet"]);
    Instrument btc;
    btc.venue_symbol = "BTCUSDT";
    OrderRequest r;
    r.size = Decimal::FromUnits(1, 3);
    r.price = Decimal::FromInt(60000);
    CHECK(SignV3Params(*key, auth, EncodeBatchOrders({r}, {&btc}).value(), nonce).value() ==
          expected["batch_orders_encoded_mainnet"]);
  }
  SECTION("bad inputs") {
    V3Auth bad = auth;
    bad.signer = "0x1234";
    CHECK(!SignV3Params(*key, bad, "a=1", nonce).ok());
    CHECK(!SignV3Params(*key, auth, "a=1", 0).ok());
  }
}

TEST_CASE("EIP-712 V3: ccxt request vectors", "[aster][signing]") {
  std::string json = ReadData("vectors/eip712_v3_ccxt_requests.json");
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(json);
  auto key = EvmSigner::FromPrivateKeyHex(Str(root, "privateKey"));
  REQUIRE(key.ok());
  CHECK(Lower(key->address()) == Str(root, "address_of_privateKey"));
  uint64_t chain = 0;
  REQUIRE(root["chainId"].get_uint64().get(chain) == simdjson::SUCCESS);
  int n = 0;
  for (simdjson::dom::element c : root["cases"].get_array()) {
    std::string name = Str(c, "name");
    INFO(name);
    std::string msg = Str(c, "signed_msg"), sig = Str(c, "signature");
    CHECK(Str(c, "sent") == msg + "&signature=" + sig);
    Hash32 digest;
    if (name == "approveBuilder_post") {
      // Struct fields come from the sent params (capitalised), nonce as uint256.
      ApproveBuilderMessage m;
      m.builder = "0x1F5877C19e3777Cfd15F9d57253eA4aA5254Ec39";
      m.max_fee_rate = "0.001";
      m.builder_name = "ccxt";
      m.aster_chain = "Mainnet";
      m.user = "0x21cf8ae13bb72632562c6fff438652ba1a151bb0";
      m.nonce = 1748310859508000ULL;
      digest = ApproveBuilderDigest(m, chain);
    } else {
      digest = Eip712MessageDigest(msg, chain);
      CHECK(Hex(digest) == Str(c, "digest"));
    }
    CHECK(key->SignDigestHex(digest).value() == sig);
    CHECK(Lower(RecoverAddress(digest, sig).value()) == Str(root, "address_of_privateKey"));
    ++n;
  }
  CHECK(n == 9);
}

TEST_CASE("ccxt-shaped orders from the encoder (lower-case user == signer, auth first)",
          "[aster][signing]") {
  auto key = EvmSigner::FromPrivateKeyHex(
      "0x4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1");
  REQUIRE(key.ok());
  V3Auth auth;
  auth.user = auth.signer = "0x21cf8ae13bb72632562c6fff438652ba1a151bb0";
  auth.placement = AuthPlacement::kFirst;
  Instrument btc;
  btc.venue_symbol = "BTCUSDT";
  btc.tick_size = Decimal::FromUnits(1, 1);
  btc.step_size = Decimal::FromUnits(1, 3);
  OrderRequest r;
  r.side = Side::kSell;
  r.type = OrderType::kMarket;
  r.size = Decimal::FromUnits(1, 3);
  r.reduce_only = true;
  auto params = EncodeNewOrder(r, btc);
  REQUIRE(params.ok());
  CHECK(*params == "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.001&reduceOnly=true");
  CHECK(SignV3Params(*key, auth, *params, 1748310859508000ULL).value() ==
        "nonce=1748310859508000&user=0x21cf8ae13bb72632562c6fff438652ba1a151bb0&signer="
        "0x21cf8ae13bb72632562c6fff438652ba1a151bb0&symbol=BTCUSDT&side=SELL&type=MARKET&quantity="
        "0.001&reduceOnly=true&signature=0xbb0fe0f8bd885b2133e1f2889b9dd07ed84ac958f4d0b2775c5976bc"
        "38a24ce31973f5c9ec88357a8153fc39f726f5100dd653940b494e20814f1c968ccf7b6c1b");
  CHECK(SignV3Params(*key, auth, EncodeSymbolOnly("BTCUSDT"), 1748310859508000ULL).value() ==
        "nonce=1748310859508000&user=0x21cf8ae13bb72632562c6fff438652ba1a151bb0&signer="
        "0x21cf8ae13bb72632562c6fff438652ba1a151bb0&symbol=BTCUSDT&signature=0xa8e672a48b77b4c1da7b"
        "e67f459f03fe0208b05648176ad0065b78e54a844f70391f02c7fc07ee7b568eada741e4eea4b3c232847bce6f"
        "79e67c4b734638d6511c");
}

TEST_CASE("Legacy V3 ABI vectors", "[aster][signing]") {
  std::string json = ReadData("vectors/legacy_abi_v3.json");
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(json);
  auto key = EvmSigner::FromPrivateKeyHex(Str(root, "privateKey"));
  REQUIRE(key.ok());
  CHECK(key->address() == Str(root, "signerAddress"));
  std::string user = Str(root, "userAddress"), signer = Str(root, "signerAddress");
  uint64_t nonce = std::stoull(Str(root, "nonce"));
  int n = 0;
  for (simdjson::dom::element v : root["vectors"].get_array()) {
    std::string name = Str(v, "name");
    INFO(name);
    std::string js = Str(v, "jsonStr");
    auto abi = LegacyAbiEncode(js, user, signer, nonce);
    REQUIRE(abi.ok());
    CHECK(crypto::HexEncode(*abi) == Str(v, "abiEncodedHex"));
    CHECK(Hex(crypto::Keccak256(abi->data(), abi->size())) == Str(v, "keccakHex"));
    CHECK(SignLegacyV3(*key, js, user, signer, nonce).value() == Str(v, "signature"));
    ++n;
  }
  CHECK(n == 2);
  // The JSON builder sorts keys and stringifies like the docs' worked example.
  CHECK(LegacyJsonString({{"symbol", "SANDUSDT"}, {"orderId", "2194215"}, {"type", "LIMIT"},
                          {"side", "BUY"}, {"timestamp", "1749545309665"},
                          {"recvWindow", "50000"}}) ==
        "{\"orderId\":\"2194215\",\"recvWindow\":\"50000\",\"side\":\"BUY\",\"symbol\":"
        "\"SANDUSDT\",\"timestamp\":\"1749545309665\",\"type\":\"LIMIT\"}");
}

TEST_CASE("EvmSigner and addresses reject bad input without leaking the key", "[aster][signing]") {
  auto short_key = EvmSigner::FromPrivateKeyHex("0x4fd0a422");
  REQUIRE(!short_key.ok());
  CHECK(std::string(short_key.status().message()).find("4fd0a422") == std::string::npos);
  auto zero = EvmSigner::FromPrivateKeyHex(std::string(64, '0'));
  CHECK(!zero.ok());
  std::string bad_hex = "zz" + std::string(62, '1');
  auto nonhex = EvmSigner::FromPrivateKeyHex(bad_hex);
  REQUIRE(!nonhex.ok());
  CHECK(std::string(nonhex.status().message()).find("111111") == std::string::npos);
  CHECK(ChecksumAddress("0x21cf8ae13bb72632562c6fff438652ba1a151bb0").value() ==
        "0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0");
  CHECK(!ChecksumAddress("0x21cf").ok());
  Hash32 d{};
  CHECK(!RecoverAddress(d, "0x1234").ok());
  CHECK(!RecoverAddress(d, "0x" + std::string(128, 'f') + "1d").ok());  // v = 29
  // Moving a signer keeps it usable.
  auto k = EvmSigner::FromPrivateKeyHex(
      "4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1");
  REQUIRE(k.ok());
  EvmSigner moved = std::move(*k);
  CHECK(moved.address() == "0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0");
  CHECK(moved.SignDigest(d).ok());
}

TEST_CASE("NonceSequence is strictly increasing", "[aster][signing]") {
  NonceSequence n;
  CHECK(n.Next(1000) == 1000);
  CHECK(n.Next(1000) == 1001);
  CHECK(n.Next(999) == 1002);
  CHECK(n.Next(5000) == 5000);
}

}  // namespace
}  // namespace perpgw::adapters::aster
