// Lighter module WebSocket on /stream: {"type":"subscribe","channel":"order_book/0"} in,
// {"channel":"order_book:0","type":"subscribed/order_book",...} out (channels echoed with ':'),
// books as a snapshot then absolute-size updates batched every 50 ms with
// begin_nonce = the nonce last sent (nonce = the book's update id), ping/pong, the venue's error
// frames ({"type":"error","code":30003,"message":"Already Subscribed"}), the 2-minute idle close,
// the account channels (auth token in the subscribe frame's "auth"; optional on account_all,
// account_all_assets and user_stats) fed from the engine's account events, and jsonapi/sendtx /
// jsonapi/sendtxbatch (replies with top-level tx_hash / tx_hashes, the request id echoed).
#include <simdjson.h>

#include <algorithm>
#include <charconv>

#include "sim/lighter/module.h"

namespace perpgw::sim::lighter {
namespace {

using Window = std::map<int64_t, int64_t>;

// "order_book/0" -> ("order_book", 0); ids < 0 for "all" or none.
std::pair<std::string, int64_t> SplitChannel(std::string_view ch) {
  size_t p = ch.find('/');
  if (p == std::string_view::npos) return {std::string(ch), -1};
  std::string_view id = ch.substr(p + 1);
  int64_t v = 0;
  if (id.empty() || id.size() > 12) return {std::string(ch.substr(0, p)), -2};
  for (char c : id) {
    if (c < '0' || c > '9') return {std::string(ch.substr(0, p)), id == "all" ? -1 : -2};
    v = v * 10 + (c - '0');
  }
  return {std::string(ch.substr(0, p)), v};
}

std::string Echo(std::string ch) {
  std::replace(ch.begin(), ch.end(), '/', ':');
  return ch;
}

// The top-level "id" of a request frame as JSON text, its type kept (5 stays 5, "5" stays
// "5"); empty when absent, null or not a scalar.
std::string RequestIdJson(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS) return {};
  simdjson::dom::element id;
  if (doc["id"].get(id) != simdjson::SUCCESS) return {};
  switch (id.type()) {
    case simdjson::dom::element_type::STRING:
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE: return simdjson::minify(id);
    default: return {};
  }
}

}  // namespace

bool LighterModule::AcceptWs(const HttpRequest& upgrade, HttpResponse& reject) {
  if (upgrade.path != "/stream") {
    reject.Json(404, R"({"code":404,"message":"websocket path is /stream"})");
    return false;
  }
  return true;
}

void LighterModule::OnWsOpen(const WsConnPtr& conn, const HttpRequest& upgrade) {
  (void)upgrade;
  conns_[conn->id()] = conn;
  conn->Send(R"({"type":"connected","session_id":")" + std::to_string(conn->id()) + "\"}");
}

void LighterModule::OnWsClose(const WsConnPtr& conn) {
  conns_.erase(conn->id());
}

void LighterModule::OnWsText(const WsConnPtr& conn, std::string_view text) {
  HandleText(conn, conn->Data<ConnState>(), text);
}

void LighterModule::SendError(const WsConnPtr& conn, int64_t code, const std::string& message) {
  JsonWriter w;
  w.BeginObject().Field("type", "error").Field("code", code).Field("message", message).EndObject();
  conn->Send(w.Take());
}

std::string LighterModule::Frame(ConnState& st, std::string_view type, std::string_view channel,
                                 std::string_view payload_key, const std::string& payload_json) {
  // Key order as the recorded frames: channel, offset, <payload>, timestamp, type.
  JsonWriter w;
  w.BeginObject().Field("channel", Echo(std::string(channel)));
  w.Field("offset", st.offset += 1);
  w.Key(payload_key).Raw(payload_json);
  w.Field("timestamp", NowMs()).Field("type", type).EndObject();
  return w.Take();
}

void LighterModule::HandleText(const WsConnPtr& conn, ConnState& st, std::string_view text) {
  auto f = ParseJsonObject(text);
  if (!f.ok()) return SendError(conn, kWsErrInvalidMessage, "invalid message");
  auto get = [&](const char* k) {
    auto it = f->find(k);
    return it == f->end() || it->second == "null" ? std::string() : it->second;
  };
  const std::string type = get("type");
  if (type == "ping") return (void)conn->Send(R"({"type":"pong"})");
  if (type == "pong") return;
  if (type == "subscribe") {
    if (auto err = Subscribe(conn, st, get("channel"), get("auth"))) {
      SendError(conn, err->code, err->message);
    }
    return;
  }
  if (type == "unsubscribe") {
    const std::string ch = get("channel");
    if (st.channels.erase(ch) == 0) return SendError(conn, kWsErrNotSubscribed, "Not Subscribed");
    auto [head, id] = SplitChannel(ch);
    if (head == "order_book") {
      for (auto it = st.books.begin(); it != st.books.end(); ++it) {
        if (ctx_->market().instrument(it->first).spec.market_id == id) {
          st.books.erase(it);
          break;
        }
      }
    }
    conn->Send(R"({"type":"unsubscribed","channel":")" + Echo(ch) + "\"}");
    return;
  }
  if (type == "jsonapi/sendtx" || type == "jsonapi/sendtxbatch") {
    return WsSendTx(conn, *f, RequestIdJson(text), type == "jsonapi/sendtxbatch");
  }
  SendError(conn, kWsErrInvalidMessage, "invalid message type");
}

