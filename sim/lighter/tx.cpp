// Lighter module transactions and auth tokens (lighter.md §6-§7, §13): tx_info parsed into the
// signing library's structs, hashed for the sim's chain id, the Schnorr signature verified
// against the registered key of (AccountIndex, ApiKeyIndex), ExpiredAt checked, the per-key
// sequential nonce checked and consumed; accepted txs execute on the engine right after the
// answer is written (a posted task), so every account event follows the answer.
#include <simdjson.h>

#include <charconv>
#include <limits>

#include "adapters/lighter/lighter_poseidon2.h"
#include "sim/lighter/module.h"

namespace perpgw::sim::lighter {
namespace {

namespace lt = perpgw::adapters::lighter;

using VenueError = LighterModule::VenueError;

VenueError Err(int64_t code, std::string message) {
  return {code, std::move(message)};
}

// A JSON integer's literal text (ParseJsonObject's form) within [lo, hi].
bool IntIn(const JsonFields& f, const char* key, int64_t lo, int64_t hi, int64_t* out,
           std::string* why) {
  auto it = f.find(key);
  if (it == f.end() || it->second == "null") {
    *why = std::string("missing ") + key;
    return false;
  }
  const std::string& s = it->second;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) {
    *why = std::string(key) + " is not an integer in range";
    return false;
  }
  *out = v;
  return true;
}

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();

// L2TxAttributes: null / absent, or {"<type>": value} with types 1..7.
bool ReadAttributes(const JsonFields& f, lt::TxAttributes* out, std::string* why) {
  *out = lt::TxAttributes();
  auto it = f.find("L2TxAttributes");
  if (it == f.end() || it->second == "null") return true;
  auto a = ParseJsonObject(it->second);
  if (!a.ok()) {
    *why = "L2TxAttributes must be null or an object";
    return false;
  }
  std::optional<int64_t>* slots[8] = {nullptr,
                                      &out->integrator_account_index,
                                      &out->integrator_taker_fee,
                                      &out->integrator_maker_fee,
                                      &out->skip_nonce,
                                      &out->cancel_all_market_index,
                                      &out->self_trade_behavior,
                                      &out->self_trade_equality};
  for (const auto& [k, v] : *a) {
    if (k.size() != 1 || k[0] < '1' || k[0] > '7') {
      *why = "L2TxAttributes has an unknown attribute type '" + k.substr(0, 8) + "'";
      return false;
    }
    int64_t value = 0;
    if (!IntIn(*a, k.c_str(), kI64Min, kI64Max, &value, why)) return false;
    *slots[k[0] - '0'] = value;
  }
  return true;
}

// A JSON array (given as the array itself or as a string holding it) → its elements: strings
// unescaped, objects / numbers as their JSON text.
bool ReadArray(const std::string& text, std::vector<std::string>* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text).get(root)) return false;
  simdjson::dom::array arr;
  if (root.get_array().get(arr)) return false;
  for (simdjson::dom::element e : arr) {
    std::string_view s;
    if (e.is_string()) {
      if (e.get_string().get(s)) return false;
      out->emplace_back(s);
    } else if (e.is_object() || e.is_int64()) {
      out->push_back(simdjson::minify(e));
    } else {
      return false;
    }
  }
  return true;
}

// ---- tx 28 / 29 hashes (the signing library covers 14-17 and 20) ----------------------------
// Preimages as in the official Go signer (lighter.md §7 "other types: same pattern, see
// lighter-go"): chain id, tx type, nonce, expired_at, account, api key, then the tx's fields;
// every value a Goldilocks element by plain uint64 cast, hashed with the same overwrite-mode,
// unpadded Poseidon2 sponge.
namespace lti = perpgw::adapters::lighter::internal;
using HashOut = std::array<lti::Fp, 4>;

lti::Fp Elem(int64_t v) {
  return lti::Fp::FromU64(static_cast<uint64_t>(v));
}

// Plonky2's hash_no_pad: the sponge, 4 output elements.
HashOut HashNoPad(std::span<const lti::Fp> input) {
  std::array<lti::Fp, lti::kPoseidon2Width> state{};
  for (size_t i = 0; i < input.size(); i += lti::kPoseidon2Rate) {
    for (size_t j = 0; j < lti::kPoseidon2Rate && i + j < input.size(); ++j) {
      state[j] = input[i + j];
    }
    lti::Poseidon2Permute(state);
  }
  return {state[0], state[1], state[2], state[3]};
}

lt::TxHash ToHash(std::span<const lti::Fp> preimage) {
  return lti::Fp5ToBytes(lti::HashToQuinticExtension(preimage));
}

// CreateGroupedOrders: the group's orders are hashed one by one (market, client index, base,
// price, is_ask, type, tif, reduce_only, trigger, expiry), folded left with two-to-one
// (hash_no_pad of the 8 concatenated elements), and the 4 elements appended to the head.
lt::TxHash GroupedHash(uint32_t chain, int64_t nonce, int64_t expired_at, int64_t account,
                       int64_t key, int grouping, const std::vector<lt::CreateOrderTx>& orders) {
  HashOut agg{};
  for (size_t k = 0; k < orders.size(); ++k) {
    const lt::CreateOrderTx& o = orders[k];
    const std::array<lti::Fp, 10> e = {
        Elem(o.market_index), Elem(o.client_order_index), Elem(o.base_amount),
        Elem(o.price),        Elem(o.is_ask ? 1 : 0),     Elem(static_cast<int>(o.type)),
        Elem(static_cast<int>(o.time_in_force)),          Elem(o.reduce_only ? 1 : 0),
        Elem(o.trigger_price),                            Elem(o.order_expiry)};
    const HashOut h = HashNoPad(e);
    if (k == 0) {
      agg = h;
    } else {
      std::array<lti::Fp, 8> two;
      for (int i = 0; i < 4; ++i) {
        two[i] = agg[i];
        two[4 + i] = h[i];
      }
      agg = HashNoPad(two);
    }
  }
  const std::array<lti::Fp, 11> pre = {Elem(chain),   Elem(28),     Elem(nonce),   Elem(expired_at),
                                       Elem(account), Elem(key),    Elem(grouping), agg[0],
                                       agg[1],        agg[2],       agg[3]};
  return ToHash(pre);
}

// UpdateMargin: ..., market, USDCAmount low 32 bits, high bits, direction.
lt::TxHash MarginHash(uint32_t chain, int64_t nonce, int64_t expired_at, int64_t account,
                      int64_t key, int64_t market, int64_t usdc_amount, int64_t direction) {
  const std::array<lti::Fp, 10> pre = {
      Elem(chain),   Elem(29),  Elem(nonce),  Elem(expired_at),
      Elem(account), Elem(key), Elem(market), Elem(usdc_amount & 0xFFFFFFFF),
      Elem(usdc_amount >> 32),  Elem(direction)};
  return ToHash(pre);
}

