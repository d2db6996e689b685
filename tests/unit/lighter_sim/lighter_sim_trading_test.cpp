// Loopback tests of perpgw-sim's Lighter trading (lighter.md §6-§10): transactions signed with
// the adapter's signing library and sent as the adapter sends them (EncodeSendTxForm /
// EncodeSendTxBatchForm, multipart too, jsonapi/sendtx over WS); the sim's verification (nonce,
// signature, expiry), execution (rests, crosses, post-only, cancel by client / order index,
// cancel all, modify, batches), the auth-token endpoints and account channels, all read back with
// the adapter's codec; and the sequencer_reject, nonce_jump, chain_id and http_error faults.
#include <simdjson.h>
#include <catch2/catch.hpp>

#include "absl/strings/numbers.h"
#include "adapters/lighter/codec.h"
#include "adapters/lighter/errors.h"
#include "adapters/lighter/lighter_poseidon2.h"
#include "tests/unit/lighter_sim/lighter_sim_fixture.h"

namespace perpgw::sim::lighter {
namespace {

namespace lt = perpgw::adapters::lighter;
using namespace perpgw::testing::loopback;
using namespace perpgw::sim::lighter::testing;

constexpr int64_t kAcct1 = 12345;
constexpr int64_t kAcct2 = 12346;

int64_t NextNonce(Sim& sim, const Trader& t) {
  auto r = sim.Get("/api/v1/nextNonce?account_index=" + std::to_string(t.account) +
                   "&api_key_index=" + std::to_string(t.api_key));
  REQUIRE(r.status == 200);
  auto n = sim.codec.ParseNextNonce(r.body);
  REQUIRE(n.ok());
  return *n;
}

// POST sendTx as the adapter does; returns the answer.
HttpResult Send(Sim& sim, const lt::SignedTx& s) {
  return sim.Post("/api/v1/sendTx", lt::EncodeSendTxForm(s.tx_type, s.tx_info));
}

// Sends and requires acceptance with the signed hash.
void Accept(Sim& sim, const lt::SignedTx& s) {
  auto r = Send(sim, s);
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto a = sim.codec.ParseSendTx(r.body);
  REQUIRE(a.ok());
  CHECK(a->code == 200);
  REQUIRE(a->tx_hashes.size() == 1);
  CHECK(a->tx_hashes[0] == s.hash_hex);
}

std::vector<Order> Active(Sim& sim, const Trader& t, int64_t market) {
  auto r = sim.Get("/api/v1/accountActiveOrders?account_index=" + std::to_string(t.account) +
                       "&market_id=" + std::to_string(market),
                   t.Auth());
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto o = sim.codec.ParseOrders(r.body, sim.symbols);
  REQUIRE(o.ok());
  return *o;
}

std::vector<Order> Inactive(Sim& sim, const Trader& t, int limit = 100,
                            const std::string& cursor = "", std::string* next = nullptr) {
  auto r =
      sim.Get("/api/v1/accountInactiveOrders?account_index=" + std::to_string(t.account) +
                  "&limit=" + std::to_string(limit) + (cursor.empty() ? "" : "&cursor=" + cursor),
              t.Auth());
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto o = sim.codec.ParseOrders(r.body, sim.symbols, next);
  REQUIRE(o.ok());
  return *o;
}

std::optional<Order> FindClient(const std::vector<Order>& orders, int64_t client_index) {
  for (const Order& o : orders) {
    if (o.client_order_id == std::to_string(client_index)) return o;
  }
  return std::nullopt;
}

// Waits until the order with this client index reads `want` in the inactive history.
std::optional<Order> WaitInactive(Sim& sim, const Trader& t, int64_t client_index) {
  std::optional<Order> found;
  WaitUntil([&] {
    found = FindClient(Inactive(sim, t), client_index);
    return found.has_value();
  });
  return found;
}

// ETH (market 0) best bid / ask as scaled prices (price decimals 2).
std::pair<uint32_t, uint32_t> Bbo(Sim& sim) {
  auto r = sim.Get("/api/v1/orderBookOrders?market_id=0&limit=1");
  auto b = sim.codec.ParseOrderBookOrders(r.body, sim.markets[0].instrument, 0);
  REQUIRE(b.ok());
  REQUIRE(!b->bids.empty());
  REQUIRE(!b->asks.empty());
  return {static_cast<uint32_t>(b->bids[0].price), static_cast<uint32_t>(b->asks[0].price)};
}

int64_t TxStatus(Sim& sim, const std::string& hash) {
  auto r = sim.Get("/api/v1/tx?by=hash&value=" + hash);
  REQUIRE(r.status == 200);
  auto t = sim.codec.ParseTx(r.body);
  REQUIRE(t.ok());
  CHECK(t->hash == hash);
  return t->status;
}

}  // namespace

TEST_CASE("lighter sim: nonces, signatures and expiry of sendTx", "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  Trader other = Trader::Make(sim, kApiKey2, kAcct1, 2);  // the wrong key for 12345/2
  CHECK(NextNonce(sim, t) == 0);

  // apikeys: the registered public key is the one derived from the test account's key.
  auto keys = sim.Get("/api/v1/apikeys?account_index=12345&api_key_index=255");
  REQUIRE(keys.status == 200);
  CHECK(keys.body.find(lt::ToHex(t.key.public_key())) != std::string::npos);
  CHECK(sim.ErrorCode(sim.Get("/api/v1/apikeys?account_index=9").body) == kErrAccountNotFound);

  auto [bid, ask] = Bbo(sim);
  const uint32_t px = bid - 2000;  // 20 USDC under the bid: rests
  auto s = t.Sign(t.Order(0, 0, 1001, 100, px, false));
  Accept(sim, s);
  CHECK(NextNonce(sim, t) == 1);
  std::optional<Order> o;
  REQUIRE(WaitUntil([&] { return (o = FindClient(Active(sim, t, 0), 1001)).has_value(); }));
  CHECK(o->status == OrderStatus::kOpen);
  CHECK(o->symbol == "ETH");
  CHECK(o->side == Side::kBuy);
  CHECK(o->size == *Decimal::Parse("0.01"));
  CHECK(o->price == Decimal::FromUnits(px, 2));
  CHECK(o->tif == TimeInForce::kGtc);
  int64_t order_index = 0;
  REQUIRE(absl::SimpleAtoi(o->order_id, &order_index));
  CHECK(order_index >= kOrderIndexBase);
  REQUIRE(WaitUntil([&] { return TxStatus(sim, s.hash_hex) == lt::TxStatus::kFinal; }));

  // A wrong signature, a wrong nonce, an expired tx: refused, the nonce not consumed.
  auto bad_sig = Send(sim, other.Sign(other.Order(1, 0, 1002, 100, px, false)));
  CHECK(bad_sig.status == 400);
  CHECK(sim.ErrorCode(bad_sig.body) == kErrInvalidSignature);
  auto bad_nonce = Send(sim, t.Sign(t.Order(5, 0, 1002, 100, px, false)));
  CHECK(bad_nonce.status == 400);
  CHECK(sim.ErrorCode(bad_nonce.body) == lt::kCodeInvalidNonce);
  auto classified =
      lt::ClassifyApiAnswer(bad_nonce.status, bad_nonce.body, RequestKind::kOrderEntry);
  CHECK(classified.action == ErrorAction::kResyncClock);
  CHECK(classified.retry == RetryClass::kRetryable);
  lt::CreateOrderTx late = t.Order(1, 0, 1002, 100, px, false);
  late.expired_at = sim.NowMs() - 1;
  auto expired = Send(sim, t.Sign(late));
  CHECK(expired.status == 400);
  CHECK(sim.ErrorCode(expired.body) == kErrTxExpired);
  auto sendtx_parsed = sim.codec.ParseSendTx(expired.body);
  REQUIRE(sendtx_parsed.ok());
  CHECK(sendtx_parsed->code == kErrTxExpired);
  CHECK(sim.Post("/api/v1/sendTx", "tx_type=14&tx_info=%7B%7D").status == 400);
  CHECK(sim.ErrorCode(sim.Post("/api/v1/sendTx", "tx_type=14&tx_info=%7B%7D").body) ==
        kErrInvalidTxInfo);
  CHECK(sim.ErrorCode(sim.Post("/api/v1/sendTx", "tx_type=8&tx_info=%7B%7D").body) ==
        kErrNotModelled);
  CHECK(NextNonce(sim, t) == 1);

  // multipart/form-data, as some SDKs send it.
  auto m = t.Sign(t.Order(1, 0, 1003, 100, px - 100, false));
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"tx_type\"\r\n\r\n14\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"tx_info\"\r\n\r\n" +
      m.tx_info + "\r\n--XyZ--\r\n";
  auto mp = sim.Post("/api/v1/sendTx", body, "multipart/form-data; boundary=XyZ");
  INFO(mp.body);
  CHECK(mp.status == 200);
  CHECK(NextNonce(sim, t) == 2);
  REQUIRE(WaitUntil([&] { return FindClient(Active(sim, t, 0), 1003).has_value(); }));

  // Unknown tx hash; GET only on the read endpoints.
  CHECK(sim.ErrorCode(sim.Get("/api/v1/tx?by=hash&value=00").body) == kErrTxNotFound);
  CHECK(sim.Get("/api/v1/sendTx").status == 405);
}

TEST_CASE("lighter sim: execution - post-only, IOC fills, trades, positions, account",
          "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  auto [bid, ask] = Bbo(sim);

  // Post-only at the ask would take liquidity: accepted, then canceled-post-only.
  auto po = t.Sign(t.Order(0, 0, 7, 100, ask, false, lt::TimeInForce::kPostOnly));
  Accept(sim, po);
  auto rejected = WaitInactive(sim, t, 7);
  REQUIRE(rejected);
  CHECK(rejected->status == OrderStatus::kRejected);
  CHECK(rejected->reason == CancelReason::kPostOnlyViolation);
  CHECK(rejected->reason_text == "canceled-post-only");
  CHECK(TxStatus(sim, po.hash_hex) == lt::TxStatus::kFinal);  // executed (order canceled)

  // Below the minimum base amount (0.005 ETH = 50): accepted, then canceled.
  Accept(sim, t.Sign(t.Order(1, 0, 8, 10, bid - 1000, false)));
  auto small = WaitInactive(sim, t, 8);
  REQUIRE(small);
  CHECK(small->status == OrderStatus::kCanceled);
  CHECK(small->reason_text == "canceled-invalid-balance");

  // Reduce-only without a position: canceled-reduce-only.
  lt::CreateOrderTx ro = t.Order(2, 0, 9, 100, bid - 1000, true);
  ro.reduce_only = true;
  Accept(sim, t.Sign(ro));
  auto reduce = WaitInactive(sim, t, 9);
  REQUIRE(reduce);
  CHECK(reduce->reason == CancelReason::kReduceOnly);

  // A live order's client index used again: the new order is refused (canceled-*), the live
  // one stays.
  Accept(sim, t.Sign(t.Order(3, 0, 12, 100, bid - 1000, false)));
  REQUIRE(WaitUntil([&] { return FindClient(Active(sim, t, 0), 12).has_value(); }));
  const std::string live_id = FindClient(Active(sim, t, 0), 12)->order_id;
  Accept(sim, t.Sign(t.Order(4, 0, 12, 100, bid - 2000, false)));
  auto dup = WaitInactive(sim, t, 12);
  REQUIRE(dup);
  CHECK(dup->order_id != live_id);
  CHECK(dup->status == OrderStatus::kCanceled);
  CHECK(dup->reason_text == "canceled-invalid-balance");
  CHECK(FindClient(Active(sim, t, 0), 12)->order_id == live_id);
  Accept(sim, t.Sign(t.Cancel(5, 0, 12)));
  REQUIRE(WaitUntil([&] { return Active(sim, t, 0).empty(); }));

  // IOC buy through the ask: fills 0.02 ETH against the generated book; nothing rests.
  Accept(sim,
         t.Sign(t.Order(6, 0, 10, 200, ask + 500, false, lt::TimeInForce::kImmediateOrCancel)));
  auto filled = WaitInactive(sim, t, 10);
  REQUIRE(filled);
  CHECK(filled->status == OrderStatus::kFilled);
  CHECK(filled->filled_size == *Decimal::Parse("0.02"));
  CHECK((filled->avg_fill_price.has_value() && filled->avg_fill_price->IsPositive()));
  CHECK(Active(sim, t, 0).empty());

  auto tr = sim.Get("/api/v1/trades?account_index=12345&market_id=0&sort_by=timestamp&limit=50",
                    t.Auth());
  INFO(tr.body);
  REQUIRE(tr.status == 200);
  auto fills = sim.codec.ParseFills(tr.body, sim.symbols, kAcct1);
  REQUIRE(fills.ok());
  REQUIRE(!fills->empty());
  Decimal total;
  for (const Fill& f : *fills) {
    CHECK(f.symbol == "ETH");
    CHECK(f.side == Side::kBuy);
    CHECK_FALSE(f.maker);
    CHECK(f.order_id == filled->order_id);
    CHECK(f.client_order_id == "10");
    CHECK(f.fee.IsPositive());  // taker fee 0.0002
    total = *Decimal::Add(total, f.size);
  }
  CHECK(total == *Decimal::Parse("0.02"));
  // The other side is the market maker, never account 12346.
  CHECK(sim.codec.ParseFills(tr.body, sim.symbols, kAcct2)->empty());

  auto acct = sim.Get("/api/v1/account?by=index&value=12345");
  INFO(acct.body);
  REQUIRE(acct.status == 200);
  auto state = sim.codec.ParseAccount(acct.body, sim.symbols, kAcct1);
  REQUIRE(state.ok());
  CHECK(state->account_index == kAcct1);
  CHECK(state->collateral < *Decimal::Parse("100000"));  // fees paid
  REQUIRE(state->positions.size() == 1);
  CHECK(state->positions[0].symbol == "ETH");
  CHECK(state->positions[0].size == *Decimal::Parse("0.02"));
  CHECK(state->positions[0].leverage == *Decimal::Parse("20"));
  CHECK(sim.ErrorCode(sim.Get("/api/v1/account?by=index&value=777").body) == kErrAccountNotFound);

  // Now reduce-only sells work (market order at a worst price under the bid).
  lt::CreateOrderTx close = t.Order(7, 0, 11, 200, bid - 5000, true,
                                    lt::TimeInForce::kImmediateOrCancel, lt::OrderType::kMarket);
  close.reduce_only = true;
  Accept(sim, t.Sign(close));
  auto closed = WaitInactive(sim, t, 11);
  REQUIRE(closed);
  CHECK(closed->status == OrderStatus::kFilled);
  REQUIRE(WaitUntil([&] {
    auto a = sim.codec.ParseAccount(sim.Get("/api/v1/account?by=index&value=12345").body,
                                    sim.symbols, kAcct1);
    return a.ok() && a->positions.empty();
  }));
}

TEST_CASE("lighter sim: cancel by client and order index, modify, cancel all, batches",
          "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  auto [bid, ask] = Bbo(sim);
  (void)ask;
  // A batch of three resting orders.
  std::vector<lt::SignedTx> batch;
  for (int k = 0; k < 3; ++k) {
    batch.push_back(t.Sign(t.Order(k, 0, 21 + k, 100, bid - 1000 - 100 * k, false)));
  }
  auto send_batch = [&](const std::vector<lt::SignedTx>& txs) {
    std::vector<lt::TxType> types;
    std::vector<std::string> infos;
    for (const auto& s : txs) {
      types.push_back(s.tx_type);
      infos.push_back(s.tx_info);
    }
    return sim.Post("/api/v1/sendTxBatch", lt::EncodeSendTxBatchForm(types, infos));
  };
  auto b = send_batch(batch);
  INFO(b.body);
  REQUIRE(b.status == 200);
  auto parsed = sim.codec.ParseSendTx(b.body);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->tx_hashes.size() == 3);
  for (int k = 0; k < 3; ++k) CHECK(parsed->tx_hashes[k] == batch[k].hash_hex);
  CHECK(NextNonce(sim, t) == 3);
  REQUIRE(WaitUntil([&] { return Active(sim, t, 0).size() == 3; }));