std::optional<LighterModule::VenueError> LighterModule::Subscribe(const WsConnPtr& conn,
                                                                  ConnState& st,
                                                                  const std::string& channel,
                                                                  const std::string& auth) {
  const VenueError invalid{kWsErrInvalidChannel, "invalid channel"};
  const VenueError already{kWsErrAlreadySubscribed, "Already Subscribed"};
  if (channel.empty() || channel.size() > 64) return invalid;
  auto [head, id] = SplitChannel(channel);
  const bool all = id == -1 && channel.find("/all") != std::string::npos;
  if (head == "order_book" || head == "ticker" || head == "trade" ||
      (head == "market_stats" && !all)) {
    const SimInstrument* in = id >= 0 ? ByMarketId(id) : nullptr;
    if (in == nullptr) return invalid;
    if (st.channels.count(channel)) return already;
    st.channels.insert(channel);
    const Market& m = ctx_->market();
    const size_t i = in->index;
    if (head == "order_book") {
      BookSub& sub = st.books[i];
      Window bids, asks;
      for (const Level& l : m.book(i).Bids()) bids[l.price] = l.size;
      for (const Level& l : m.book(i).Asks()) asks[l.price] = l.size;
      sub.bids = bids;
      sub.asks = asks;
      sub.nonce = m.update_id(i);
      sub.need_snapshot = false;
      const std::string book = R"({"code":0,"asks":)" + LevelsJson(m.book(i).Asks(), *in) +
                               R"(,"bids":)" + LevelsJson(m.book(i).Bids(), *in) + R"(,"offset":)" +
                               std::to_string(st.offset + 1) + R"(,"nonce":)" +
                               std::to_string(sub.nonce) + R"(,"begin_nonce":)" +
                               std::to_string(sub.nonce) + "}";
      conn->Send(Frame(st, "subscribed/order_book", channel, "order_book", book));
    } else if (head == "ticker") {
      auto bid = m.book(i).BestBid();
      auto ask = m.book(i).BestAsk();
      auto side = [&](const std::optional<Level>& l) {
        if (!l) return std::string("null");
        return R"({"price":")" + in->FormatPrice(l->price) + R"(","size":")" +
               in->FormatQty(l->size) + "\"}";
      };
      // Keys as the recorded snapshot: channel, nonce, ticker, timestamp, type (as update/ticker).
      conn->Send(R"({"channel":")" + Echo(channel) + R"(","nonce":)" +
                 std::to_string(m.update_id(i)) + R"(,"ticker":{"s":")" + in->symbol() +
                 R"(","a":)" + side(ask) + R"(,"b":)" + side(bid) + R"(},"timestamp":)" +
                 std::to_string(NowMs()) + R"(,"type":"subscribed/ticker"})");
    } else if (head == "trade") {
      std::string trades = "[";
      for (const std::string& t : markets_[i].trades) {
        if (trades.size() > 1) trades += ',';
        trades += t;
      }
      // Keys as the trade frames: channel, liquidation_trades, nonce, trades, type.
      conn->Send(R"({"channel":")" + Echo(channel) + R"(","liquidation_trades":[],"nonce":)" +
                 std::to_string(m.update_id(i)) + R"(,"trades":)" + trades +
                 R"(],"type":"subscribed/trade"})");
    } else {
      conn->Send(Frame(st, "subscribed/market_stats", channel, "market_stats", StatsJson(*in)));
    }
    return std::nullopt;
  }
  if (head == "market_stats" && all) {
    if (st.channels.count(channel)) return already;
    st.channels.insert(channel);
    std::string map = "{";
    const Market& m = ctx_->market();
    for (size_t i = 0; i < m.size(); ++i) {
      if (i > 0) map += ',';
      map += '"';
      map += std::to_string(m.instrument(i).spec.market_id);
      map += "\":";
      map += StatsJson(m.instrument(i));
    }
    conn->Send(Frame(st, "subscribed/market_stats", channel, "market_stats", map + "}"));
    return std::nullopt;
  }
  if (channel == "height") {
    // lighter.md §5: public, payload key `height`. The reading picked: the block height of the
    // latest executed tx (the sim makes one block per executed tx), pushed as update/height
    // with every new block.
    if (st.channels.count(channel)) return already;
    st.channels.insert(channel);
    conn->Send(Frame(st, "subscribed/height", channel, "height", std::to_string(block_height_)));
    return std::nullopt;
  }
  if (head == "candle") {
    // candle/{m}/{res} (lighter.md §5: public, payload key `candle`; no sample): the current
    // candle of the market at the resolution as one object, in GET candles' row shape
    // {t,o,h,l,c,v,V}; update/candle when it changes (checked every 200 ms).
    const std::string rest = channel.substr(channel.find('/') + 1);
    const size_t s2 = rest.find('/');
    if (s2 == std::string::npos) return invalid;
    auto [h, m] = SplitChannel("x/" + rest.substr(0, s2));
    const SimInstrument* in = m >= 0 ? ByMarketId(m) : nullptr;
    const int64_t step = CandleStepMs(rest.substr(s2 + 1));
    if (in == nullptr || step == 0) return invalid;
    if (st.channels.count(channel)) return already;
    st.channels.insert(channel);
    const std::string candle = CurrentCandleJson(*in, step);
    candles_sent_[channel] = candle;
    conn->Send(Frame(st, "subscribed/candle", channel, "candle", candle));
    return std::nullopt;
  }
  if (head.rfind("account", 0) == 0 || head == "user_stats" || head == "notification") {
    return SubscribeAccount(conn, st, channel, auth);
  }
  return invalid;
}