bool IsStopOrTp(lt::OrderType t) {
  return t == lt::OrderType::kStopLoss || t == lt::OrderType::kStopLossLimit ||
         t == lt::OrderType::kTakeProfit || t == lt::OrderType::kTakeProfitLimit;
}
bool IsStop(lt::OrderType t) {
  return t == lt::OrderType::kStopLoss || t == lt::OrderType::kStopLossLimit;
}

// A group's rules, as the official signer validates them (and the sequencer, we assume):
// OTO = [limit/market parent, one SL or TP child on the other side with BaseAmount 0],
// OCO = [one SL + one TP, same side, both reduce-only, equal size and expiry],
// OTOCO = [parent, SL + TP children on the other side with BaseAmount 0, equal expiry].
// Empty when valid, else why.
// The order fields of a CreateOrder (tx 14) or of one order of CreateGroupedOrders (tx 28),
// read, range-checked and set on `o`; the account, key, nonce and expiry are the tx's own.
// `in_group`: the ranges the official signer checks on a group's orders (48-bit client index,
// amount and expiry, no negatives; a price above 0).
bool ReadOrderFields(const JsonFields& f, bool in_group, lt::CreateOrderTx* o, std::string* why) {
  const int64_t lo = in_group ? 0 : kI64Min;
  const int64_t hi = in_group ? (int64_t{1} << 48) - 1 : kI64Max;
  int64_t m = 0, cidx = 0, base = 0, price = 0, is_ask = 0, otype = 0, tif = 0, ro = 0,
          trigger = 0, expiry = 0;
  if (!IntIn(f, "MarketIndex", -32768, 32767, &m, why) ||
      !IntIn(f, "ClientOrderIndex", lo, hi, &cidx, why) ||
      !IntIn(f, "BaseAmount", lo, hi, &base, why) ||
      !IntIn(f, "Price", in_group ? 1 : 0, 0xFFFFFFFFLL, &price, why) ||
      !IntIn(f, "IsAsk", 0, 1, &is_ask, why) || !IntIn(f, "Type", 0, 6, &otype, why) ||
      !IntIn(f, "TimeInForce", 0, 2, &tif, why) || !IntIn(f, "ReduceOnly", 0, 1, &ro, why) ||
      !IntIn(f, "TriggerPrice", 0, 0xFFFFFFFFLL, &trigger, why) ||
      !IntIn(f, "OrderExpiry", lo, hi, &expiry, why)) {
    return false;
  }
  o->market_index = static_cast<int16_t>(m);
  o->client_order_index = cidx;
  o->base_amount = base;
  o->price = static_cast<uint32_t>(price);
  o->is_ask = is_ask == 1;
  o->type = static_cast<lt::OrderType>(otype);
  o->time_in_force = static_cast<lt::TimeInForce>(tif);
  o->reduce_only = ro == 1;
  o->trigger_price = static_cast<uint32_t>(trigger);
  o->order_expiry = expiry;
  return true;
}

std::string GroupProblem(int grouping, const std::vector<lt::CreateOrderTx>& o) {
  auto child_ok = [](const lt::CreateOrderTx& c) -> std::string {
    if (!IsStopOrTp(c.type)) return "a child must be a stop-loss or take-profit order";
    if ((c.type == lt::OrderType::kStopLoss || c.type == lt::OrderType::kTakeProfit) &&
        c.time_in_force != lt::TimeInForce::kImmediateOrCancel) {
      return "SL/TP market children must be IOC";
    }
    if (c.trigger_price == 0) return "a child needs a TriggerPrice";
    if (c.order_expiry == 0) return "a child needs an OrderExpiry";
    return "";
  };
  auto parent_ok = [](const lt::CreateOrderTx& p) -> std::string {
    const bool ioc = p.time_in_force == lt::TimeInForce::kImmediateOrCancel;
    if (p.type == lt::OrderType::kMarket) {
      if (!ioc || p.order_expiry != 0 || p.trigger_price != 0) {
        return "a market parent must be IOC with no expiry or trigger";
      }
    } else if (p.type == lt::OrderType::kLimit) {
      if (p.trigger_price != 0) return "a limit parent has no trigger";
      if (ioc != (p.order_expiry == 0)) return "parent expiry does not match its time in force";
    } else {
      return "the parent must be a limit or market order";
    }
    return "";
  };
  auto siblings_ok = [&](const lt::CreateOrderTx& a, const lt::CreateOrderTx& b) -> std::string {
    if (auto e = child_ok(a); !e.empty()) return e;
    if (auto e = child_ok(b); !e.empty()) return e;
    if (IsStop(a.type) == IsStop(b.type)) return "the pair must be one stop-loss and one take-profit";
    return "";
  };
  switch (grouping) {
    case 1:  // OTO
      if (o.size() != 2) return "OTO takes 2 orders";
      if (o[1].base_amount != 0) return "the child's BaseAmount must be 0";
      if (o[0].is_ask == o[1].is_ask) return "the child must be on the parent's other side";
      if (o[0].order_expiry != 0 && o[0].order_expiry != o[1].order_expiry) {
        return "parent and child expiries differ";
      }
      if (auto e = parent_ok(o[0]); !e.empty()) return e;
      return child_ok(o[1]);
    case 2:  // OCO
      if (o.size() != 2) return "OCO takes 2 orders";
      if (o[0].base_amount != o[1].base_amount) return "OCO orders differ in BaseAmount";
      if (o[0].is_ask != o[1].is_ask) return "OCO orders must be on the same side";
      if (!o[0].reduce_only || !o[1].reduce_only) return "OCO orders must be reduce-only";
      if (o[0].order_expiry != o[1].order_expiry) return "OCO orders differ in OrderExpiry";
      return siblings_ok(o[0], o[1]);
    case 3:  // OTOCO
      if (o.size() != 3) return "OTOCO takes 3 orders";
      if (o[1].base_amount != 0 || o[2].base_amount != 0) return "children's BaseAmount must be 0";
      if (o[0].is_ask == o[1].is_ask || o[0].is_ask == o[2].is_ask) {
        return "children must be on the parent's other side";
      }
      if (o[1].order_expiry != o[2].order_expiry) return "children's expiries differ";
      if (o[0].order_expiry != 0 && o[0].order_expiry != o[1].order_expiry) {
        return "parent and children expiries differ";
      }
      if (auto e = parent_ok(o[0]); !e.empty()) return e;
      return siblings_ok(o[1], o[2]);
    default: return "invalid GroupingType " + std::to_string(grouping);
  }
}

}  // namespace

// ---- auth tokens --------------------------------------------------------------------------------