  // A batch over 50 (REST sendTxBatch, the docs page's limit) is refused whole.
  std::vector<lt::SignedTx> big;
  for (int k = 0; k < 51; ++k) big.push_back(t.Sign(t.Cancel(3 + k, 0, 21)));
  auto too_big = send_batch(big);
  CHECK(too_big.status == 400);
  CHECK(sim.ErrorCode(too_big.body) == kErrBatchTooLarge);
  CHECK(NextNonce(sim, t) == 3);

  // Cancel by client order index.
  Accept(sim, t.Sign(t.Cancel(3, 0, 21)));
  REQUIRE(WaitUntil([&] { return !FindClient(Active(sim, t, 0), 21); }));
  auto c21 = WaitInactive(sim, t, 21);
  REQUIRE(c21);
  CHECK(c21->status == OrderStatus::kCanceled);
  CHECK(c21->reason == CancelReason::kUserCanceled);
  // Cancel by exchange order index.
  auto o22 = FindClient(Active(sim, t, 0), 22);
  REQUIRE(o22);
  int64_t index22 = 0;
  REQUIRE(absl::SimpleAtoi(o22->order_id, &index22));
  Accept(sim, t.Sign(t.Cancel(4, 0, index22)));
  REQUIRE(WaitUntil([&] { return !FindClient(Active(sim, t, 0), 22); }));
  // Cancelling it again: accepted, then the tx fails (status 0).
  auto again = t.Sign(t.Cancel(5, 0, index22));
  Accept(sim, again);
  REQUIRE(WaitUntil([&] { return TxStatus(sim, again.hash_hex) == lt::TxStatus::kFailed; }));