void LighterModule::PushCandles() {
  std::set<std::string> channels;
  for (auto& [cid, weak] : conns_) {
    WsConnPtr c = weak.lock();
    if (!c) continue;
    for (const std::string& ch : c->Data<ConnState>().channels) {
      if (ch.rfind("candle/", 0) == 0) channels.insert(ch);
    }
  }
  for (auto it = candles_sent_.begin(); it != candles_sent_.end();) {
    it = channels.count(it->first) ? std::next(it) : candles_sent_.erase(it);
  }
  for (const std::string& ch : channels) {
    const std::string rest = ch.substr(7);
    const size_t s2 = rest.find('/');
    auto [h, m] = SplitChannel("x/" + rest.substr(0, s2));
    const SimInstrument* in = ByMarketId(m);
    const int64_t step = CandleStepMs(rest.substr(s2 + 1));
    if (in == nullptr || step == 0) continue;
    std::string candle = CurrentCandleJson(*in, step);
    std::string& last = candles_sent_[ch];
    if (candle == last) continue;
    last = candle;
    Push(ch, "candle", candle);
  }
}

// ---- account channels -------------------------------------------------------------------------

std::optional<LighterModule::VenueError> LighterModule::SubscribeAccount(const WsConnPtr& conn,
                                                                         ConnState& st,
                                                                         const std::string& channel,
                                                                         const std::string& auth) {
  const VenueError invalid{kWsErrInvalidChannel, "invalid channel"};
  // account_all_orders/{a}, account_all_trades/{a}, account_all_positions/{a}, user_stats/{a},
  // notification/{a}, account_tx/{a}, account_orders/{m}/{a}.
  const size_t slash = channel.find('/');
  const std::string head = channel.substr(0, slash);
  std::string rest = slash == std::string::npos ? std::string() : channel.substr(slash + 1);
  int64_t market = -1;
  if (head == "account_orders" || head == "account_market") {
    const size_t s2 = rest.find('/');
    if (s2 == std::string::npos) return invalid;
    auto [h, m] = SplitChannel("x/" + rest.substr(0, s2));
    if (m < 0 || ByMarketId(m) == nullptr) return invalid;
    market = m;
    rest = rest.substr(s2 + 1);
  } else if (head != "account_all_orders" && head != "account_all_trades" &&
             head != "account_all_positions" && head != "user_stats" && head != "notification" &&
             head != "account_tx" && head != "account_all" && head != "account_all_assets") {
    return VenueError{kWsErrInvalidChannel,
                      "invalid channel: " + head.substr(0, 32) + " is not modelled by perpgw-sim"};
  }
  auto [h, account] = SplitChannel("x/" + rest);
  if (account < 0) return invalid;
  if (st.channels.count(channel)) return VenueError{kWsErrAlreadySubscribed, "Already Subscribed"};
  // lighter.md §5 marks auth as unsure on account_all (the official SDK subscribes without a
  // token) and user_stats ("no [verify]"; ccxt subscribes without one), and ccxt sends one on
  // account_all_assets: these three take the subscription with or without a token (a token
  // that is sent must be valid). The other account channels require one.
  const bool auth_optional =
      head == "account_all" || head == "account_all_assets" || head == "user_stats";
  if (!auth_optional || !auth.empty()) {
    if (auto err = CheckAuth(auth, account, /*ws=*/true)) return err;
  }
  const std::string* id = AccountIdOf(account);
  if (id == nullptr) return invalid;
  st.channels.insert(channel);
  const Engine& e = ctx_->engine();
  const std::string type = "subscribed/" + head;
  // Rows keyed by market index, as the venue sends them.
  auto by_market = [](std::map<int64_t, std::vector<std::string>>& rows, bool single) {
    std::string out = "{";
    for (auto& [m, items] : rows) {
      if (out.size() > 1) out += ',';
      out += '"' + std::to_string(m) + "\":";
      if (single) {
        out += items.back();
        continue;
      }
      out += '[';
      for (size_t k = 0; k < items.size(); ++k) {
        if (k > 0) out += ',';
        out += items[k];
      }
      out += ']';
    }
    return out + "}";
  };
  std::map<int64_t, std::vector<std::string>> rows;
  if (head == "account_all_orders" || head == "account_orders") {
    for (const SimOrder* o : e.OpenOrders(*id)) {
      const int64_t m = o->instrument->spec.market_id;
      if (market >= 0 && m != market) continue;
      rows[m].push_back(OrderJson(*o));
    }
    conn->Send(Frame(st, type, channel, "orders", by_market(rows, false)));
  } else if (head == "account_all_trades") {
    std::vector<SimFill> fills = e.Fills(*id);
    const size_t first = fills.size() > 50 ? fills.size() - 50 : 0;  // the latest 50
    for (size_t k = fills.size(); k-- > first;) {
      rows[fills[k].instrument->spec.market_id].push_back(TradeJson(fills[k]));
    }
    conn->Send(Frame(st, type, channel, "trades", by_market(rows, false)));
  } else if (head == "account_all_positions") {
    for (const SimPosition& p : e.Positions(*id)) {
      rows[p.instrument->spec.market_id].push_back(PositionJson(p, *id));
    }
    conn->Send(Frame(st, type, channel, "positions", by_market(rows, true)));
  } else if (head == "user_stats") {
    conn->Send(Frame(st, type, channel, "stats", StatsJsonFor(*id)));
  } else if (head == "account_all_assets") {
    conn->Send(Frame(st, type, channel, "assets", AssetsJson(*id)));
  } else if (head == "account_market") {
    // account_market/{m}/{a} (lighter.md §5: "orders/positions/trades for one market", no
    // sample): the reading picked is account_all's keys for that market only - `account`,
    // `orders` {m:[open orders]}, `positions` {m:position}, `trades` {m:[latest 50 fills]},
    // each keyed by market index as the other account channels; updates carry what changed
    // (orders, trades) and the whole position.
    const std::string key = std::to_string(market);
    const SimInstrument* in = ByMarketId(market);
    for (const SimOrder* o : e.OpenOrders(*id, in->symbol())) rows[market].push_back(OrderJson(*o));
    const std::string orders = by_market(rows, false);
    rows.clear();
    std::vector<SimFill> fills;
    for (const SimFill& f : e.Fills(*id)) {
      if (f.instrument == in) fills.push_back(f);
    }
    for (size_t k = fills.size() > 50 ? fills.size() - 50 : 0; k < fills.size(); ++k) {
      rows[market].push_back(TradeJson(fills[k]));
    }
    const std::string trades = by_market(rows, false);
    conn->Send("{" + AccountMarketBody(*id, account, *in, orders, trades) + R"(,"channel":")" +
               Echo(channel) + R"(","timestamp":)" + std::to_string(NowMs()) +
               R"(,"type":"subscribed/account_market"})");
  } else if (head == "account_all") {
    // Snapshot: open orders, the latest 50 fills, the latest 50 funding payments (per market).
    for (const SimOrder* o : e.OpenOrders(*id)) {
      rows[o->instrument->spec.market_id].push_back(OrderJson(*o));
    }
    const std::string orders = by_market(rows, false);
    rows.clear();
    std::vector<SimFill> fills = e.Fills(*id);
    for (size_t k = fills.size() > 50 ? fills.size() - 50 : 0; k < fills.size(); ++k) {
      rows[fills[k].instrument->spec.market_id].push_back(TradeJson(fills[k]));
    }
    const std::string trades = by_market(rows, false);
    rows.clear();
    if (auto it = account_fundings_.find(*id); it != account_fundings_.end()) {
      const auto& fs = it->second;
      for (size_t k = fs.size() > 50 ? fs.size() - 50 : 0; k < fs.size(); ++k) {
        rows[fs[k].market_id].push_back(FundingHistoryJson(fs[k]));
      }
    }
    const std::string fundings = by_market(rows, false);
    conn->Send("{" + AccountAllBody(*id, account, orders, trades, fundings) +
               R"(,"channel":")" + Echo(channel) + R"(","timestamp":)" +
               std::to_string(NowMs()) + R"(,"type":"subscribed/account_all"})");
  } else if (head == "notification") {
    std::string notifs = "[";
    for (const AccountEvent& n : notifications_) {
      if (n.account != *id) continue;
      if (notifs.size() > 1) notifs += ',';
      notifs += NotificationJson(n);
    }
    conn->Send(Frame(st, type, channel, "notifs", notifs + "]"));
  } else {  // account_tx: what happens from now on
    conn->Send(Frame(st, type, channel, "txs", "[]"));
  }
  return std::nullopt;
}