std::optional<VenueError> LighterModule::CheckAuth(std::string_view token, int64_t account_index,
                                                   bool ws) {
  auto fail = [&](int64_t rest_code, std::string msg) {
    return std::optional<VenueError>(Err(ws ? kWsErrAuth : rest_code, std::move(msg)));
  };
  if (token.empty()) return fail(kErrAuthMissing, "auth token required");
  auto parsed = lt::ParseAuthToken(token);
  if (!parsed.ok()) {
    return fail(kErrAuthInvalid,
                "invalid auth token: " + std::string(parsed.status().message()).substr(0, 120));
  }
  if (parsed->account_index != account_index) {
    return fail(kErrAuthInvalid, "invalid auth token: it is for account " +
                                     std::to_string(parsed->account_index) + ", not " +
                                     std::to_string(account_index));
  }
  ApiKey* key = FindKey(parsed->account_index, parsed->api_key_index);
  if (key == nullptr) return fail(kErrAuthInvalid, "invalid auth token: api key not found");
  if (!lt::VerifyAuthToken(token, *key->key).ok()) {
    return fail(kErrAuthInvalid, "invalid auth token: signature does not verify");
  }
  const int64_t now_s = NowMs() / 1000;
  if (parsed->deadline_unix_s <= now_s) return fail(kErrAuthExpired, "auth token expired");
  if (parsed->deadline_unix_s > now_s + kMaxAuthLifetimeS) {
    return fail(kErrAuthExpired, "invalid auth token: deadline more than 8 hours ahead");
  }
  return std::nullopt;
}

// ---- verification -----------------------------------------------------------------------------