  // Modify: new price and size, same order index and client index.
  auto o23 = FindClient(Active(sim, t, 0), 23);
  REQUIRE(o23);
  const uint32_t new_px = bid - 3000;
  Accept(sim, t.Sign(t.Modify(6, 0, 23, 300, new_px)));
  std::optional<Order> mod;
  REQUIRE(WaitUntil([&] {
    mod = FindClient(Active(sim, t, 0), 23);
    return mod && mod->price == Decimal::FromUnits(new_px, 2);
  }));
  CHECK(mod->order_id == o23->order_id);
  CHECK(mod->size == *Decimal::Parse("0.03"));
  CHECK(mod->status == OrderStatus::kOpen);
  CHECK(Active(sim, t, 0).size() == 1);

  // Cancel all (and a second order on BTC, market 1).
  Accept(sim, t.Sign(t.Order(7, 1, 31, 100, 900000, false)));  // 0.001 BTC at 90000.0
  REQUIRE(WaitUntil([&] { return Active(sim, t, 1).size() == 1; }));
  Accept(sim, t.Sign(t.CancelAll(8)));
  REQUIRE(WaitUntil([&] { return Active(sim, t, 0).empty() && Active(sim, t, 1).empty(); }));
  auto m23 = WaitInactive(sim, t, 23);
  REQUIRE(m23);
  CHECK(m23->order_id == o23->order_id);
  CHECK(m23->status == OrderStatus::kCanceled);

  // Inactive paging: newest first, cursor chain to the end.
  std::string next;
  auto page = Inactive(sim, t, 2, "", &next);
  REQUIRE(page.size() == 2);
  CHECK(page[0].client_order_id == "31");
  CHECK(page[1].client_order_id == "23");
  CHECK_FALSE(next.empty());
  auto page2 = Inactive(sim, t, 2, next, &next);
  REQUIRE(page2.size() == 2);
  CHECK(page2[0].client_order_id == "22");
  CHECK(page2[1].client_order_id == "21");
  CHECK(next.empty());  // the end
}