void LighterModule::PushBody(const std::string& channel, const std::string& body) {
  std::string frame;
  for (auto& [cid, weak] : conns_) {
    WsConnPtr c = weak.lock();
    if (!c || !c->Data<ConnState>().channels.count(channel)) continue;
    if (frame.empty()) {
      frame = "{" + body + R"(,"channel":")" + Echo(channel) + R"(","timestamp":)" +
              std::to_string(NowMs()) + R"(,"type":"update/)" +
              channel.substr(0, channel.find('/')) + "\"}";
    }
    c->Send(frame);
  }
}

void LighterModule::Push(const std::string& channel, std::string_view payload_key,
                         const std::string& payload) {
  const std::string type = "update/" + channel.substr(0, channel.find('/'));
  for (auto& [cid, weak] : conns_) {
    WsConnPtr c = weak.lock();
    if (!c) continue;
    ConnState& st = c->Data<ConnState>();
    if (st.channels.count(channel)) c->Send(Frame(st, type, channel, payload_key, payload));
  }
}

std::string LighterModule::NotificationJson(const AccountEvent& e) const {
  const SimInstrument& in = *e.fill.instrument;
  JsonWriter w;
  w.BeginObject()
      .Field("id", std::to_string(e.fill.trade_id))
      .Field("created_at", e.time / 1'000'000)
      .Field("updated_at", e.time / 1'000'000)
      .Field("kind", "liquidation")
      .Field("account_index", AccountIndexOf(e.account))
      .Key("content")
      .BeginObject()
      .Field("market_index", in.spec.market_id)
      .Field("is_ask", e.fill.side == Side::kSell)
      .Field("size", in.FormatQty(e.fill.qty))
      .Field("price", in.FormatPrice(e.fill.price))
      .Field("usdc_amount", FormatMoney(in.Notional(e.fill.price, e.fill.qty)))
      .EndObject()
      .Field("ack", false)
      .EndObject();
  return w.Take();
}