std::optional<VenueError> LighterModule::VerifyTx(int64_t type, const std::string& info,
                                                  ParsedTx* out) {
  if ((type < 14 || type > 17) && type != 20 && type != 28 && type != 29) {
    return Err(kErrNotModelled, "tx type " + std::to_string(type) +
                                    " is not modelled by perpgw-sim (14 create order, 15 cancel "
                                    "order, 16 cancel all orders, 17 modify order, 20 update "
                                    "leverage, 28 create grouped orders, 29 update margin)");
  }
  auto f = ParseJsonObject(info);
  if (!f.ok()) return Err(kErrInvalidTxInfo, "invalid tx info: not a JSON object");
  std::string why;
  auto bad = [&] { return Err(kErrInvalidTxInfo, "invalid tx info: " + why); };
  int64_t account = 0, key_index = 0, expired_at = 0, nonce = 0;
  if (!IntIn(*f, "AccountIndex", kI64Min, kI64Max, &account, &why) ||
      !IntIn(*f, "ApiKeyIndex", 0, 255, &key_index, &why) ||
      !IntIn(*f, "ExpiredAt", kI64Min, kI64Max, &expired_at, &why) ||
      !IntIn(*f, "Nonce", kI64Min, kI64Max, &nonce, &why)) {
    return bad();
  }
  lt::TxAttributes attributes;
  if (!ReadAttributes(*f, &attributes, &why)) return bad();
  auto sig_it = f->find("Sig");
  if (sig_it == f->end()) {
    why = "missing Sig";
    return bad();
  }
  auto sig = lt::SignatureFromBase64(sig_it->second);
  if (!sig.ok())
    return Err(kErrInvalidSignature, "invalid signature: Sig is not base64 of 80 bytes");

  ParsedTx& t = *out;
  t = ParsedTx();
  t.type = static_cast<int>(type);
  t.account_index = account;
  t.api_key_index = static_cast<int>(key_index);
  t.nonce = nonce;
  t.expired_at = expired_at;
  t.info = info;
  absl::StatusOr<lt::TxHash> hash = absl::InvalidArgumentError("unsupported tx type");
  int64_t market = -1;
  switch (type) {
    case 14: {
      lt::CreateOrderTx& c = t.create;
      if (!ReadOrderFields(*f, false, &c, &why)) return bad();
      market = c.market_index;
      c.account_index = account;
      c.api_key_index = static_cast<uint8_t>(key_index);
      c.expired_at = expired_at;
      c.nonce = nonce;
      c.attributes = attributes;
      hash = lt::HashTx(c, chain_id_);
      break;
    }
    case 15: {
      lt::CancelOrderTx& c = t.cancel;
      int64_t index = 0;
      if (!IntIn(*f, "MarketIndex", -32768, 32767, &market, &why) ||
          !IntIn(*f, "Index", kI64Min, kI64Max, &index, &why)) {
        return bad();
      }
      c.account_index = account;
      c.api_key_index = static_cast<uint8_t>(key_index);
      c.market_index = static_cast<int16_t>(market);
      c.index = index;
      c.expired_at = expired_at;
      c.nonce = nonce;
      c.attributes = attributes;
      hash = lt::HashTx(c, chain_id_);
      break;
    }
    case 16: {
      lt::CancelAllOrdersTx& c = t.cancel_all;
      int64_t tif = 0, time = 0;
      if (!IntIn(*f, "TimeInForce", 0, 2, &tif, &why) ||
          !IntIn(*f, "Time", kI64Min, kI64Max, &time, &why)) {
        return bad();
      }
      c.account_index = account;
      c.api_key_index = static_cast<uint8_t>(key_index);
      c.time_in_force = static_cast<lt::CancelAllTimeInForce>(tif);
      c.time = time;
      c.expired_at = expired_at;
      c.nonce = nonce;
      c.attributes = attributes;
      hash = lt::HashTx(c, chain_id_);
      break;
    }
    case 17: {
      lt::ModifyOrderTx& c = t.modify;
      int64_t index = 0, base = 0, price = 0, trigger = 0;
      if (!IntIn(*f, "MarketIndex", -32768, 32767, &market, &why) ||
          !IntIn(*f, "Index", kI64Min, kI64Max, &index, &why) ||
          !IntIn(*f, "BaseAmount", kI64Min, kI64Max, &base, &why) ||
          !IntIn(*f, "Price", 0, 0xFFFFFFFFLL, &price, &why) ||
          !IntIn(*f, "TriggerPrice", 0, 0xFFFFFFFFLL, &trigger, &why)) {
        return bad();
      }
      c.account_index = account;
      c.api_key_index = static_cast<uint8_t>(key_index);
      c.market_index = static_cast<int16_t>(market);
      c.index = index;
      c.base_amount = base;
      c.price = static_cast<uint32_t>(price);
      c.trigger_price = static_cast<uint32_t>(trigger);
      c.expired_at = expired_at;
      c.nonce = nonce;
      c.attributes = attributes;
      hash = lt::HashTx(c, chain_id_);
      break;
    }
    case 20: {
      lt::UpdateLeverageTx& c = t.leverage;
      int64_t imf = 0, mode = 0;
      if (!IntIn(*f, "MarketIndex", -32768, 32767, &market, &why) ||
          !IntIn(*f, "InitialMarginFraction", 0, 0xFFFF, &imf, &why) ||
          !IntIn(*f, "MarginMode", 0, 255, &mode, &why)) {
        return bad();
      }
      c.account_index = account;
      c.api_key_index = static_cast<uint8_t>(key_index);
      c.market_index = static_cast<int16_t>(market);
      c.initial_margin_fraction = static_cast<uint16_t>(imf);
      c.margin_mode = static_cast<lt::MarginMode>(mode);
      c.expired_at = expired_at;
      c.nonce = nonce;
      c.attributes = attributes;
      hash = lt::HashTx(c, chain_id_);
      break;
    }
    case 28: {
      GroupedOrdersTx& g = t.grouped;
      int64_t grouping = 0;
      if (!IntIn(*f, "GroupingType", 0, 255, &grouping, &why)) return bad();
      auto it = f->find("Orders");
      auto rows = it == f->end() ? absl::StatusOr<std::vector<JsonFields>>(
                                       absl::InvalidArgumentError("missing"))
                                 : ParseJsonObjectArray(it->second);
      if (!rows.ok() || rows->empty() || rows->size() > 3) {
        why = "Orders must be an array of 1..3 orders";
        return bad();
      }
      g.grouping = static_cast<int>(grouping);
      std::set<int64_t> client_indexes;
      for (const JsonFields& r : *rows) {
        lt::CreateOrderTx o;
        if (!ReadOrderFields(r, true, &o, &why)) return bad();
        if (!g.orders.empty() && o.market_index != g.orders.front().market_index) {
          why = "the group's orders are on different markets";
          return bad();
        }
        if (o.client_order_index != 0 && !client_indexes.insert(o.client_order_index).second) {
          why = "duplicate ClientOrderIndex in the group";
          return bad();
        }
        if (!o.reduce_only && o.base_amount == 0) {
          why = "BaseAmount 0 needs ReduceOnly";
          return bad();
        }
        o.account_index = account;
        o.api_key_index = static_cast<uint8_t>(key_index);
        o.expired_at = expired_at;
        o.nonce = nonce;
        g.orders.push_back(o);
      }
      market = g.orders.front().market_index;
      if (std::string e = GroupProblem(g.grouping, g.orders); !e.empty()) {
        why = e;
        return bad();
      }
      hash = GroupedHash(chain_id_, nonce, expired_at, account, key_index, g.grouping, g.orders);
      break;
    }
    case 29: {
      UpdateMarginTx& u = t.margin;
      int64_t amount = 0, direction = 0;
      if (!IntIn(*f, "MarketIndex", -32768, 32767, &market, &why) ||
          !IntIn(*f, "USDCAmount", 1, (int64_t{1} << 60) - 1, &amount, &why) ||
          !IntIn(*f, "Direction", 0, 1, &direction, &why)) {
        return bad();
      }
      u.market_index = static_cast<int16_t>(market);
      u.usdc_amount = amount;
      u.direction = static_cast<int>(direction);
      hash = MarginHash(chain_id_, nonce, expired_at, account, key_index, market, amount,
                        direction);
      break;
    }
    default: break;  // checked above
  }
  if ((type == 28 || type == 29) &&
      (attributes.integrator_account_index || attributes.integrator_taker_fee ||
       attributes.integrator_maker_fee || attributes.skip_nonce ||
       attributes.cancel_all_market_index || attributes.self_trade_behavior ||
       attributes.self_trade_equality)) {
    // Their attribute hash would need the signing library's private aggregation: refused, as
    // the sim refuses what it does not model, before the nonce is consumed.
    return Err(kErrNotModelled, "L2TxAttributes on tx type " + std::to_string(type) +
                                    " are not modelled by perpgw-sim");
  }
  if (!hash.ok()) {
    why = std::string(hash.status().message()).substr(0, 160);
    return bad();
  }
  t.hash = lt::ToHex(*hash);
  ApiKey* key = FindKey(account, static_cast<int>(key_index));
  if (key == nullptr) {
    return Err(kErrApiKeyNotFound, "api key not found: account " + std::to_string(account) +
                                       " api key " + std::to_string(key_index));
  }
  if (!key->key->Verify(*hash, *sig).ok()) {
    return Err(kErrInvalidSignature,
               "invalid signature (chain id " + std::to_string(chain_id_) + ")");
  }
  if (expired_at <= NowMs()) {
    return Err(kErrTxExpired,
               "tx expired: ExpiredAt " + std::to_string(expired_at) + " ms is not after now");
  }
  // What the sim does not model is refused before the nonce is consumed.
  if (attributes.skip_nonce.value_or(0) != 0) {
    return Err(kErrNotModelled, "L2TxAttributes skip_nonce is not modelled by perpgw-sim");
  }
  if ((type == 14 || type == 15 || type == 17 || type == 20 || type == 28 || type == 29) &&
      ByMarketId(market) == nullptr) {
    return Err(kErrInvalidTxInfo,
               "invalid tx info: unknown market index " + std::to_string(market));
  }
  // TWAP (type 6): lighter.md gives only its validation (GTT, trigger 0, expiry set), not how the
  // venue slices it (child size, interval, what the expiry means for the schedule), so the sim
  // refuses it with its not-modelled code rather than invent a schedule. Types 2..5 (stop-loss,
  // take-profit, and their limit forms) run on the engine's conditional orders.
  if (type == 14 && t.create.type == lt::OrderType::kTwap) {
    return Err(kErrNotModelled,
               "order type 6 (TWAP) is not modelled by perpgw-sim (limit, market, stop-loss, "
               "stop-loss-limit, take-profit, take-profit-limit only)");
  }
  if (type == 16) {
    const auto& m = t.cancel_all.attributes.cancel_all_market_index;
    if (m.has_value() && *m != 255 && ByMarketId(*m) == nullptr) {
      return Err(kErrInvalidTxInfo,
                 "invalid tx info: unknown cancel-all market index " + std::to_string(*m));
    }
    if (t.cancel_all.time_in_force == lt::CancelAllTimeInForce::kScheduled &&
        t.cancel_all.time <= NowMs()) {
      return Err(kErrInvalidTxInfo, "invalid tx info: a scheduled cancel-all needs a future Time");
    }
  }
  return std::nullopt;
}