TEST_CASE("lighter sim: auth tokens on private REST and account channels", "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  Trader t2 = Trader::Make(sim, kApiKey2, kAcct2, 3);
  const std::string path = "/api/v1/accountActiveOrders?account_index=12345&market_id=0";
  auto missing = sim.Get(path);
  CHECK(missing.status == 400);
  CHECK(sim.ErrorCode(missing.body) == kErrAuthMissing);
  CHECK(lt::ClassifyApiAnswer(400, missing.body, RequestKind::kQuery).status_code ==
        absl::StatusCode::kUnauthenticated);
  CHECK(sim.ErrorCode(sim.Get(path, {{"Authorization", "1:2:3:zz"}}).body) == kErrAuthInvalid);
  // Another account's token, a forged one (signed by the wrong key), an expired one, one whose
  // deadline is beyond 8 h.
  CHECK(sim.ErrorCode(sim.Get(path, t2.Auth()).body) == kErrAuthInvalid);
  Trader forged = Trader::Make(sim, kApiKey2, kAcct1, 2);
  CHECK(sim.ErrorCode(sim.Get(path, forged.Auth()).body) == kErrAuthInvalid);
  CHECK(sim.ErrorCode(sim.Get(path, {{"Authorization", t.Token(-10)}}).body) == kErrAuthExpired);
  CHECK(sim.ErrorCode(sim.Get(path, {{"Authorization", t.Token(9 * 3600)}}).body) ==
        kErrAuthExpired);
  CHECK(sim.Get(path, {{"Authorization", t.Token(8 * 3600)}}).status == 200);  // 8 h inclusive
  auto q = sim.Get(path + "&auth=" + t.Token());  // as a query parameter (hex + ':' only)
  CHECK(q.status == 200);

  WsClient ws(sim.port, "/stream");
  REQUIRE(ws.ok());
  REQUIRE(ws.ReadText("\"connected\""));
  ws.Send(lt::EncodeSubscribe(lt::AccountAllOrdersChannel(kAcct1)));
  auto err = ws.ReadText("\"error\"");
  REQUIRE(err);
  lt::WsFrameInfo info;
  REQUIRE(sim.codec.ClassifyWsFrame(*err, &info).ok());
  CHECK(info.type == lt::WsType::kError);
  CHECK(info.error_code == kWsErrAuth);
  ws.Send(lt::EncodeSubscribe(lt::AccountAllOrdersChannel(kAcct1), t2.Token()));
  CHECK(ws.ReadText("invalid auth token"));
  // Not subscribed: the good token now subscribes (no 30003).
  ws.Send(lt::EncodeSubscribe(lt::AccountAllOrdersChannel(kAcct1), t.Token()));
  CHECK(NextOf(ws, sim.codec, lt::WsType::kSubscribed, lt::ChannelKind::kAccountAllOrders));
}

TEST_CASE("lighter sim: account channels and jsonapi/sendtx over WS", "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  auto [bid, ask] = Bbo(sim);
  WsClient ws(sim.port, "/stream");
  REQUIRE(ws.ok());
  REQUIRE(ws.ReadText("\"connected\""));
  const std::string token = t.Token();
  for (const std::string& ch :
       {lt::AccountAllOrdersChannel(kAcct1), lt::AccountAllTradesChannel(kAcct1),
        lt::AccountAllPositionsChannel(kAcct1), lt::UserStatsChannel(kAcct1),
        lt::NotificationChannel(kAcct1)}) {
    ws.Send(lt::EncodeSubscribe(ch, token));
  }
  auto snap = NextOf(ws, sim.codec, lt::WsType::kSubscribed, lt::ChannelKind::kUserStats);
  REQUIRE(snap);
  auto stats = sim.codec.ParseUserStats(*snap);
  REQUIRE(stats.ok());
  CHECK(*stats->collateral == *Decimal::Parse("100000"));
  CHECK(*stats->available_balance == *Decimal::Parse("100000"));
  REQUIRE(NextOf(ws, sim.codec, lt::WsType::kSubscribed, lt::ChannelKind::kNotification));

  // jsonapi/sendtx with tx_info as an object: a resting order.
  auto rest = t.Sign(t.Order(0, 0, 501, 100, bid - 1000, false));
  ws.Send(R"({"type":"jsonapi/sendtx","id":"7","data":{"tx_type":14,"tx_info":)" + rest.tx_info +
          "}}");
  auto reply = NextOf(ws, sim.codec, lt::WsType::kSendTx, lt::ChannelKind::kOther);
  REQUIRE(reply);
  auto sent = sim.codec.ParseSendTx(*reply);
  REQUIRE(sent.ok());
  CHECK(sent->code == 200);
  // The hash is both top-level (lighter.md §5) and in `data`: the codec lists it twice.
  REQUIRE(!sent->tx_hashes.empty());
  for (const std::string& h : sent->tx_hashes) CHECK(h == rest.hash_hex);
  auto up = NextOf(ws, sim.codec, lt::WsType::kUpdate, lt::ChannelKind::kAccountAllOrders);
  REQUIRE(up);
  auto orders = sim.codec.ParseOrders(*up, sim.symbols);
  REQUIRE(orders.ok());
  REQUIRE(orders->size() == 1);
  CHECK((*orders)[0].client_order_id == "501");
  CHECK((*orders)[0].status == OrderStatus::kOpen);

  // jsonapi/sendtx with tx_info as a string: an IOC that crosses → order, trade, position,
  // stats updates.
  auto ioc = t.Sign(t.Order(1, 0, 502, 100, ask + 300, false, lt::TimeInForce::kImmediateOrCancel));
  std::string quoted;
  {
    JsonWriter w;
    w.String(ioc.tx_info);
    quoted = w.Take();
  }
  ws.Send(R"({"type":"jsonapi/sendtx","data":{"tx_type":14,"tx_info":)" + quoted + "}}");
  auto reply2 = NextOf(ws, sim.codec, lt::WsType::kSendTx, lt::ChannelKind::kOther);
  REQUIRE(reply2);
  CHECK(sim.codec.ParseSendTx(*reply2)->tx_hashes.at(0) == ioc.hash_hex);
  auto trade = NextOf(ws, sim.codec, lt::WsType::kUpdate, lt::ChannelKind::kAccountAllTrades);
  REQUIRE(trade);
  auto fills = sim.codec.ParseFills(*trade, sim.symbols, kAcct1);
  REQUIRE(fills.ok());
  REQUIRE(fills->size() == 1);
  CHECK((*fills)[0].client_order_id == "502");
  CHECK((*fills)[0].side == Side::kBuy);
  auto pos = NextOf(ws, sim.codec, lt::WsType::kUpdate, lt::ChannelKind::kAccountAllPositions);
  REQUIRE(pos);
  auto positions = sim.codec.ParsePositions(*pos, sim.symbols);
  REQUIRE(positions.ok());
  REQUIRE(positions->size() == 1);
  CHECK((*positions)[0].size == *Decimal::Parse("0.01"));
  auto us = NextOf(ws, sim.codec, lt::WsType::kUpdate, lt::ChannelKind::kUserStats);
  REQUIRE(us);
  auto stats2 = sim.codec.ParseUserStats(*us);
  REQUIRE(stats2.ok());
  CHECK(*stats2->available_balance < *Decimal::Parse("100000"));

  // jsonapi/sendtxbatch: two cancels' worth (one of each index kind); a bad nonce refuses both.
  auto c1 = t.Sign(t.Cancel(2, 0, 501));
  auto c2 = t.Sign(t.Cancel(3, 0, 999));
  std::string infos;
  {
    JsonWriter w;
    w.BeginArray().String(c1.tx_info).String(c2.tx_info).EndArray();
    JsonWriter q;
    q.String(w.Take());
    infos = q.Take();
  }
  ws.Send(R"({"type":"jsonapi/sendtxbatch","data":{"tx_types":"[15,15]","tx_infos":)" + infos +
          "}}");
  auto breply = NextOf(ws, sim.codec, lt::WsType::kSendTx, lt::ChannelKind::kOther);
  REQUIRE(breply);
  auto bsent = sim.codec.ParseSendTx(*breply);
  REQUIRE(bsent.ok());
  CHECK(bsent->code == 200);
  REQUIRE(bsent->tx_hashes.size() == 2);
  CHECK(bsent->tx_hashes[1] == c2.hash_hex);
  auto canceled = NextOf(ws, sim.codec, lt::WsType::kUpdate, lt::ChannelKind::kAccountAllOrders);
  REQUIRE(canceled);
  CHECK(sim.codec.ParseOrders(*canceled, sim.symbols)->at(0).status == OrderStatus::kCanceled);
  ws.Send(R"({"type":"jsonapi/sendtx","data":{"tx_type":14,"tx_info":)" + rest.tx_info + "}}");
  auto dup = NextOf(ws, sim.codec, lt::WsType::kSendTx, lt::ChannelKind::kOther);
  REQUIRE(dup);
  CHECK(sim.codec.ParseSendTx(*dup)->code == lt::kCodeInvalidNonce);
  REQUIRE(sim.codec.ParseError(*dup).has_value());

  // A liquidation (the core's fault): a liquidation trade and a notification.
  REQUIRE(sim.Control(http::verb::post, "/fault",
                      R"({"venue":"lighter","kind":"liquidate","account":"lighter-1"})")
              .status == 200);
  auto liq = NextOf(ws, sim.codec, lt::WsType::kUpdate, lt::ChannelKind::kAccountAllTrades);
  REQUIRE(liq);
  auto lf = sim.codec.ParseFills(*liq, sim.symbols, kAcct1);
  REQUIRE(lf.ok());
  REQUIRE(lf->size() == 1);
  CHECK((*lf)[0].liquidation);
  CHECK((*lf)[0].side == Side::kSell);
  auto note = NextOf(ws, sim.codec, lt::WsType::kUpdate, lt::ChannelKind::kNotification);
  REQUIRE(note);
  CHECK(note->find("\"liquidation\"") != std::string::npos);
}