void LighterModule::OnAccountEvent(const AccountEvent& event) {
  if (deferring_) {
    deferred_.push_back(event);
    return;
  }
  DispatchAccountEvent(event);
}

void LighterModule::DispatchAccountEvent(const AccountEvent& e) {
  const int64_t a = AccountIndexOf(e.account);
  if (a < 0) return;
  const std::string acct = std::to_string(a);
  // account_all/{a}: an update per order, position, balance or funding change (orders, trades
  // and funding_histories carry what changed; positions, assets and counters the whole state).
  const std::string all = "account_all/" + acct;
  auto has_subscriber = [&](const std::string& channel) {
    for (auto& [cid, weak] : conns_) {
      WsConnPtr c = weak.lock();
      if (c && c->Data<ConnState>().channels.count(channel)) return true;
    }
    return false;
  };
  auto push_all = [&](const std::string& orders, const std::string& trades,
                      const std::string& fundings) {
    if (has_subscriber(all)) PushBody(all, AccountAllBody(e.account, a, orders, trades, fundings));
  };
  switch (e.kind) {
    case AccountEvent::Kind::kOrder: {
      ResolveOco(e.order);
      if (e.order.instrument == nullptr || suppressed_.count(e.order.id)) return;
      const std::string m = std::to_string(e.order.instrument->spec.market_id);
      const std::string order = OrderJson(e.order);
      Push("account_all_orders/" + acct, "orders", "{\"" + m + "\":[" + order + "]}");
      Push("account_orders/" + m + "/" + acct, "orders", "{\"" + m + "\":[" + order + "]}");
      std::string trades = "{}";
      if (e.has_fill) {
        trades = "{\"" + m + "\":[" + TradeJson(e.fill) + "]}";
        Push("account_all_trades/" + acct, "trades", trades);
      }
      push_all("{\"" + m + "\":[" + order + "]}", trades, "{}");
      const std::string market_channel = "account_market/" + m + "/" + acct;
      if (has_subscriber(market_channel)) {
        PushBody(market_channel, AccountMarketBody(e.account, a, *e.order.instrument,
                                                   "{\"" + m + "\":[" + order + "]}", trades));
      }
      return;
    }
    case AccountEvent::Kind::kPosition: {
      if (e.position.instrument == nullptr) return;
      const std::string m = std::to_string(e.position.instrument->spec.market_id);
      Push("account_all_positions/" + acct, "positions",
           "{\"" + m + "\":" + PositionJson(e.position, e.account) + "}");
      push_all("{}", "{}", "{}");
      const std::string market_channel = "account_market/" + m + "/" + acct;
      if (has_subscriber(market_channel)) {
        PushBody(market_channel,
                 AccountMarketBody(e.account, a, *e.position.instrument, "{}", "{}"));
      }
      return;
    }
    case AccountEvent::Kind::kBalance:
      Push("user_stats/" + acct, "stats", StatsJsonFor(e.account));
      Push("account_all_assets/" + acct, "assets", AssetsJson(e.account));
      push_all("{}", "{}", "{}");
      return;
    case AccountEvent::Kind::kLiquidation:
      if (e.fill.instrument == nullptr) return;
      notifications_.push_back(e);
      if (notifications_.size() > 100) notifications_.pop_front();
      Push("notification/" + acct, "notifs", "[" + NotificationJson(e) + "]");
      return;
    case AccountEvent::Kind::kFunding: {
      // Kept for account_all's funding_histories; the position update that follows says the rest.
      if (e.position.instrument == nullptr) return;
      const SimInstrument& in = *e.position.instrument;
      AccountFunding f;
      f.id = next_funding_id_++;
      f.time_s = e.time / 1'000'000'000;
      f.market_id = in.spec.market_id;
      f.change = e.amount;
      f.rate = ctx_->market().funding_rate(in.index);  // the rate just settled
      f.position_size = in.FormatQty(std::llabs(e.position.size));
      f.long_side = e.position.size >= 0;
      auto& list = account_fundings_[e.account];
      list.push_back(f);
      if (list.size() > kAccountFundingsKept) list.pop_front();
      push_all("{}", "{}", "{\"" + std::to_string(f.market_id) + "\":[" + FundingHistoryJson(f) + "]}");
      return;
    }
  }
}