bool LighterModule::ParseBatch(const std::string& types, const std::string& infos, size_t max,
                               std::vector<std::pair<int64_t, std::string>>* out, VenueError* err) {
  std::vector<std::string> t, i;
  if (!ReadArray(types, &t)) {
    *err = Err(kErrInvalidParam, "invalid param: tx_types (a JSON array of tx types)");
    return false;
  }
  if (!ReadArray(infos, &i)) {
    *err = Err(kErrInvalidParam, "invalid param: tx_infos (a JSON array of tx_info strings)");
    return false;
  }
  if (t.size() != i.size() || t.empty()) {
    *err =
        Err(kErrInvalidParam, "invalid param: tx_types and tx_infos differ in length or are empty");
    return false;
  }
  if (t.size() > max) {
    *err = Err(kErrBatchTooLarge, "too many txs in batch: " + std::to_string(t.size()) + " > " +
                                      std::to_string(max));
    return false;
  }
  for (size_t k = 0; k < t.size(); ++k) {
    int64_t type = 0;
    auto [p, ec] = std::from_chars(t[k].data(), t[k].data() + t[k].size(), type);
    if (ec != std::errc() || p != t[k].data() + t[k].size()) {
      *err = Err(kErrInvalidParam, "invalid param: tx_types[" + std::to_string(k) + "]");
      return false;
    }
    out->emplace_back(type, i[k]);
  }
  return true;
}

// ---- submission ---------------------------------------------------------------------------------

LighterModule::SubmitResult LighterModule::Submit(
    const std::vector<std::pair<int64_t, std::string>>& txs) {
  SubmitResult out;
  std::vector<ParsedTx> parsed(txs.size());
  std::map<KeyId, int64_t> next;  // nonces as the batch consumes them
  for (size_t i = 0; i < txs.size(); ++i) {
    auto prefix = [&](VenueError e) {
      if (txs.size() > 1) e.message = "tx " + std::to_string(i) + ": " + e.message;
      return e;
    };
    if (auto e = VerifyTx(txs[i].first, txs[i].second, &parsed[i])) {
      out.error = prefix(*e);
      return out;
    }
    const KeyId id{parsed[i].account_index, parsed[i].api_key_index};
    auto it = next.find(id);
    const int64_t expected = it != next.end() ? it->second : FindKey(id.first, id.second)->nonce;
    if (parsed[i].nonce != expected) {
      out.error =
          prefix(Err(kErrInvalidNonce, "invalid nonce: expected " + std::to_string(expected) +
                                           ", got " + std::to_string(parsed[i].nonce)));
      return out;
    }
    next[id] = expected + 1;
  }
  // Accepted. The sequencer may still drop some (sequencer_reject fault): those fail, their
  // nonce is not consumed, and later txs of the same key in this batch fail on the nonce gap.
  const int64_t now = NowMs();
  std::vector<ParsedTx> run;
  std::set<KeyId> broken;
  for (ParsedTx& t : parsed) {
    TxRecord rec;
    rec.hash = t.hash;
    rec.type = t.type;
    rec.info = t.info;
    rec.account_index = t.account_index;
    rec.api_key_index = t.api_key_index;
    rec.nonce = t.nonce;
    rec.expire_at = t.expired_at;
    rec.queued_at = now;
    rec.transaction_index = ++tx_index_;
    const KeyId id{t.account_index, t.api_key_index};
    if (sequencer_rejects_ > 0 || broken.count(id)) {
      rec.status = 0;
      rec.executed_at = now;
      rec.event_info = sequencer_rejects_ > 0
                           ? R"J({"error":"rejected by the sequencer (perpgw-sim fault)"})J"
                           : R"({"error":"invalid nonce"})";
      if (sequencer_rejects_ > 0) --sequencer_rejects_;
      broken.insert(id);
    } else {
      FindKey(id.first, id.second)->nonce = t.nonce + 1;
      rec.status = 1;  // pending until the posted execution
      run.push_back(t);
    }
    out.hashes.push_back(rec.hash);
    if (txs_.count(rec.hash) == 0) tx_order_.push_back(rec.hash);
    txs_[rec.hash] = std::move(rec);
    while (tx_order_.size() > kTxsKept) {
      txs_.erase(tx_order_.front());
      tx_order_.pop_front();
    }
  }
  if (!run.empty()) {
    ctx_->loop().Post([this, run = std::move(run)] {
      for (const ParsedTx& t : run) Execute(t);
    });
  }
  return out;
}