TEST_CASE("lighter sim: GTT expiry, scheduled cancel-all, account_orders, config accounts",
          "[lighter_sim]") {
  VenueConfig vc;
  AccountSpec a;
  a.id = "desk";
  a.asset = "USDC";
  a.balance = "5000";
  a.maker_fee = "0";
  a.taker_fee = "0";
  a.credentials = {{"account_index", "777"}, {"api_key_index", "5"}, {"api_private_key", kApiKey2}};
  vc.accounts.push_back(a);
  Sim sim(vc);
  Trader t = Trader::Make(sim, kApiKey2, 777, 5);
  CHECK(NextNonce(sim, t) == 0);
  CHECK(sim.ErrorCode(sim.Get("/api/v1/nextNonce?account_index=12345&api_key_index=2").body) ==
        kErrApiKeyNotFound);  // the config replaced the default accounts
  auto [bid, ask] = Bbo(sim);
  (void)ask;

  WsClient ws(sim.port, "/stream");
  REQUIRE(ws.ok());
  REQUIRE(ws.ReadText("\"connected\""));
  ws.Send(lt::EncodeSubscribe("account_orders/0/777", t.Token()));
  auto sub = NextOf(ws, sim.codec, lt::WsType::kSubscribed, lt::ChannelKind::kAccountOrders);
  REQUIRE(sub);
  lt::WsFrameInfo info;
  REQUIRE(sim.codec.ClassifyWsFrame(*sub, &info).ok());
  CHECK(info.market_index == 0);
  CHECK(info.account_index == 777);

  // A GTT order expiring in 1 s: the sim clock moves past it, the order ends canceled-expired.
  lt::CreateOrderTx gtt = t.Order(0, 0, 61, 100, bid - 1000, false);
  gtt.order_expiry = sim.NowMs() + 1000;
  Accept(sim, t.Sign(gtt));
  auto open = NextOf(ws, sim.codec, lt::WsType::kUpdate, lt::ChannelKind::kAccountOrders);
  REQUIRE(open);
  CHECK(sim.codec.ParseOrders(*open, sim.symbols)->at(0).status == OrderStatus::kOpen);
  sim.clock.Advance(int64_t{2000} * 1'000'000);
  auto gone = NextOf(ws, sim.codec, lt::WsType::kUpdate, lt::ChannelKind::kAccountOrders);
  REQUIRE(gone);
  auto expired = sim.codec.ParseOrders(*gone, sim.symbols);
  REQUIRE(expired.ok());
  CHECK(expired->at(0).status == OrderStatus::kExpired);
  CHECK(expired->at(0).reason_text == "canceled-expired");

  // A scheduled cancel-all (dead-man switch) 5 s ahead; an abort, then a new one that fires.
  Accept(sim, t.Sign(t.Order(1, 0, 62, 100, bid - 1000, false)));
  REQUIRE(WaitUntil([&] { return Active(sim, t, 0).size() == 1; }));
  lt::CancelAllOrdersTx sched = t.CancelAll(2);
  sched.time_in_force = lt::CancelAllTimeInForce::kScheduled;
  sched.time = sim.NowMs() + 5000;
  auto s1 = t.Sign(sched);
  Accept(sim, s1);
  REQUIRE(WaitUntil([&] { return TxStatus(sim, s1.hash_hex) == lt::TxStatus::kFinal; }));
  auto cancel_all_time = [&] {
    auto r = sim.Get("/api/v1/account?by=index&value=777");
    simdjson::dom::parser p;
    return int64_t(p.parse(r.body)["accounts"].at(0)["cancel_all_time"]);
  };
  CHECK(cancel_all_time() == sched.time);
  lt::CancelAllOrdersTx abort = t.CancelAll(3);
  abort.time_in_force = lt::CancelAllTimeInForce::kAbortScheduled;
  auto s2 = t.Sign(abort);
  Accept(sim, s2);
  REQUIRE(WaitUntil([&] { return TxStatus(sim, s2.hash_hex) == lt::TxStatus::kFinal; }));
  CHECK(cancel_all_time() == 0);  // aborted
  sched = t.CancelAll(4);
  sched.time_in_force = lt::CancelAllTimeInForce::kScheduled;
  sched.time = sim.NowMs() + 5000;
  auto s3 = t.Sign(sched);
  Accept(sim, s3);
  REQUIRE(WaitUntil([&] { return TxStatus(sim, s3.hash_hex) == lt::TxStatus::kFinal; }));
  CHECK(Active(sim, t, 0).size() == 1);
  sim.clock.Advance(int64_t{6000} * 1'000'000);
  REQUIRE(WaitUntil([&] { return Active(sim, t, 0).empty(); }));
  CHECK(cancel_all_time() == 0);  // fired
}