std::string LighterModule::AccountMarketBody(const std::string& account, int64_t account_index,
                                             const SimInstrument& in, const std::string& orders,
                                             const std::string& trades) const {
  const std::string key = std::to_string(in.spec.market_id);
  SimPosition p = ctx_->engine().Position(account, in.index);
  if (p.instrument == nullptr) p.instrument = &in;
  return "\"account\":" + std::to_string(account_index) + ",\"orders\":" + orders +
         ",\"positions\":{\"" + key + "\":" + PositionJson(p, account) + "},\"trades\":" + trades;
}

int64_t LighterModule::CandleStepMs(std::string_view resolution) {
  static const std::map<std::string, int64_t, std::less<>> kMinutes = {
      {"1m", 1}, {"5m", 5}, {"15m", 15}, {"30m", 30}, {"1h", 60}, {"4h", 240}, {"12h", 720},
      {"1d", 1440}};
  auto it = kMinutes.find(resolution);
  return it == kMinutes.end() ? 0 : it->second * CandleSeries::kMinuteMs;
}

std::string LighterModule::CurrentCandleJson(const SimInstrument& in, int64_t step) const {
  const int64_t now = NowMs();
  std::vector<Candle> cs = ctx_->Candles(in.index).Range(step, -1, now, 1);
  if (!cs.empty() && cs.back().open_ms == now - now % step) return CandleJson(in, cs.back());
  // Nothing observed in this interval yet: a flat candle at the last close (the mid before
  // any observation), no volume, as quiet minutes carry the close.
  Candle flat;
  flat.open_ms = now - now % step;
  flat.open = flat.high = flat.low = flat.close =
      cs.empty() ? ctx_->market().mid(in.index) : cs.back().close;
  return CandleJson(in, flat);
}

void LighterModule::PushTx(const TxRecord& t) {
  Push("account_tx/" + std::to_string(t.account_index), "txs", "[" + TxJson(t) + "]");
}

// ---- jsonapi/sendtx -----------------------------------------------------------------------------