std::string LighterModule::SendTxAnswer(const SubmitResult& r, bool batch) const {
  JsonWriter w;
  w.BeginObject();
  if (r.error.code != 0) {
    w.Field("code", r.error.code).Field("message", r.error.message).EndObject();
    return w.Take();
  }
  w.Field("code", int64_t{200}).Field("message", R"({"ratelimit": "didn't use volume quota"})");
  if (batch) {
    w.Key("tx_hash").BeginArray();
    for (const std::string& h : r.hashes) w.String(h);
    w.EndArray();
  } else {
    w.Field("tx_hash", r.hashes.empty() ? std::string() : r.hashes.front());
  }
  w.Field("predicted_execution_time_ms", NowMs() + 1);
  w.Key("volume_quota_remaining").Null();
  w.EndObject();
  return w.Take();
}

std::string LighterModule::TxJson(const TxRecord& t) const {
  JsonWriter w;
  w.BeginObject()
      .Field("hash", t.hash)
      .Field("type", int64_t{t.type})
      .Field("info", t.info)
      .Field("event_info", t.event_info)
      .Field("status", int64_t{t.status})
      .Field("transaction_index", t.transaction_index)
      .Field("l1_address", L1Of(t.account_index))
      .Field("account_index", t.account_index)
      .Field("api_key_index", int64_t{t.api_key_index})
      .Field("nonce", t.nonce)
      .Field("expire_at", t.expire_at)
      .Field("block_height", t.block_height)
      .Field("queued_at", t.queued_at)
      .Field("executed_at", t.executed_at)
      .Field("sequence_index", t.transaction_index)
      .Field("parent_hash", "")
      .EndObject();
  return w.Take();
}

// ---- execution ----------------------------------------------------------------------------------

void LighterModule::Execute(const ParsedTx& tx) {
  auto rec = txs_.find(tx.hash);
  const std::string* account = AccountIdOf(tx.account_index);
  std::string event_info;
  bool ok = false;
  if (account == nullptr) {
    event_info = R"({"error":"account not found"})";
  } else if (tx.type == 14) {
    ok = ExecCreate(tx, *account, &event_info);
  } else if (tx.type == 15) {
    ok = ExecCancel(tx, *account, &event_info);
  } else if (tx.type == 16) {
    ok = ExecCancelAll(tx, *account, &event_info);
  } else if (tx.type == 17) {
    ok = ExecModify(tx, *account, &event_info);
  } else if (tx.type == 20) {
    ok = ExecUpdateLeverage(tx, *account, &event_info);
  } else if (tx.type == 28) {
    ok = ExecGrouped(tx, *account, &event_info);
  } else if (tx.type == 29) {
    ok = ExecUpdateMargin(tx, *account, &event_info);
  }
  if (rec == txs_.end()) return;
  TxRecord& r = rec->second;
  r.status = ok ? 3 : 0;  // executed txs are final at once (no L1 settlement to wait for)
  r.executed_at = NowMs();
  r.block_height = ++block_height_;
  r.event_info = std::move(event_info);
  PushTx(r);
  Push("height", "height", std::to_string(block_height_));
}

void LighterModule::FlushDeferred() {
  auto events = std::move(deferred_);
  deferred_.clear();
  for (const AccountEvent& e : events) DispatchAccountEvent(e);
}

void LighterModule::RecordRefused(SimOrder o, OrderMeta meta) {
  o.id = next_refused_id_++;
  o.status = OrderStatus::kRejected;
  o.reason = CancelReason::kRejected;
  o.created = o.updated = ctx_->Now();
  meta.order_index = kOrderIndexBase + static_cast<int64_t>(o.id);
  meta_[o.id] = meta;
  refused_[o.id] = o;
  AccountEvent e;
  e.kind = AccountEvent::Kind::kOrder;
  e.account = o.account;
  e.time = o.created;
  e.order = o;
  deferred_.push_back(std::move(e));
}

bool LighterModule::ExecCreate(const ParsedTx& tx, const std::string& account,
                               std::string* event_info) {
  const lt::CreateOrderTx& c = tx.create;
  if (ByMarketId(c.market_index) == nullptr) {
    *event_info = R"({"error":"unknown market"})";
    return false;
  }
  const uint64_t id = PlaceCreate(c, tx.account_index, account, {});
  const SimOrder* now = ctx_->engine().FindOrder(id);
  if (now == nullptr) {
    auto it = refused_.find(id);
    if (it != refused_.end()) now = &it->second;
  }
  JsonWriter w;
  w.BeginObject()
      .Field("order_index", meta_[id].order_index)
      .Field("client_order_index", c.client_order_index)
      .Field("status", now != nullptr ? OrderStatusText(*now, meta_[id]) : "canceled");
  if (now != nullptr && !now->reason_text.empty()) w.Field("reason", now->reason_text);
  w.EndObject();
  *event_info = w.Take();
  return true;
}

uint64_t LighterModule::PlaceCreate(const lt::CreateOrderTx& c, int64_t account_index,
                                    const std::string& account,
                                    const std::vector<lt::CreateOrderTx>& children) {
  const SimInstrument* in = ByMarketId(c.market_index);
  OrderMeta m;
  m.client_index = c.client_order_index;
  m.account_index = account_index;
  m.seq = next_seq_++;
  m.type = static_cast<int>(c.type);
  m.tif = static_cast<int>(c.time_in_force);
  m.price = c.price;
  m.order_expiry = c.order_expiry;
  m.nonce = c.nonce;
  PlaceRequest pr;
  pr.account = account;
  pr.symbol = in->symbol();
  pr.client_id = c.client_order_index != 0 ? std::to_string(c.client_order_index) : "";
  pr.side = c.is_ask ? Side::kSell : Side::kBuy;
  pr.reduce_only = c.reduce_only;
  pr.qty = c.base_amount;
  const bool conditional = c.type == lt::OrderType::kStopLoss ||
                           c.type == lt::OrderType::kStopLossLimit ||
                           c.type == lt::OrderType::kTakeProfit ||
                           c.type == lt::OrderType::kTakeProfitLimit;
  if (c.type == lt::OrderType::kMarket || c.type == lt::OrderType::kStopLoss ||
      c.type == lt::OrderType::kTakeProfit) {
    pr.type = OrderType::kMarket;
    pr.tif = TimeInForce::kIoc;
    pr.worst_price = c.price;  // the signed price is the slippage bound
  } else {
    pr.type = OrderType::kLimit;
    pr.price = c.price;
    pr.tif = c.time_in_force == lt::TimeInForce::kImmediateOrCancel ? TimeInForce::kIoc
             : c.time_in_force == lt::TimeInForce::kPostOnly        ? TimeInForce::kPostOnly
                                                                    : TimeInForce::kGtc;
  }
  if (conditional) {
    // Stop-loss / take-profit (lighter.md §7: types 2..5, TriggerPrice set) on the engine's
    // conditional orders, triggered by the mark price (the spec does not name the reference;
    // the venue's UI labels SL/TP triggers "mark price", the engine's default). A stop-loss
    // protects against the price moving against the order's side: a sell stop fires at or
    // below the trigger, a buy stop at or above; a take-profit the other way. Types 2/4 then
    // execute as market orders bounded by Price, 3/5 as limits at Price with the signed
    // TimeInForce (a GTT/post-only remainder rests until OrderExpiry).
    const bool stop =
        c.type == lt::OrderType::kStopLoss || c.type == lt::OrderType::kStopLossLimit;
    const bool above = stop != c.is_ask;
    const int64_t mark = ctx_->market().mark_price(in->index);
    const int64_t trigger = c.trigger_price;
    // The engine refuses a trigger that already holds; the spec says nothing of a refusal for
    // it, so the safe reading is the trigger's own meaning: the condition is met, the order
    // fires at once (placed as its market / limit form, still shown as the SL/TP order).
    if (above ? mark < trigger : mark > trigger) {
      pr.trigger = above ? TriggerWhen::kAtOrAbove : TriggerWhen::kAtOrBelow;
      pr.trigger_price = trigger;
      pr.trigger_ref = TriggerRef::kMark;
    }
    m.trigger_price = trigger;
  }
  // OTO / OTOCO children: the engine's attached SL / TP, parked reduce-only on the other side
  // for what the parent fills (their BaseAmount is 0: "size inherited from the parent"). Types
  // 2/4 become market children, 3/5 limit children at their Price.
  for (const lt::CreateOrderTx& ch : children) {
    const bool limit = ch.type == lt::OrderType::kStopLossLimit ||
                       ch.type == lt::OrderType::kTakeProfitLimit;
    if (IsStop(ch.type)) {
      pr.sl_trigger_price = ch.trigger_price;
      pr.sl_limit_price = limit ? ch.price : 0;
    } else {
      pr.tp_trigger_price = ch.trigger_price;
      pr.tp_limit_price = limit ? ch.price : 0;
    }
  }
  // Events wait until the order's meta (its order index) is registered.
  deferring_ = true;
  PlaceResult r = ctx_->engine().Place(pr);
  deferring_ = false;
  uint64_t id = r.order.id;
  if (id == 0) {
    // Refused before the engine stored it (a live order already uses the client index): shown
    // as a canceled order of its own.
    SimOrder o = r.order;
    o.account = account;
    o.instrument = in;
    o.client_id = pr.client_id;
    o.side = pr.side;
    o.type = pr.type;
    o.tif = pr.tif;
    o.reduce_only = pr.reduce_only;
    o.price = pr.price;
    o.worst_price = pr.worst_price;
    o.qty = pr.qty;
    o.reject = r.code;
    o.reason_text = r.message;
    id = next_refused_id_;
    RecordRefused(o, m);
  } else {
    m.order_index = kOrderIndexBase + static_cast<int64_t>(id);
    meta_[id] = m;
    engine_by_index_[m.order_index] = id;
    if (!children.empty()) child_expiry_[id] = children.front().order_expiry;
  }
  FlushDeferred();
  return id;
}

// CreateGroupedOrders (lighter.md §7 tx 28; grouping types as in the official signer: 1 OTO,
// 2 OCO, 3 OTOCO). OTO / OTOCO: the parent with its SL / TP attached (the engine parks them for
// each fill, and OTOCO's pair cancel each other when one fires). OCO: two reduce-only SL / TP
// orders placed as usual; when one fires or ends, the module cancels the other.
bool LighterModule::ExecGrouped(const ParsedTx& tx, const std::string& account,
                                std::string* event_info) {
  const GroupedOrdersTx& g = tx.grouped;
  std::vector<uint64_t> ids;
  if (g.grouping == 2) {
    ids.push_back(PlaceCreate(g.orders[0], tx.account_index, account, {}));
    ids.push_back(PlaceCreate(g.orders[1], tx.account_index, account, {}));
    const SimOrder* a = ctx_->engine().FindOrder(ids[0]);
    const SimOrder* b = ctx_->engine().FindOrder(ids[1]);
    if (a != nullptr && b != nullptr && a->open() && b->open()) {
      oco_sibling_[ids[0]] = ids[1];
      oco_sibling_[ids[1]] = ids[0];
    } else {
      // One of them refused (or fired at once and ended): the other has no partner to wait
      // for; the safe reading cancels it, as if the group were one order.
      for (uint64_t id : ids) {
        const SimOrder* o = ctx_->engine().FindOrder(id);
        if (o != nullptr && o->awaiting_trigger()) (void)ctx_->engine().Cancel(account, id);
      }
    }
  } else {
    std::vector<lt::CreateOrderTx> children(g.orders.begin() + 1, g.orders.end());
    ids.push_back(PlaceCreate(g.orders[0], tx.account_index, account, children));
  }
  JsonWriter w;
  w.BeginObject().Field("grouping_type", int64_t{g.grouping}).Key("order_indexes").BeginArray();
  for (uint64_t id : ids) w.Int(meta_[id].order_index);
  w.EndArray().EndObject();
  *event_info = w.Take();
  return true;
}

void LighterModule::ResolveOco(const SimOrder& o) {
  auto it = oco_sibling_.find(o.id);
  if (it == oco_sibling_.end() || o.awaiting_trigger()) return;
  const uint64_t other = it->second;
  oco_sibling_.erase(it);
  oco_sibling_.erase(other);
  const std::string account = o.account;
  // Not from inside the engine's event sink: after the current engine call returns.
  ctx_->loop().Post([this, account, other] {
    const SimOrder* s = ctx_->engine().FindOrder(other);
    if (s != nullptr && s->awaiting_trigger()) (void)ctx_->engine().Cancel(account, other);
  });
}

// UpdateMargin (tx 29): moves USDCAmount (1e-6 USDC) into (Direction 1) or out of (0) the
// isolated margin of the account's position on the market, the engine's isolated transfer.
// Refused on execution (status 0) on a cross market, a flat one, or beyond what can move.
bool LighterModule::ExecUpdateMargin(const ParsedTx& tx, const std::string& account,
                                     std::string* event_info) {
  const UpdateMarginTx& u = tx.margin;
  const SimInstrument* in = ByMarketId(u.market_index);
  if (in == nullptr) {
    *event_info = R"({"error":"unknown market"})";
    return false;
  }
  constexpr int64_t kUsdcToMoney = 100;  // 1e-6 → kMoneyScale (1e-8)
  static_assert(kMoneyScale == 8);
  if (u.usdc_amount > std::numeric_limits<Money>::max() / kUsdcToMoney) {
    *event_info = R"({"error":"amount too large"})";
    return false;
  }
  const Money amount = u.usdc_amount * kUsdcToMoney;
  const MarginResult r = ctx_->engine().AdjustIsolatedMargin(
      account, in->symbol(), u.direction == 1 ? amount : -amount);
  const char* why = nullptr;
  switch (r) {
    case MarginResult::kOk: break;
    case MarginResult::kNotIsolated: why = "the market is in cross margin mode"; break;
    case MarginResult::kNoPosition: why = "no position on the market"; break;
    case MarginResult::kInsufficient: why = "not enough margin to move"; break;
    default: why = "margin update refused"; break;
  }
  if (why != nullptr) {
    *event_info = std::string("{\"error\":\"") + why + "\"}";
    return false;
  }
  *event_info = "{\"market_index\":" + std::to_string(u.market_index) +
                ",\"usdc_amount\":" + std::to_string(u.usdc_amount) +
                ",\"direction\":" + std::to_string(u.direction) + "}";
  return true;
}

const SimOrder* LighterModule::ResolveOpen(const std::string& account, int64_t market,
                                           int64_t index) const {
  const Engine& e = ctx_->engine();
  const SimOrder* o = nullptr;
  if (index >= kOrderIndexBase) {
    auto it = engine_by_index_.find(index);
    if (it != engine_by_index_.end()) o = e.FindOrder(it->second);
  } else if (index > 0) {
    o = e.FindByClientId(account, std::to_string(index));
  }
  if (o == nullptr || o->account != account || !o->open() || o->instrument == nullptr ||
      o->instrument->spec.market_id != market) {
    return nullptr;
  }
  return o;
}

bool LighterModule::ExecCancel(const ParsedTx& tx, const std::string& account,
                               std::string* event_info) {
  const SimOrder* o = ResolveOpen(account, tx.cancel.market_index, tx.cancel.index);
  if (o == nullptr) {
    *event_info = R"({"error":"order not found"})";
    return false;
  }
  const int64_t order_index = MetaFor(*o).order_index;
  CancelResult r = ctx_->engine().Cancel(account, o->id);
  if (r.code != RejectCode::kNone) {
    *event_info = R"({"error":"order not found"})";
    return false;
  }
  *event_info = "{\"canceled_order_index\":" + std::to_string(order_index) + "}";
  return true;
}

bool LighterModule::ExecCancelAll(const ParsedTx& tx, const std::string& account,
                                  std::string* event_info) {
  const lt::CancelAllOrdersTx& c = tx.cancel_all;
  switch (c.time_in_force) {
    case lt::CancelAllTimeInForce::kImmediate: {
      std::string symbol;
      const auto& m = c.attributes.cancel_all_market_index;
      if (m.has_value() && *m != 255) {
        const SimInstrument* in = ByMarketId(*m);
        if (in == nullptr) {
          *event_info = R"({"error":"unknown market"})";
          return false;
        }
        symbol = in->symbol();
      }
      std::vector<SimOrder> gone = ctx_->engine().CancelAll(account, symbol);
      *event_info = "{\"canceled\":" + std::to_string(gone.size()) + "}";
      return true;
    }
    case lt::CancelAllTimeInForce::kScheduled:
      scheduled_[tx.account_index] = c.time;
      *event_info = "{\"scheduled_at\":" + std::to_string(c.time) + "}";
      return true;
    case lt::CancelAllTimeInForce::kAbortScheduled: {
      const bool had = scheduled_.erase(tx.account_index) > 0;
      *event_info = had ? R"({"aborted":true})" : R"({"aborted":false})";
      return true;
    }
  }
  *event_info = R"({"error":"invalid time in force"})";
  return false;
}

bool LighterModule::ExecModify(const ParsedTx& tx, const std::string& account,
                               std::string* event_info) {
  const lt::ModifyOrderTx& c = tx.modify;
  const SimOrder* found = ResolveOpen(account, c.market_index, c.index);
  if (found == nullptr) {
    *event_info = R"({"error":"order not found"})";
    return false;
  }
  OrderMeta& current = MetaFor(*found);
  if (found->awaiting_trigger()) {
    // An SL/TP order still waiting for its trigger: amended in place (same order index, nothing
    // trades) - new TriggerPrice (0 keeps it), Price (types 3/5: the limit; 2/4: the slippage
    // bound, kept in the order record only) and BaseAmount. A trigger that already holds is
    // refused by the engine: the tx fails (status 0), the order is unchanged.
    const bool market_form = found->type == OrderType::kMarket;
    AmendRequest ar;
    ar.account = account;
    ar.order_id = found->id;
    ar.price = market_form ? 0 : static_cast<int64_t>(c.price);
    ar.qty = c.base_amount;
    ar.trigger_price = c.trigger_price;
    ar.allow_parked = true;
    const int64_t order_index = current.order_index;
    AmendResult r = ctx_->engine().Amend(ar);
    if (r.code != RejectCode::kNone) {
      *event_info = "{\"error\":\"" + r.message + "\"}";
      return false;
    }
    OrderMeta& meta = MetaFor(r.order);
    meta.price = c.price;
    meta.nonce = c.nonce;
    if (c.trigger_price != 0) meta.trigger_price = c.trigger_price;
    *event_info = "{\"modified_order_index\":" + std::to_string(order_index) + "}";
    return true;
  }
  if (c.trigger_price != 0) {
    // A trigger price on an order that has none (or whose trigger already fired): the spec
    // gives no error text; the safe reading fails the tx and leaves the order as it is.
    *event_info = R"({"error":"trigger price on an order that is not a waiting trigger order"})";
    return false;
  }
  // The engine has no in-place modify: cancel + replace, the replacement keeps the order index
  // and client index and carries the fills so far; the replaced incarnation's events are hidden.
  const SimOrder old = *found;
  OrderMeta meta = MetaFor(old);
  suppressed_.insert(old.id);
  PlaceRequest pr;
  pr.account = account;
  pr.symbol = old.instrument->symbol();
  pr.client_id = old.client_id;
  pr.side = old.side;
  pr.type = OrderType::kLimit;  // only limit orders rest
  pr.tif = old.tif;
  pr.reduce_only = old.reduce_only;
  pr.price = c.price;
  pr.qty = c.base_amount;  // the new remaining size
  deferring_ = true;
  (void)ctx_->engine().Cancel(account, old.id);
  PlaceResult r = ctx_->engine().Place(pr);
  deferring_ = false;
  meta.carried_qty += old.filled;
  meta.carried_notional += old.filled_notional;
  meta.price = c.price;
  meta.nonce = c.nonce;
  uint64_t id = r.order.id;
  if (id == 0) {
    SimOrder o = old;
    o.price = pr.price;
    o.qty = pr.qty;
    o.filled = 0;
    o.filled_notional = 0;
    o.reject = r.code;
    o.reason_text = r.message;
    id = next_refused_id_;
    const int64_t keep = meta.order_index;
    RecordRefused(o, meta);
    meta_[id].order_index = keep;
  } else {
    meta_[id] = meta;
    engine_by_index_[meta.order_index] = id;
  }
  FlushDeferred();
  *event_info = "{\"modified_order_index\":" + std::to_string(meta.order_index) + "}";
  return true;
}

// The engine keeps whole leverages: the IMF maps to the nearest one (10 000 / IMF, at least 1),
// which the sequencer refuses (status 0) above the market's maximum, as the venue does below its
// min_initial_margin_fraction.
bool LighterModule::ExecUpdateLeverage(const ParsedTx& tx, const std::string& account,
                                       std::string* event_info) {
  const lt::UpdateLeverageTx& c = tx.leverage;
  const SimInstrument* in = ByMarketId(c.market_index);
  if (in == nullptr) {
    *event_info = R"({"error":"unknown market"})";
    return false;
  }
  // MarginMode (0 cross, 1 isolated) on the engine's per-market isolated margin. The engine
  // refuses a switch while the market has a position or open orders; the spec says nothing of
  // that case, so the safe reading fails the tx (status 0) and changes nothing.
  const bool isolated = c.margin_mode == lt::MarginMode::kIsolated;
  const MarginResult mr = ctx_->engine().SetIsolated(account, in->symbol(), isolated);
  if (mr == MarginResult::kHasPosition || mr == MarginResult::kHasOpenOrders) {
    *event_info = mr == MarginResult::kHasPosition
                      ? R"({"error":"margin mode cannot change with a position on the market"})"
                      : R"({"error":"margin mode cannot change with open orders on the market"})";
    return false;
  }
  const int64_t imf = c.initial_margin_fraction;
  const int64_t lev = std::max<int64_t>(1, (lt::kMarginFractionTick + imf / 2) / imf);
  absl::Status st = ctx_->engine().SetLeverage(account, in->symbol(), static_cast<int>(lev));
  if (!st.ok()) {
    *event_info = "{\"error\":\"initial margin fraction " + std::to_string(imf) +
                  " is below the market's minimum\"}";
    return false;
  }
  leverage_markets_[account].insert(in->spec.market_id);
  *event_info = "{\"market_index\":" + std::to_string(c.market_index) +
                ",\"initial_margin_fraction\":" + std::to_string(imf) +
                ",\"margin_mode\":" + std::to_string(isolated ? 1 : 0) + "}";
  return true;
}

}  // namespace perpgw::sim::lighter