TEST_CASE("lighter sim: faults - sequencer_reject, nonce_jump, chain_id, http_error",
          "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  auto [bid, ask] = Bbo(sim);
  (void)ask;
  auto fault = [&](const std::string& body) {
    auto r = sim.Control(http::verb::post, "/fault", body);
    INFO(r.body);
    REQUIRE(r.status == 200);
  };
  fault(R"({"venue":"lighter","kind":"sequencer_reject","count":1})");
  auto dropped = t.Sign(t.Order(0, 0, 41, 100, bid - 1000, false));
  Accept(sim, dropped);                                             // 200 with a hash...
  CHECK(TxStatus(sim, dropped.hash_hex) == lt::TxStatus::kFailed);  // ...never executed
  CHECK(NextNonce(sim, t) == 0);                                    // nonce not consumed
  CHECK(Active(sim, t, 0).empty());
  auto kept = t.Sign(t.Order(0, 0, 41, 100, bid - 1000, false));
  Accept(sim, kept);
  REQUIRE(WaitUntil([&] { return TxStatus(sim, kept.hash_hex) == lt::TxStatus::kFinal; }));
  CHECK(NextNonce(sim, t) == 1);

  // Another process used the key: the client's next nonce is stale.
  fault(
      R"({"venue":"lighter","kind":"nonce_jump","account_index":12345,"api_key_index":2,"by":3})");
  auto stale = Send(sim, t.Sign(t.Cancel(1, 0, 41)));
  CHECK(sim.ErrorCode(stale.body) == lt::kCodeInvalidNonce);
  CHECK(NextNonce(sim, t) == 4);
  Accept(sim, t.Sign(t.Cancel(4, 0, 41)));
  CHECK(
      sim.Control(http::verb::post, "/fault",
                  R"({"venue":"lighter","kind":"nonce_jump","account_index":1,"api_key_index":2})")
          .status == 400);

  // Testnet chain id: mainnet signatures no longer verify.
  fault(R"({"venue":"lighter","kind":"chain_id","chain_id":300})");
  auto mainnet = Send(sim, t.Sign(t.CancelAll(5)));
  CHECK(sim.ErrorCode(mainnet.body) == kErrInvalidSignature);
  t.chain = lt::kTestnetChainId;
  Accept(sim, t.Sign(t.CancelAll(5)));

  // The core's http_error fault on sendTx, in the venue's error shape.
  fault(R"({"venue":"lighter","kind":"http_error","status":503,"path_prefix":"/api/v1/sendTx"})");
  auto injected = Send(sim, t.Sign(t.CancelAll(6)));
  CHECK(injected.status == 503);
  CHECK(sim.ErrorCode(injected.body) == 503);
  CHECK(NextNonce(sim, t) == 6);
}

namespace {

// The raw accountActiveOrders row of one order index (the codec keeps no trigger fields).
std::string RawActive(Sim& sim, const Trader& t, int64_t market, const std::string& order_id) {
  auto r = sim.Get("/api/v1/accountActiveOrders?account_index=" + std::to_string(t.account) +
                       "&market_id=" + std::to_string(market),
                   t.Auth());
  REQUIRE(r.status == 200);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(r.body);
  for (simdjson::dom::element o : doc["orders"].get_array()) {
    if (std::string_view(o["order_id"]) == order_id) return simdjson::minify(o);
  }
  return "";
}

}  // namespace

TEST_CASE("lighter sim: stop-loss / take-profit orders, modify of the trigger, TWAP refused",
          "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  auto [bid, ask] = Bbo(sim);
  // A long of 0.01 ETH to protect.
  Accept(sim, t.Sign(t.Order(0, 0, 1, 100, ask + 500, false, lt::TimeInForce::kImmediateOrCancel)));
  REQUIRE(WaitUntil([&] { return WaitInactive(sim, t, 1).has_value(); }));

  // Sell stop-loss (type 2, market form, IOC): fires when the mark falls to the trigger.
  auto sl_tx = t.Order(1, 0, 2, 100, bid - 5000, true, lt::TimeInForce::kImmediateOrCancel,
                       lt::OrderType::kStopLoss);
  sl_tx.trigger_price = bid - 2000;
  sl_tx.order_expiry = sim.NowMs() + lt::kDefaultGttExpiryMs;
  sl_tx.reduce_only = true;
  Accept(sim, t.Sign(sl_tx));
  // Sell take-profit-limit (type 5, GTT): fires when the mark rises to the trigger.
  auto tp_tx = t.Order(2, 0, 3, 100, ask + 3000, true, lt::TimeInForce::kGoodTillTime,
                       lt::OrderType::kTakeProfitLimit);
  tp_tx.trigger_price = ask + 3000;
  tp_tx.reduce_only = true;
  Accept(sim, t.Sign(tp_tx));
  REQUIRE(WaitUntil([&] { return Active(sim, t, 0).size() == 2; }));
  auto sl = FindClient(Active(sim, t, 0), 2);
  REQUIRE(sl);
  CHECK(sl->status == OrderStatus::kOpen);
  std::string raw = RawActive(sim, t, 0, sl->order_id);
  INFO(raw);
  CHECK(raw.find(R"("type":"stop-loss")") != std::string::npos);
  CHECK(raw.find("\"trigger_price\":\"" + Decimal::FromUnits(bid - 2000, 2).ToString() + "\"") !=
        std::string::npos);
  CHECK(raw.find(R"("trigger_status":"mark-price")") != std::string::npos);
  auto tp = FindClient(Active(sim, t, 0), 3);
  REQUIRE(tp);
  CHECK(RawActive(sim, t, 0, tp->order_id).find(R"("type":"take-profit-limit")") !=
        std::string::npos);

  // Modify with a trigger price: the waiting stop moves its trigger, same order index.
  auto mod = t.Modify(3, 0, 2, 100, bid - 5000);
  mod.trigger_price = bid - 1500;
  auto mod_signed = t.Sign(mod);
  Accept(sim, mod_signed);
  REQUIRE(WaitUntil([&] {
    return TxStatus(sim, mod_signed.hash_hex) == lt::TxStatus::kFinal;
  }));
  raw = RawActive(sim, t, 0, sl->order_id);
  CHECK(raw.find("\"trigger_price\":\"" + Decimal::FromUnits(bid - 1500, 2).ToString() + "\"") !=
        std::string::npos);
  // A trigger price on a plain limit order fails on execution.
  Accept(sim, t.Sign(t.Order(4, 0, 4, 100, bid - 9000, false)));
  auto bad = t.Modify(5, 0, 4, 100, bid - 9000);
  bad.trigger_price = bid - 8000;
  auto bad_signed = t.Sign(bad);
  Accept(sim, bad_signed);
  REQUIRE(WaitUntil(
      [&] { return TxStatus(sim, bad_signed.hash_hex) == lt::TxStatus::kFailed; }));

  // The mark falls through the stop: it fires as a market sell and closes the long; the
  // take-profit stays waiting.
  const std::string mid = Decimal::FromUnits(bid - 2500, 2).ToString();
  REQUIRE(sim.Control(http::verb::post, "/price",
                      R"({"venue":"lighter","symbol":"ETH","mid":")" + mid + R"("})")
              .status == 200);
  auto fired = WaitInactive(sim, t, 2);
  REQUIRE(fired);
  CHECK(fired->status == OrderStatus::kFilled);
  CHECK(FindClient(Active(sim, t, 0), 3).has_value());

  // TWAP (type 6): the spec gives no schedule, refused as not modelled; nonce not consumed.
  auto twap = t.Order(6, 0, 5, 100, bid - 9000, false, lt::TimeInForce::kGoodTillTime,
                      lt::OrderType::kTwap);
  auto tw = Send(sim, t.Sign(twap));
  CHECK(tw.status == 400);
  CHECK(sim.ErrorCode(tw.body) == kErrNotModelled);
  CHECK(NextNonce(sim, t) == 6);
}