void LighterModule::WsSendTx(const WsConnPtr& conn, const JsonFields& frame,
                             const std::string& id_json, bool batch) {
  auto get = [](const JsonFields& f, const char* k) {
    auto it = f.find(k);
    return it == f.end() || it->second == "null" ? std::string() : it->second;
  };
  SubmitResult r;
  auto data = ParseJsonObject(get(frame, "data"));
  std::vector<std::pair<int64_t, std::string>> txs;
  if (!data.ok()) {
    r.error = {kErrInvalidParam, "invalid param: data (an object with the tx fields)"};
  } else if (batch) {
    (void)ParseBatch(get(*data, "tx_types"), get(*data, "tx_infos"), kMaxBatchWs, &txs, &r.error);
  } else {
    const std::string type = get(*data, "tx_type"), info = get(*data, "tx_info");
    int64_t t = 0;
    auto [p, ec] = std::from_chars(type.data(), type.data() + type.size(), t);
    if (type.empty() || ec != std::errc() || p != type.data() + type.size()) {
      r.error = {kErrInvalidParam, "invalid param: tx_type"};
    } else if (info.empty()) {
      r.error = {kErrInvalidParam, "invalid param: tx_info"};
    } else {
      txs.emplace_back(t, info);
    }
  }
  if (r.error.code == 0) r = Submit(txs);
  // lighter.md §5: replies typed jsonapi/sendtx[batch] with code, message, tx_hash (a batch:
  // tx_hashes) and the request's id (echoed with its JSON type). Third-party clients also read
  // the answer nested in `data` ({code, message, tx_hash, ...}), so it is there too; a batch
  // keeps its top-level tx_hash array (the REST batch answer's key) next to tx_hashes.
  const int64_t code = r.error.code == 0 ? 200 : r.error.code;
  const std::string message =
      r.error.code == 0 ? R"({"ratelimit": "didn't use volume quota"})" : r.error.message;
  JsonWriter w;
  w.BeginObject().Field("type", batch ? "jsonapi/sendtxbatch" : "jsonapi/sendtx");
  if (!id_json.empty()) w.Key("id").Raw(id_json);
  w.Field("code", code).Field("message", message);
  if (r.error.code == 0 && !batch && !r.hashes.empty()) w.Field("tx_hash", r.hashes.front());
  if (r.error.code == 0 && batch) {
    w.Key("tx_hashes").BeginArray();
    for (const std::string& h : r.hashes) w.String(h);
    w.EndArray();
  }
  w.Key("data").BeginObject().Field("code", code).Field("message", message);
  if (r.error.code == 0) {
    if (!batch && !r.hashes.empty()) w.Field("tx_hash", r.hashes.front());
    w.Field("predicted_execution_time_ms", NowMs() + 1);
  }
  w.EndObject();
  if (batch && r.error.code == 0) {
    w.Key("tx_hash").BeginArray();
    for (const std::string& h : r.hashes) w.String(h);
    w.EndArray();
  }
  w.EndObject();
  conn->Send(w.Take());
}

void LighterModule::OnBookChange(const BookChange& change) {
  if (change.instrument == nullptr) return;
  MarketState& ms = markets_[change.instrument->index];
  // skip_seq: the generator skipped an id; the next update's begin_nonce shows the break.
  if (change.prev_update_id != ms.last_id) ms.gap = true;
  ms.last_id = change.update_id;
}

void LighterModule::OnTrade(const PublicTrade& t) {
  if (t.instrument == nullptr) return;
  const SimInstrument& in = *t.instrument;
  MarketState& ms = markets_[in.index];
  ms.last_price = t.price;
  ms.volume_24h += in.Notional(t.price, t.qty);
  ms.volume_base += t.qty;
  JsonWriter w;
  w.BeginObject()
      .Field("trade_id", static_cast<int64_t>(t.trade_id))
      .Field("type", "trade")
      .Field("market_id", in.spec.market_id)
      .Field("size", in.FormatQty(t.qty))
      .Field("price", in.FormatPrice(t.price))
      .Field("usd_amount", FormatMoney(in.Notional(t.price, t.qty)))
      .Field("is_maker_ask", t.taker_side == Side::kBuy)  // a taker buy lifted an ask
      .Field("timestamp", t.time / 1'000'000)
      .EndObject();
  std::string json = w.Take();
  ms.trades.push_back(json);
  if (ms.trades.size() > 100) ms.trades.erase(ms.trades.begin());
  const std::string channel = "trade/" + std::to_string(in.spec.market_id);
  for (auto& [cid, weak] : conns_) {
    WsConnPtr c = weak.lock();
    if (!c) continue;
    ConnState& st = c->Data<ConnState>();
    if (!st.channels.count(channel)) continue;
    // Recorded key order: channel, liquidation_trades, nonce, trades, type.
    c->Send(R"({"channel":")" + Echo(channel) + R"(","liquidation_trades":[],"nonce":)" +
            std::to_string(ctx_->market().update_id(in.index)) + R"(,"trades":[)" + json +
            R"(],"type":"update/trade"})");
  }
}