namespace {

namespace lti = perpgw::adapters::lighter::internal;

// Test-side signer for tx 28 / 29 (the signing library has no structs for them): preimages as
// the official Go signer builds them, hashed with the library's Poseidon2 primitives.
lti::Fp E(int64_t v) {
  return lti::Fp::FromU64(static_cast<uint64_t>(v));
}
std::array<lti::Fp, 4> NoPad4(const std::vector<lti::Fp>& in) {
  std::array<lti::Fp, lti::kPoseidon2Width> st{};
  for (size_t i = 0; i < in.size(); i += 8) {
    for (size_t j = 0; j < 8 && i + j < in.size(); ++j) st[j] = in[i + j];
    lti::Poseidon2Permute(st);
  }
  return {st[0], st[1], st[2], st[3]};
}
lt::SignedTx SignPreimage(const Trader& t, int type, const std::vector<lti::Fp>& pre,
                          const std::string& info_head, const std::string& info_tail) {
  lt::TxHash h = lti::Fp5ToBytes(lti::HashToQuinticExtension(pre));
  auto sig = t.key.Sign(h);
  REQUIRE(sig.ok());
  lt::SignedTx s;
  s.tx_type = static_cast<lt::TxType>(type);
  s.hash = h;
  s.hash_hex = lt::ToHex(h);
  s.signature = *sig;
  s.tx_info = info_head + info_tail + ",\"Sig\":\"" + lt::SignatureToBase64(*sig) + "\"}";
  return s;
}
struct GroupOrder {
  int64_t market = 0, client = 0, base = 0;
  uint32_t price = 0;
  bool ask = false;
  int type = 0, tif = 1;
  bool reduce_only = false;
  uint32_t trigger = 0;
  int64_t expiry = 0;
};
lt::SignedTx Grouped(const Trader& t, int64_t nonce, int grouping,
                     const std::vector<GroupOrder>& orders) {
  const int64_t expired = t.sim->NowMs() + lt::kDefaultTxExpiryMs;
  std::array<lti::Fp, 4> agg{};
  std::string json = "[";
  for (size_t k = 0; k < orders.size(); ++k) {
    const GroupOrder& o = orders[k];
    auto h = NoPad4({E(o.market), E(o.client), E(o.base), E(o.price), E(o.ask), E(o.type),
                     E(o.tif), E(o.reduce_only), E(o.trigger), E(o.expiry)});
    agg = k == 0 ? h : NoPad4({agg[0], agg[1], agg[2], agg[3], h[0], h[1], h[2], h[3]});
    if (k > 0) json += ",";
    json += "{\"MarketIndex\":" + std::to_string(o.market) +
            ",\"ClientOrderIndex\":" + std::to_string(o.client) +
            ",\"BaseAmount\":" + std::to_string(o.base) + ",\"Price\":" + std::to_string(o.price) +
            ",\"IsAsk\":" + std::to_string(o.ask ? 1 : 0) + ",\"Type\":" + std::to_string(o.type) +
            ",\"TimeInForce\":" + std::to_string(o.tif) +
            ",\"ReduceOnly\":" + std::to_string(o.reduce_only ? 1 : 0) +
            ",\"TriggerPrice\":" + std::to_string(o.trigger) +
            ",\"OrderExpiry\":" + std::to_string(o.expiry) + "}";
  }
  json += "]";
  std::vector<lti::Fp> pre = {E(lt::kMainnetChainId), E(28),         E(nonce),
                              E(expired),             E(t.account),  E(t.api_key),
                              E(grouping),            agg[0],        agg[1],
                              agg[2],                 agg[3]};
  return SignPreimage(t, 28, pre,
                      "{\"AccountIndex\":" + std::to_string(t.account) +
                          ",\"ApiKeyIndex\":" + std::to_string(t.api_key) +
                          ",\"GroupingType\":" + std::to_string(grouping) + ",\"Orders\":" + json,
                      ",\"ExpiredAt\":" + std::to_string(expired) +
                          ",\"Nonce\":" + std::to_string(nonce));
}
lt::SignedTx UpdateMargin(const Trader& t, int64_t nonce, int64_t market, int64_t usdc,
                          int direction) {
  const int64_t expired = t.sim->NowMs() + lt::kDefaultTxExpiryMs;
  std::vector<lti::Fp> pre = {E(lt::kMainnetChainId), E(29),      E(nonce),
                              E(expired),             E(t.account), E(t.api_key),
                              E(market),              E(usdc & 0xFFFFFFFF), E(usdc >> 32),
                              E(direction)};
  return SignPreimage(t, 29, pre,
                      "{\"AccountIndex\":" + std::to_string(t.account) +
                          ",\"ApiKeyIndex\":" + std::to_string(t.api_key) +
                          ",\"MarketIndex\":" + std::to_string(market) +
                          ",\"USDCAmount\":" + std::to_string(usdc) +
                          ",\"Direction\":" + std::to_string(direction),
                      ",\"ExpiredAt\":" + std::to_string(expired) +
                          ",\"Nonce\":" + std::to_string(nonce));
}
// accounts[0].positions[market] of GET account, raw.
std::string RawPosition(Sim& sim, int64_t account, int64_t market) {
  auto r = sim.Get("/api/v1/account?by=index&value=" + std::to_string(account));
  REQUIRE(r.status == 200);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(r.body);
  for (simdjson::dom::element pos : doc["accounts"].at(0)["positions"].get_array()) {
    if (int64_t(pos["market_id"]) == market) return simdjson::minify(pos);
  }
  return "";
}
std::string FieldOf(const std::string& raw, const std::string& key) {
  simdjson::dom::parser p;
  simdjson::dom::element e = p.parse(raw);
  simdjson::dom::element v = e[key];
  if (v.is_string()) return std::string(std::string_view(v));
  return simdjson::minify(v);
}

}  // namespace

TEST_CASE("lighter sim: grouped orders (OTOCO, OCO), isolated margin, UpdateMargin",
          "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  auto [bid, ask] = Bbo(sim);
  auto final_status = [&](const lt::SignedTx& s) {
    int64_t st = -1;
    WaitUntil([&] {
      st = TxStatus(sim, s.hash_hex);
      return st == lt::TxStatus::kFinal || st == lt::TxStatus::kFailed;
    });
    return st;
  };

  // Isolated margin on ETH at 10x (UpdateLeverage MarginMode 1).
  lt::UpdateLeverageTx lev;
  lev.account_index = kAcct1;
  lev.api_key_index = 2;
  lev.market_index = 0;
  lev.initial_margin_fraction = 1000;
  lev.margin_mode = lt::MarginMode::kIsolated;
  lev.expired_at = sim.NowMs() + lt::kDefaultTxExpiryMs;
  lev.nonce = 0;
  auto lev_signed = t.Sign(lev);
  Accept(sim, lev_signed);
  CHECK(final_status(lev_signed) == lt::TxStatus::kFinal);

  // OTOCO: an IOC buy of 0.01 ETH with a market stop-loss and a take-profit-limit attached.
  const int64_t exp = sim.NowMs() + lt::kDefaultGttExpiryMs;
  auto otoco = Grouped(t, 1, 3,
                       {{0, 11, 100, ask + 500, false, 0, 0, false, 0, 0},
                        {0, 0, 0, bid - 5000, true, 2, 0, true, bid - 2000, exp},
                        {0, 0, 0, ask + 3000, true, 5, 1, true, ask + 3000, exp}});
  Accept(sim, otoco);
  CHECK(final_status(otoco) == lt::TxStatus::kFinal);
  REQUIRE(WaitUntil([&] { return Active(sim, t, 0).size() == 2; }));
  std::string pos = RawPosition(sim, kAcct1, 0);
  INFO(pos);
  CHECK(FieldOf(pos, "margin_mode") == "1");
  const auto allocated = Decimal::Parse(FieldOf(pos, "allocated_margin"));
  REQUIRE(allocated.ok());
  CHECK(allocated->IsPositive());
  std::string sl_id, tp_id;
  for (const Order& o : Active(sim, t, 0)) {
    const std::string raw = RawActive(sim, t, 0, o.order_id);
    INFO(raw);
    CHECK(raw.find(R"("parent_order_index":0)") == std::string::npos);
    CHECK(o.reduce_only);
    if (raw.find(R"("type":"stop-loss")") != std::string::npos) sl_id = o.order_id;
    if (raw.find(R"("type":"take-profit-limit")") != std::string::npos) tp_id = o.order_id;
  }
  REQUIRE(!sl_id.empty());
  REQUIRE(!tp_id.empty());

  // UpdateMargin: 5 USDC into the isolated position, then too much out (fails).
  auto add = UpdateMargin(t, 2, 0, 5'000'000, 1);
  Accept(sim, add);
  CHECK(final_status(add) == lt::TxStatus::kFinal);
  const auto after = Decimal::Parse(FieldOf(RawPosition(sim, kAcct1, 0), "allocated_margin"));
  REQUIRE(after.ok());
  CHECK(*after == *Decimal::Add(*allocated, *Decimal::Parse("5")));
  auto too_much = UpdateMargin(t, 3, 0, 1'000'000'000'000, 0);
  Accept(sim, too_much);
  CHECK(final_status(too_much) == lt::TxStatus::kFailed);
  // No position on BTC (cross): fails on execution.
  auto btc = UpdateMargin(t, 4, 1, 1'000'000, 1);
  Accept(sim, btc);
  CHECK(final_status(btc) == lt::TxStatus::kFailed);

  // OCO: a reduce-only SL + TP pair; cancelling one cancels the other.
  auto oco = Grouped(t, 5, 2,
                     {{0, 41, 100, bid - 8000, true, 3, 1, true, bid - 7000, exp},
                      {0, 42, 100, ask + 9000, true, 4, 0, true, ask + 8000, exp}});
  Accept(sim, oco);
  CHECK(final_status(oco) == lt::TxStatus::kFinal);
  REQUIRE(WaitUntil([&] { return Active(sim, t, 0).size() == 4; }));
  Accept(sim, t.Sign(t.Cancel(6, 0, 41)));
  auto gone = WaitInactive(sim, t, 42);
  REQUIRE(gone);
  CHECK(gone->status == OrderStatus::kCanceled);
  REQUIRE(WaitUntil([&] { return Active(sim, t, 0).size() == 2; }));

  // An OCO whose legs are on different sides: invalid tx info, nonce not consumed.
  auto bad = Grouped(t, 7, 2,
                     {{0, 51, 100, bid - 8000, true, 3, 1, true, bid - 7000, exp},
                      {0, 52, 100, ask + 9000, false, 4, 0, true, ask + 8000, exp}});
  auto refused = Send(sim, bad);
  CHECK(refused.status == 400);
  CHECK(sim.ErrorCode(refused.body) == kErrInvalidTxInfo);
  CHECK(NextNonce(sim, t) == 7);

  // The mark falls through the OTOCO stop: it closes the long, the take-profit is cancelled.
  REQUIRE(sim.Control(http::verb::post, "/price",
                      R"({"venue":"lighter","symbol":"ETH","mid":")" +
                          Decimal::FromUnits(bid - 2500, 2).ToString() + R"("})")
              .status == 200);
  REQUIRE(WaitUntil([&] { return Active(sim, t, 0).empty(); }));
}

TEST_CASE("lighter sim: height, candle and account_market channels", "[lighter_sim]") {
  Sim sim;
  Trader t = Trader::Make(sim, kApiKey1, kAcct1, 2);
  auto [bid, ask] = Bbo(sim);
  (void)bid;
  WsClient ws(sim.port, "/stream");
  REQUIRE(ws.ok());
  REQUIRE(ws.ReadText("\"connected\""));
  ws.Send(R"({"type":"subscribe","channel":"height"})");
  auto h = ws.ReadText("\"subscribed/height\"");
  REQUIRE(h);
  CHECK(h->find(R"("channel":"height")") != std::string::npos);
  CHECK(h->find(R"("height":)") != std::string::npos);
  ws.Send(R"({"type":"subscribe","channel":"candle/0/1m"})");
  auto c = ws.ReadText("\"subscribed/candle\"");
  REQUIRE(c);
  CHECK(c->find(R"("channel":"candle:0:1m")") != std::string::npos);
  CHECK(c->find(R"("candle":{"t":)") != std::string::npos);
  // Unknown resolution or market: invalid channel.
  ws.Send(R"({"type":"subscribe","channel":"candle/0/7m"})");
  auto bad = ws.ReadText("\"error\"");
  REQUIRE(bad);
  CHECK(bad->find("30001") != std::string::npos);
  // account_market needs a token.
  ws.Send(R"({"type":"subscribe","channel":"account_market/0/12345"})");
  auto noauth = ws.ReadText("\"error\"");
  REQUIRE(noauth);
  CHECK(noauth->find(std::to_string(kWsErrAuth)) != std::string::npos);
  ws.Send(lt::EncodeSubscribe("account_market/0/12345", t.Token()));
  auto am = ws.ReadText("\"subscribed/account_market\"");
  REQUIRE(am);
  CHECK(am->find(R"("account":12345)") != std::string::npos);
  CHECK(am->find(R"("positions":{"0":{)") != std::string::npos);
  CHECK(am->find(R"("orders":{})") != std::string::npos);

  // A crossing IOC: a new block (update/height), the order and its trade on account_market,
  // and the minute's candle takes the volume (update/candle).
  Accept(sim, t.Sign(t.Order(0, 0, 7, 100, ask + 500, false, lt::TimeInForce::kImmediateOrCancel)));
  auto um = ws.ReadText("\"trades\":{\"0\":[{");
  REQUIRE(um);
  CHECK(um->find("\"update/account_market\"") != std::string::npos);
  CHECK(um->find(R"("client_order_index":7)") != std::string::npos);
  auto uh = ws.ReadText("\"update/height\"");  // after the tx's account events
  REQUIRE(uh);
  auto uc = ws.ReadText("\"update/candle\"");
  REQUIRE(uc);
  CHECK(uc->find(R"("v":0.01)") != std::string::npos);
}

}  // namespace perpgw::sim::lighter