void LighterModule::OnFunding(const FundingEvent& e) {
  if (e.instrument == nullptr) return;
  auto& list = markets_[e.instrument->index].fundings;
  list.push_back({e.time / 1'000'000'000, e.rate, e.mark_price});
  if (list.size() > kFundingsKept) list.pop_front();
}

void LighterModule::FlushBooks() {
  const Market& m = ctx_->market();
  std::vector<bool> gap(markets_.size());
  for (size_t i = 0; i < markets_.size(); ++i) {
    gap[i] = markets_[i].gap;
    markets_[i].gap = false;
  }
  for (auto it = conns_.begin(); it != conns_.end();) {
    WsConnPtr c = it->second.lock();
    if (!c) {
      it = conns_.erase(it);
      continue;
    }
    ++it;
    ConnState& st = c->Data<ConnState>();
    for (auto& [i, sub] : st.books) {
      const SimInstrument& in = m.instrument(i);
      const uint64_t nonce = m.update_id(i);
      if (nonce == sub.nonce) continue;
      Window bids, asks;
      for (const Level& l : m.book(i).Bids()) bids[l.price] = l.size;
      for (const Level& l : m.book(i).Asks()) asks[l.price] = l.size;
      auto diff = [](const Window& last, const Window& now) {
        std::vector<Level> out;
        for (const auto& [p, q] : now) {
          auto f = last.find(p);
          if (f == last.end() || f->second != q) out.push_back({p, q});
        }
        for (const auto& [p, q] : last) {
          if (!now.count(p)) out.push_back({p, 0});
        }
        return out;
      };
      std::vector<Level> bc = diff(sub.bids, bids), ac = diff(sub.asks, asks);
      std::sort(bc.begin(), bc.end(),
                [](const Level& a, const Level& b) { return a.price > b.price; });
      std::sort(ac.begin(), ac.end(),
                [](const Level& a, const Level& b) { return a.price < b.price; });
      const uint64_t begin = gap[i] ? sub.nonce + 1 : sub.nonce;
      sub.bids = std::move(bids);
      sub.asks = std::move(asks);
      sub.nonce = nonce;
      const std::string book =
          R"({"code":0,"asks":)" + LevelsJson(ac, in) + R"(,"bids":)" + LevelsJson(bc, in) +
          R"(,"offset":)" + std::to_string(st.offset + 1) + R"(,"nonce":)" + std::to_string(nonce) +
          R"(,"begin_nonce":)" + std::to_string(begin) + "}";
      c->Send(Frame(st, "update/order_book", "order_book/" + std::to_string(in.spec.market_id),
                    "order_book", book));
    }
  }
  for (size_t i = 0; i < markets_.size(); ++i) PushBbo(i);
}

void LighterModule::PushBbo(size_t i) {
  const Market& m = ctx_->market();
  const SimInstrument& in = m.instrument(i);
  auto bid = m.book(i).BestBid();
  auto ask = m.book(i).BestAsk();
  std::array<int64_t, 4> now{bid ? bid->price : 0, bid ? bid->size : 0, ask ? ask->price : 0,
                             ask ? ask->size : 0};
  if (now == markets_[i].bbo) return;
  markets_[i].bbo = now;
  auto side = [&](const std::optional<Level>& l) {
    if (!l) return std::string("null");
    return R"({"price":")" + in.FormatPrice(l->price) + R"(","size":")" + in.FormatQty(l->size) +
           "\"}";
  };
  const std::string channel = "ticker/" + std::to_string(in.spec.market_id);
  const std::string ticker =
      R"({"s":")" + in.symbol() + R"(","a":)" + side(ask) + R"(,"b":)" + side(bid) + "}";
  for (auto& [cid, weak] : conns_) {
    WsConnPtr c = weak.lock();
    if (!c) continue;
    ConnState& st = c->Data<ConnState>();
    if (!st.channels.count(channel)) continue;
    // Recorded key order: channel, nonce, ticker, timestamp, type.
    c->Send(R"({"channel":")" + Echo(channel) + R"(","nonce":)" + std::to_string(m.update_id(i)) +
            R"(,"ticker":)" + ticker + R"(,"timestamp":)" + std::to_string(NowMs()) +
            R"(,"type":"update/ticker"})");
  }
}

void LighterModule::PushStats() {
  const Market& m = ctx_->market();
  std::vector<std::string> stats(m.size());
  for (size_t i = 0; i < m.size(); ++i) stats[i] = StatsJson(m.instrument(i));
  for (auto& [cid, weak] : conns_) {
    WsConnPtr c = weak.lock();
    if (!c) continue;
    ConnState& st = c->Data<ConnState>();
    for (size_t i = 0; i < m.size(); ++i) {
      const std::string ch = "market_stats/" + std::to_string(m.instrument(i).spec.market_id);
      if (st.channels.count(ch)) {
        c->Send(Frame(st, "update/market_stats", ch, "market_stats", stats[i]));
      }
    }
    if (st.channels.count("market_stats/all")) {
      std::string map = "{";
      for (size_t i = 0; i < m.size(); ++i) {
        if (i > 0) map += ',';
        map += '"';
        map += std::to_string(m.instrument(i).spec.market_id);
        map += "\":";
        map += stats[i];
      }
      map += '}';
      c->Send(Frame(st, "update/market_stats", "market_stats/all", "market_stats", map));
    }
  }
}

void LighterModule::CloseIdle() {
  // Anything from the client counts: a message, or a WS ping/pong frame.
  const auto now = std::chrono::steady_clock::now();
  for (auto& [cid, weak] : conns_) {
    WsConnPtr c = weak.lock();
    if (!c) continue;
    if (now - c->last_activity() > std::chrono::milliseconds(idle_close_ms_)) {
      c->Close(true, "idle timeout");
    }
  }
}

}  // namespace perpgw::sim::lighter
