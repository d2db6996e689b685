// Backpack WebSocket: one endpoint (no path), {"method":"SUBSCRIBE"|"UNSUBSCRIBE","params":[...]}
// frames (no ack; errors as {"id":null,"error":{...}}), public streams built from the generator
// and signed account.* streams built from engine events. Every message is {"stream","data"};
// E/T are µs (T = generation/engine time, E = send time), markPrice n is ms.
#include <simdjson.h>

#include <algorithm>

#include "adapters/backpack/signing.h"
#include "adapters/wire/json_writer.h"
#include "sim/backpack/internal.h"
#include "sim/backpack/module.h"

namespace perpgw::sim::backpack {
namespace {

namespace bp = perpgw::adapters::backpack;

constexpr const char* kCadenceName[] = {"200ms", "600ms", "1000ms"};
constexpr UnixNanos kHourNs = 3600LL * 1000 * 1000 * 1000;

std::string Envelope(const std::string& stream, const std::string& data) {
  std::string out;
  out.reserve(stream.size() + data.size() + 24);
  out = "{\"stream\":";
  wire::AppendJsonQuoted(&out, stream);
  out += ",\"data\":";
  out += data;
  out += '}';
  return out;
}

void WriteLevel(JsonWriter& w, const SimInstrument& in, int64_t price, int64_t size) {
  w.BeginArray().String(Fixed(price, in.price_scale)).String(Fixed(size, in.size_scale)).EndArray();
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

}  // namespace

// ----------------------------------------------------------------------- stream catalogue

BackpackModule::StreamRef BackpackModule::ParseStream(std::string_view name) const {
  StreamRef r;
  auto parts = Split(name, '.');
  const Market& m = ctx_->market();
  auto sym = [&](const std::string& s) {
    const SimInstrument* in = m.Find(s);
    return in == nullptr ? -1 : static_cast<int>(in->index);
  };
  if (parts.empty()) return r;
  const std::string& head = parts[0];
  if (head == "account") {
    if (parts.size() < 2 || parts.size() > 3) return r;
    int symbol = -1;
    if (parts.size() == 3 && (symbol = sym(parts[2])) < 0) return r;
    if (parts[1] == "orderUpdate") return {StreamRef::kOrderUpdate, symbol, 0};
    if (parts[1] == "positionUpdate") return {StreamRef::kPositionUpdate, symbol, 0};
    if (parts[1] == "rfqUpdate") return {StreamRef::kSilent, symbol, 0};
    return r;
  }
  if (head == "liquidation" && parts.size() == 1) return {StreamRef::kSilent, -1, 0};
  if (head == "depth" && parts.size() == 3) {
    for (int c = 0; c < kCadences; ++c) {
      if (parts[1] == kCadenceName[c]) {
        int s = sym(parts[2]);
        return s < 0 ? r : StreamRef{StreamRef::kAggDepth, s, c};
      }
    }
    return r;
  }
  if (head == "kline" && parts.size() == 3) {
    // The intervals GET /api/v1/klines serves (KlineInterval), 1s included: backpack.md names the
    // stream without listing intervals, and the stream carries the REST candles, so the REST
    // list is our reading of what it takes (1s pushes each second's candle, open then closed).
    bool ok = KlineInterval(parts[1]).has_value();
    int s = sym(parts[2]);
    return ok && s >= 0 ? StreamRef{StreamRef::kKline, s, 0} : r;
  }
  if (parts.size() != 2) return r;
  int s = sym(parts[1]);
  if (s < 0) return r;
  if (head == "depth") return {StreamRef::kDepth, s, 0};
  if (head == "bookTicker") return {StreamRef::kBookTicker, s, 0};
  if (head == "trade") return {StreamRef::kTrade, s, 0};
  if (head == "markPrice") return {StreamRef::kMarkPrice, s, 0};
  if (head == "ticker") return {StreamRef::kTicker, s, 0};
  if (head == "openInterest") return {StreamRef::kOpenInterest, s, 0};
  return r;
}

// ---------------------------------------------------------------------------- connections

bool BackpackModule::AcceptWs(const HttpRequest& upgrade, HttpResponse& reject) {
  // The venue has a single endpoint; the retired /stream path is refused.
  if (upgrade.path.empty() || upgrade.path == "/") return true;
  WriteError(reject, {404, "RESOURCE_NOT_FOUND", "Unknown WebSocket path " + upgrade.path});
  return false;
}

void BackpackModule::OnWsOpen(const WsConnPtr& conn, const HttpRequest& upgrade) {
  conn->Data<ConnState>();
}

void BackpackModule::OnWsClose(const WsConnPtr& conn) {
  if (!conn->HasData()) return;
  ConnState& st = conn->Data<ConnState>();
  std::vector<std::string> names(st.streams.begin(), st.streams.end());
  for (const auto& [name, account] : st.private_streams) names.push_back(name);
  for (const auto& n : names) Unsubscribe(conn, st, n);
}

void BackpackModule::SendError(const WsConnPtr& conn, int code, const std::string& message) {
  JsonWriter w;
  w.BeginObject().Key("id").Null();
  w.Key("error").BeginObject().Field("code", code).Field("message", message).EndObject();
  w.EndObject();
  conn->Send(w.Take());
}

void BackpackModule::OnWsText(const WsConnPtr& conn, std::string_view text) {
  ConnState& st = conn->Data<ConnState>();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object obj;
  if (parser.parse(text.data(), text.size()).get(root) || root.get_object().get(obj)) {
    return SendError(conn, 4001, "Invalid request: expected a JSON object");
  }
  std::string_view method;
  if (obj["method"].get_string().get(method)) {
    return SendError(conn, 4001, "Invalid request: missing method");
  }
  std::vector<std::string> names;
  simdjson::dom::array params;
  if (obj["params"].get_array().get(params)) {
    return SendError(conn, 4001, "Invalid request: params must be an array of stream names");
  }
  for (auto p : params) {
    std::string_view s;
    if (p.get_string().get(s)) return SendError(conn, 4006, "Invalid stream");
    names.emplace_back(s);
  }
  if (method == "SUBSCRIBE") {
    std::vector<std::string> sig;
    simdjson::dom::array sig_arr;
    auto sig_err = obj["signature"].get_array().get(sig_arr);
    if (sig_err == simdjson::SUCCESS) {
      for (auto e : sig_arr) {
        std::string_view s;
        if (e.get_string().get(s)) {  // all four elements are strings on the venue
          sig.clear();
          sig.emplace_back();
          break;
        }
        sig.emplace_back(s);
      }
    }
    return HandleSubscribe(conn, st, names, sig_err == simdjson::SUCCESS ? &sig : nullptr);
  }
  if (method == "UNSUBSCRIBE") {
    for (const auto& n : names) Unsubscribe(conn, st, n);
    return;
  }
  SendError(conn, 4001, "Invalid request: unknown method");
}

void BackpackModule::HandleSubscribe(const WsConnPtr& conn, ConnState& st,
                                     const std::vector<std::string>& names,
                                     const std::vector<std::string>* signature) {
  std::string account;  // resolved lazily, once per frame
  bool auth_done = false, auth_ok = false;
  for (const auto& name : names) {
    StreamRef ref = ParseStream(name);
    if (ref.kind == StreamRef::kInvalid) {
      SendError(conn, 4006, "Invalid stream");
      continue;
    }
    if (name.rfind("account.", 0) == 0) {
      if (!auth_done) {
        auth_done = true;
        if (signature == nullptr) {
          SendError(conn, 4005, "Private streams require a signature");
        } else if (signature->size() != 4) {
          SendError(conn, 4005, "Invalid signature: expected [key, signature, timestamp, window]");
        } else {
          bp::WsSignature sig{(*signature)[0], (*signature)[1], (*signature)[2], (*signature)[3]};
          absl::Status v = bp::VerifyWsSubscribe(sig, NowMs());
          const AccountSpec* a =
              v.ok() ? ctx_->FindAccountByCredential("api_key", sig.api_key) : nullptr;
          if (!v.ok()) {
            SendError(conn, 4005, std::string(v.message()));
          } else if (a == nullptr) {
            SendError(conn, 4005, "Invalid API key");
          } else {
            account = a->id;
            auth_ok = true;
          }
        }
      }
      if (!auth_ok) continue;
      auto it = st.private_streams.find(name);
      if (it != st.private_streams.end()) {
        if (it->second == account) continue;
        Unsubscribe(conn, st, name);  // re-subscribed with another key
      }
      st.private_streams[name] = account;
      private_[account][name][conn->id()] = conn;
      if (ref.kind == StreamRef::kPositionUpdate) {
        SendPositionSnapshot(conn, account, name, ref.symbol);
      }
      continue;
    }
    Subscribe(conn, st, name, ref);
  }
}

void BackpackModule::Subscribe(const WsConnPtr& conn, ConnState& st, const std::string& name,
                               const StreamRef& ref) {
  if (!st.streams.insert(name).second) return;
  subs_[name][conn->id()] = conn;
  if (ref.kind == StreamRef::kAggDepth) ++symbols_[ref.symbol].agg_listeners[ref.cadence];
}

void BackpackModule::Unsubscribe(const WsConnPtr& conn, ConnState& st, const std::string& name) {
  auto p = st.private_streams.find(name);
  if (p != st.private_streams.end()) {
    auto acc = private_.find(p->second);
    if (acc != private_.end()) {
      auto s = acc->second.find(name);
      if (s != acc->second.end()) {
        s->second.erase(conn->id());
        if (s->second.empty()) acc->second.erase(s);
      }
    }
    st.private_streams.erase(p);
    return;
  }
  if (st.streams.erase(name) == 0) return;
  auto it = subs_.find(name);
  if (it != subs_.end()) {
    it->second.erase(conn->id());
    if (it->second.empty()) {
      subs_.erase(it);
      kline_last_.erase(name);  // a later subscriber starts from the open candle
    }
  }
  StreamRef ref = ParseStream(name);
  if (ref.kind == StreamRef::kAggDepth) {
    if (--symbols_[ref.symbol].agg_listeners[ref.cadence] <= 0) {
      symbols_[ref.symbol].agg_listeners[ref.cadence] = 0;
      symbols_[ref.symbol].batch[ref.cadence] = Batch();
    }
  }
}

bool BackpackModule::HasListeners(const std::string& stream) const {
  auto it = subs_.find(stream);
  return it != subs_.end() && !it->second.empty();
}

void BackpackModule::Publish(const std::string& stream, const std::string& data) {
  auto it = subs_.find(stream);
  if (it == subs_.end()) return;
  const std::string msg = Envelope(stream, data);
  for (auto& [id, weak] : it->second) {
    WsConnPtr c = weak.lock();
    if (c && c->open()) c->Send(msg);
  }
}

void BackpackModule::PublishPrivate(const std::string& account, const char* kind,
                                    const std::string& symbol, const std::string& data) {
  auto acc = private_.find(account);
  if (acc == private_.end()) return;
  const std::string base = std::string("account.") + kind;
  for (const std::string& name : {base, base + "." + symbol}) {
    auto s = acc->second.find(name);
    if (s == acc->second.end()) continue;
    const std::string msg = Envelope(name, data);
    for (auto& [id, weak] : s->second) {
      WsConnPtr c = weak.lock();
      if (c && c->open()) c->Send(msg);
    }
  }
}

// ---------------------------------------------------------------------------- market data

void BackpackModule::OnBookChange(const BookChange& change) {
  const SimInstrument& in = *change.instrument;
  const size_t i = in.index;
  SymbolState& s = symbols_[i];
  // skip_seq: prev_update_id is the skipped id, so the next U jumps by two.
  const bool gap = change.prev_update_id != s.last_id;
  s.last_id = change.update_id;
  const int64_t mid = ctx_->market().mid(i);
  s.stats.high = std::max(s.stats.high, mid);
  s.stats.low = std::min(s.stats.low, mid);
  if (!change.from_trade) {
    s.stats.last = mid;
    // klines: mids move the candles between trades
    s.candles_1s.OnPrice(change.time / 1'000'000, mid);
    s.candles_1m.OnPrice(change.time / 1'000'000, mid);
  }

  const std::string depth = "depth." + in.symbol();
  if (HasListeners(depth)) {
    JsonWriter w;
    w.BeginObject().Field("e", "depth").Field("E", ToUs(ctx_->Now())).Field("s", in.symbol());
    w.Key("a").BeginArray();
    for (const auto& c : change.changes) {
      if (c.side == BookSide::kAsk) WriteLevel(w, in, c.level.price, c.level.size);
    }
    w.EndArray().Key("b").BeginArray();
    for (const auto& c : change.changes) {
      if (c.side == BookSide::kBid) WriteLevel(w, in, c.level.price, c.level.size);
    }
    w.EndArray();
    // One engine update per event on the real-time stream: U == u.
    w.Field("U", change.update_id).Field("u", change.update_id).Field("T", ToUs(change.time));
    // Sim extension (venue clients skip unknown keys): send time in ns for latency benchmarks.
    w.Field("sim_ns", static_cast<int64_t>(ctx_->Now())).EndObject();
    Publish(depth, w.Take());
  }
  for (int c = 0; c < kCadences; ++c) {
    if (s.agg_listeners[c] <= 0) continue;
    Batch& b = s.batch[c];
    // A gap ends the window early so the next event's U shows it (U != previous u + 1).
    if (b.open && gap) FlushBatch(i, c);
    if (!b.open) {
      b.open = true;
      b.first = change.update_id;
    }
    b.last = change.update_id;
    b.last_time = change.time;
    for (const auto& lc : change.changes) {
      (lc.side == BookSide::kBid ? b.bids : b.asks)[lc.level.price] = lc.level.size;
    }
  }
  PushBookTicker(i, change.update_id, change.time);
}

void BackpackModule::FlushAggregated(int cadence) {
  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i].agg_listeners[cadence] > 0) FlushBatch(i, cadence);
  }
}

void BackpackModule::FlushBatch(size_t i, int cadence) {
  Batch& b = symbols_[i].batch[cadence];
  if (!b.open) return;
  const SimInstrument& in = ctx_->market().instrument(i);
  JsonWriter w;
  w.BeginObject().Field("e", "depth").Field("E", ToUs(ctx_->Now())).Field("s", in.symbol());
  w.Key("a").BeginArray();
  for (const auto& [p, q] : b.asks) WriteLevel(w, in, p, q);
  w.EndArray().Key("b").BeginArray();
  for (const auto& [p, q] : b.bids) WriteLevel(w, in, p, q);
  w.EndArray();
  w.Field("U", b.first).Field("u", b.last).Field("T", ToUs(b.last_time));
  w.Field("sim_ns", static_cast<int64_t>(ctx_->Now())).EndObject();
  b = Batch();
  Publish("depth." + std::string(kCadenceName[cadence]) + "." + in.symbol(), w.Take());
}

void BackpackModule::PushBookTicker(size_t i, uint64_t update_id, UnixNanos t) {
  const SimInstrument& in = ctx_->market().instrument(i);
  const std::string stream = "bookTicker." + in.symbol();
  SymbolState& s = symbols_[i];
  if (!HasListeners(stream)) {
    s.bbo = {};
    return;
  }
  const OrderBook& book = ctx_->market().book(i);
  auto bid = book.BestBid();
  auto ask = book.BestAsk();
  if (!bid || !ask) return;
  std::array<int64_t, 4> now = {bid->price, bid->size, ask->price, ask->size};
  if (now == s.bbo) return;
  s.bbo = now;
  JsonWriter w;
  w.BeginObject()
      .Field("e", "bookTicker")
      .Field("E", ToUs(ctx_->Now()))
      .Field("s", in.symbol())
      .Field("a", Fixed(ask->price, in.price_scale))
      .Field("A", Fixed(ask->size, in.size_scale))
      .Field("b", Fixed(bid->price, in.price_scale))
      .Field("B", Fixed(bid->size, in.size_scale))
      .Field("u", update_id)  // an integer in live captures (a string in the docs)
      .Field("T", ToUs(t))
      .EndObject();
  Publish(stream, w.Take());
}

void BackpackModule::OnTrade(const PublicTrade& t) {
  const SimInstrument& in = *t.instrument;
  SymbolState& s = symbols_[in.index];
  s.stats.volume += t.qty;
  s.stats.quote_volume += in.Notional(t.price, t.qty);
  ++s.stats.trades;
  s.stats.last = t.price;
  s.stats.high = std::max(s.stats.high, t.price);
  s.stats.low = std::min(s.stats.low, t.price);
  const bool taker_buy = t.taker_side == Side::kBuy;
  s.candles_1s.OnTrade(t.time / 1'000'000, t.price, t.qty, in.Notional(t.price, t.qty), taker_buy);
  s.candles_1m.OnTrade(t.time / 1'000'000, t.price, t.qty, in.Notional(t.price, t.qty), taker_buy);
  // Per-symbol sequential id (spec §7); the REST trade lists map the same engine id.
  const uint64_t trade_id = VenueTradeId(in.index, t.trade_id);
  const std::string stream = "trade." + in.symbol();
  if (!HasListeners(stream)) return;
  // The generated side has no venue order: synthetic ids keep the field shapes.
  const std::string maker_id = std::to_string(kOrderIdBase / 2 + 2 * t.trade_id);
  const std::string taker_id = std::to_string(kOrderIdBase / 2 + 2 * t.trade_id + 1);
  const bool buyer_taker = t.taker_side == Side::kBuy;
  JsonWriter w;
  w.BeginObject()
      .Field("e", "trade")
      .Field("E", ToUs(ctx_->Now()))
      .Field("s", in.symbol())
      .Field("p", Fixed(t.price, in.price_scale))
      .Field("q", Fixed(t.qty, in.size_scale))
      .Field("b", buyer_taker ? taker_id : maker_id)
      .Field("a", buyer_taker ? maker_id : taker_id)
      .Field("t", trade_id)
      .Field("T", ToUs(t.time))
      .Field("m", !buyer_taker)  // buyer is maker
      .EndObject();
  Publish(stream, w.Take());
}

uint64_t BackpackModule::VenueTradeId(size_t i, uint64_t engine_trade_id) const {
  const SymbolState& s = symbols_[i];
  auto [it, added] = s.trade_ids.try_emplace(engine_trade_id, 0);
  if (!added) return it->second;
  const uint64_t id = it->second = ++s.trade_seq;
  // REST lists only the core's last kRecentTradesKept prints: older ids are never asked again.
  if (s.trade_ids.size() > 2 * SimContext::kRecentTradesKept) s.trade_ids.erase(s.trade_ids.begin());
  return id;
}

std::string BackpackModule::WsMarkPrice(size_t i, UnixNanos t) const {
  const Market& m = ctx_->market();
  const SimInstrument& in = m.instrument(i);
  const std::string mark = Fixed(m.mark_price(i), in.price_scale);
  JsonWriter w;
  w.BeginObject()
      .Field("e", "markPrice")
      .Field("E", ToUs(ctx_->Now()))
      .Field("s", in.symbol())
      .Field("p", mark)
      .Field("f", RateText(m.funding_rate(i)))
      .Field("i", mark)
      .Field("n", ToMs(ctx_->NextFundingTime(i)))  // ms, unlike E/T
      .Field("T", ToUs(t))
      .EndObject();
  return w.Take();
}

void BackpackModule::PushMarkPrices() {
  const UnixNanos now = ctx_->Now();
  for (size_t i = 0; i < symbols_.size(); ++i) {
    const std::string stream = "markPrice." + ctx_->market().instrument(i).symbol();
    if (HasListeners(stream)) Publish(stream, WsMarkPrice(i, now));
  }
}

void BackpackModule::PushTickers() {
  for (size_t i = 0; i < symbols_.size(); ++i) {
    const SimInstrument& in = ctx_->market().instrument(i);
    const std::string stream = "ticker." + in.symbol();
    if (!HasListeners(stream)) continue;
    const Stats& s = symbols_[i].stats;
    MarginFns f = MarginFor(in);
    // 24 h volume: the synthetic baseline at the opening price + sim trades.
    __int128 base = static_cast<__int128>(f.daily_quote);
    for (int k = 0; k < in.size_scale + in.price_scale; ++k) base *= 10;
    int64_t base_qty = s.open > 0 ? static_cast<int64_t>(base / (static_cast<__int128>(s.open) * 100000000LL)) : 0;
    JsonWriter w;
    w.BeginObject()
        .Field("e", "ticker")
        .Field("E", ToUs(ctx_->Now()))
        .Field("s", in.symbol())
        .Field("o", Fixed(s.open, in.price_scale))
        .Field("c", Fixed(s.last, in.price_scale))
        .Field("h", Fixed(s.high, in.price_scale))
        .Field("l", Fixed(s.low, in.price_scale))
        .Field("v", Trimmed(base_qty + s.volume, in.size_scale))
        .Field("V", MoneyText(f.daily_quote + s.quote_volume))
        .Field("n", 20000 + s.trades)  // an integer here, a string in REST tickers
        .EndObject();
    Publish(stream, w.Take());
  }
}

void BackpackModule::PushKlines() {
  // kline.<interval>.<symbol>: the open candle once a second (asyncapi: "up to once per second
  // while the candle is open"), and the previous one with X:true once its bucket has passed.
  // Same candles as GET /api/v1/klines; t/T are ISO strings here (§11).
  std::vector<std::string> streams;  // collected first: a send may close a connection
  for (const auto& [name, conns] : subs_) {
    if (!conns.empty() && name.rfind("kline.", 0) == 0) streams.push_back(name);
  }
  const int64_t now_ms = ctx_->Now() / 1'000'000;
  for (const std::string& stream : streams) {
    StreamRef ref = ParseStream(stream);
    if (ref.kind != StreamRef::kKline) continue;
    const size_t dot = stream.find('.', 6);
    const std::optional<CandleInterval> iv = KlineInterval(stream.substr(6, dot - 6));
    if (!iv) continue;
    const SimInstrument& in = ctx_->market().instrument(static_cast<size_t>(ref.symbol));
    auto json = [&](const Candle& c, bool closed) {
      JsonWriter w;
      w.BeginObject()
          .Field("e", "kline")
          .Field("E", ToUs(ctx_->Now()))
          .Field("s", in.symbol())
          .Field("t", IsoUtc(c.open_ms * 1'000'000, false))
          .Field("T", IsoUtc(iv->BucketEnd(c.open_ms) * 1'000'000, false))
          .Field("o", Trimmed(c.open, in.price_scale))
          .Field("c", Trimmed(c.close, in.price_scale))
          .Field("h", Trimmed(c.high, in.price_scale))
          .Field("l", Trimmed(c.low, in.price_scale))
          .Field("v", Trimmed(c.volume, in.size_scale))
          .Field("n", c.trades)
          .Field("X", closed)
          .EndObject();
      return w.Take();
    };
    // The candle of one bucket; none when nothing was priced in it (quiet periods, module.h).
    const CandleSeries& series = KlineSeries(in.index, *iv);
    auto candle_at = [&](int64_t bucket_ms) { return series.Range(*iv, bucket_ms, bucket_ms, 1); };
    const int64_t bucket = iv->BucketStart(now_ms);
    int64_t& last = kline_last_[stream];
    if (last != 0 && last < bucket) {
      for (const Candle& c : candle_at(last)) Publish(stream, json(c, true));
    }
    last = bucket;
    for (const Candle& c : candle_at(bucket)) Publish(stream, json(c, false));
  }
}

void BackpackModule::PushOpenInterest() {
  for (size_t i = 0; i < symbols_.size(); ++i) {
    const SimInstrument& in = ctx_->market().instrument(i);
    const std::string stream = "openInterest." + in.symbol();
    if (!HasListeners(stream)) continue;
    JsonWriter w;
    w.BeginObject()
        .Field("e", "openInterest")
        .Field("E", ToUs(ctx_->Now()))
        .Field("s", in.symbol())
        .Field("o", Trimmed(OpenInterest(i), in.size_scale))
        .EndObject();
    Publish(stream, w.Take());
  }
}

void BackpackModule::OnFunding(const FundingEvent& e) {
  const SimInstrument& in = *e.instrument;
  const UnixNanos interval = in.spec.funding_interval_hours * kHourNs;
  // The settled interval's end on the symbol's grid (a forced funding_tick rounds down).
  symbols_[in.index].funding.push_back({e.rate, e.time / interval * interval});
  const std::string stream = "markPrice." + in.symbol();
  if (HasListeners(stream)) Publish(stream, WsMarkPrice(in.index, e.time));
}

// ------------------------------------------------------------------------- account events

std::string BackpackModule::OrderUpdateJson(const char* event, const SimOrder& o,
                                            const SimFill* fill, UnixNanos t) const {
  const SimInstrument& in = *o.instrument;
  auto meta = order_meta_.find(o.id);
  const std::string stp = meta == order_meta_.end() ? "RejectTaker" : meta->second.stp;
  const bool market = o.type == OrderType::kMarket;
  const std::string_view ev(event);
  const std::string quote = meta == order_meta_.end() ? std::string() : meta->second.quote_qty;
  JsonWriter w;
  w.BeginObject().Field("e", event).Field("E", ToUs(ctx_->Now())).Field("s", in.symbol());
  if (auto cid = ClientIdOf(o)) w.Field("c", static_cast<int64_t>(*cid));
  w.Field("S", SideText(o.side))
      .Field("o", market ? "MARKET" : "LIMIT")  // upper case here, unlike REST
      .Field("f", TifText(o))
      .Field("q", Fixed(o.qty, in.size_scale));
  // Q: the order's quote quantity, as sent, on orders placed by quoteQuantity (the capture
  // ws_orderUpdate.json: q = base quantity the venue derived, Q = "4.30" requested). Orders placed
  // by quantity have none, so Q is left out (the spec lists Q without saying when it is absent;
  // this is the reading the captures support). I (related order id): an attached take-profit /
  // stop-loss order's parent, absent otherwise (as in the live captures); H (strategy id) belongs
  // to strategy orders, which the sim does not have.
  if (!quote.empty()) w.Field("Q", quote);
  if (!market) w.Field("p", Fixed(o.price, in.price_scale));
  if (o.conditional()) {
    // Trigger orders: P trigger price, B triggerBy (only when sent), Y trigger quantity. While
    // the order waits, q is its trigger quantity too (REST shows quantity "0" then, §10.1; the
    // spec says nothing of q, and the size it will trade is what a stream client tracks).
    w.Field("P", Fixed(o.trigger_price, in.price_scale));
    const bool known = meta != order_meta_.end();
    if (known && !meta->second.trigger_by.empty()) w.Field("B", meta->second.trigger_by);
    const int64_t tq = known && meta->second.trigger_qty > 0 ? meta->second.trigger_qty : o.qty;
    w.Field("Y", Fixed(tq, in.size_scale));
  }
  // Attached take-profit / stop-loss on the parent: a/b trigger px, j/k limit px (when set),
  // d/g trigger-by (when sent).
  if (o.tp_trigger_price != 0) w.Field("a", Fixed(o.tp_trigger_price, in.price_scale));
  if (o.sl_trigger_price != 0) w.Field("b", Fixed(o.sl_trigger_price, in.price_scale));
  if (o.tp_limit_price != 0) w.Field("j", Fixed(o.tp_limit_price, in.price_scale));
  if (o.sl_limit_price != 0) w.Field("k", Fixed(o.sl_limit_price, in.price_scale));
  if (meta != order_meta_.end()) {
    if (o.tp_trigger_price != 0 && !meta->second.tp_trigger_by.empty()) {
      w.Field("d", meta->second.tp_trigger_by);
    }
    if (o.sl_trigger_price != 0 && !meta->second.sl_trigger_by.empty()) {
      w.Field("g", meta->second.sl_trigger_by);
    }
  }
  w.Field("X", OrderStatusText(o));
  if (ev == "orderExpired") {
    const char* r = ExpiryReason(o);
    if (r[0] != '\0') w.Field("R", r);
  }
  w.Field("i", VenueOrderId(o.id));
  if (fill != nullptr) {
    // The engine's account-wide trade id, not the per-symbol public one: the gateway dedupes
    // fills per account by trade id alone (gateway/fanout/order_events.cpp), so per-symbol ids
    // could collide across symbols. Whether the venue's fill ids are the public per-symbol ones
    // is not in the spec.
    w.Field("t", fill->trade_id)
        .Field("l", Fixed(fill->qty, in.size_scale))
        .Field("L", Fixed(fill->price, in.price_scale));
  } else if (ev == "orderAccepted") {
    w.Key("t").Null();  // captures show t: null on accept
  }
  w.Field("z", Trimmed(o.filled, in.size_scale)).Field("Z", MoneyText(o.filled_notional));
  if (fill != nullptr) {
    w.Field("m", fill->maker).Field("n", MoneyText(fill->fee)).Field("N", "USDC");
  }
  w.Field("V", stp)
      .Field("r", o.reduce_only)
      .Field("y", o.tif == TimeInForce::kPostOnly)
      .Field("O", IsLiquidationOrder(o) ? "LIQUIDATION_AUTOCLOSE" : "USER");
  if (o.parent_id != 0) w.Field("I", VenueOrderId(o.parent_id));
  w.Field("T", ToUs(t)).EndObject();
  return w.Take();
}

std::string BackpackModule::PositionUpdateJson(const char* event, const std::string& account,
                                               const SimPosition& p, UnixNanos t) const {
  const SimInstrument& in = *p.instrument;
  MarginFns f = MarginFor(in);
  auto track = positions_.find(account + '\x1f' + in.symbol());
  const int64_t abs_size = p.size < 0 ? -p.size : p.size;
  const std::string entry = p.EntryPrice().ToNormalizedString();
  JsonWriter w;
  w.BeginObject();
  if (event != nullptr) w.Field("e", event);
  w.Field("E", ToUs(ctx_->Now()))
      .Field("s", in.symbol())
      .Field("b", entry)
      .Field("B", entry)
      .Field("f", f.imf_base)
      .Field("M", Trimmed(p.mark_price, in.price_scale))
      .Field("m", f.mmf_base)
      .Field("q", Trimmed(p.size, in.size_scale))
      .Field("Q", Trimmed(abs_size, in.size_scale))
      .Field("n", MoneyText(in.Notional(p.mark_price, abs_size)))
      .Field("i", track == positions_.end() ? uint64_t{0} : track->second.id)
      .Field("p", MoneyText(p.realized_pnl))
      .Field("P", MoneyText(p.unrealized_pnl))
      .Field("l", "0")
      .Field("T", ToUs(t))
      .EndObject();
  return w.Take();
}

void BackpackModule::SendPositionSnapshot(const WsConnPtr& conn, const std::string& account,
                                          const std::string& stream, int symbol) {
  const UnixNanos now = ctx_->Now();
  for (const SimPosition& p : ctx_->engine().Positions(account)) {
    if (symbol >= 0 && p.instrument->index != static_cast<size_t>(symbol)) continue;
    // One message per open position, without "e".
    conn->Send(Envelope(stream, PositionUpdateJson(nullptr, account, p, now)));
  }
}

void BackpackModule::TrackFill(const std::string& account, const SimFill& f) {
  if (f.instrument == nullptr) return;
  const SimInstrument& in = *f.instrument;
  PositionTrack& t = positions_[account + '\x1f' + in.symbol()];
  if (t.record < 0) {  // this fill opens a position from flat
    PositionRecord r;
    r.id = next_position_id_++;
    r.account = account;
    r.symbol = in.index;
    r.opened = f.time;
    // The engine's realized PnL and funding are cumulative per symbol; an opening fill realizes
    // nothing, so the values now are the baseline of this position.
    const SimPosition now = ctx_->engine().Position(account, in.index);
    r.pnl_base = now.realized_pnl;
    r.funding_base = now.funding;
    t.record = static_cast<int64_t>(position_history_.size());
    position_history_.push_back(std::move(r));
  }
  PositionRecord& r = position_history_[static_cast<size_t>(t.record)];
  r.fees += f.fee;
  const int64_t delta = f.side == Side::kBuy ? f.qty : -f.qty;
  if (r.run_size != 0 && (r.run_size > 0) != (delta > 0)) {
    const int64_t closed = std::min(f.qty, r.run_size < 0 ? -r.run_size : r.run_size);
    r.closed_volume += closed;
    if (f.liquidation) r.liquidated += closed;
  }
  r.run_size += delta;
  r.last_price = f.price;
}

void BackpackModule::CancelOrphanTpSl(const std::string& account, size_t i) {
  Engine& engine = ctx_->engine();
  std::vector<uint64_t> orphans;
  for (const SimOrder* o : engine.OpenOrders(account)) {
    if (o->parent_id == 0 || !o->awaiting_trigger() || o->instrument->index != i) continue;
    const int64_t size = engine.Position(account, i, o->position_side).size;
    // A sell child closes a long: nothing to close when flat or short (a buy child the reverse).
    const bool closes = o->side == Side::kSell ? size > 0 : size < 0;
    if (!closes) orphans.push_back(o->id);
  }
  for (uint64_t id : orphans) engine.Cancel(account, id);
}

void BackpackModule::OnAccountEvent(const AccountEvent& e) {
  switch (e.kind) {
    case AccountEvent::Kind::kOrder: {
      const SimOrder& o = e.order;
      if (o.instrument == nullptr) return;
      if (!order_meta_.count(o.id)) {
        OrderMeta& meta = order_meta_[o.id];
        // The pending values belong to the order being placed, never to a liquidation order
        // the engine may create meanwhile.
        if (o.parent_id != 0) {
          // An attached take-profit / stop-loss child, parked by a fill of its parent: its
          // triggerBy is the parent's takeProfitTriggerBy / stopLossTriggerBy, its STP the
          // parent's; its size grows with the parent's fills (trigger_qty 0: read o.qty).
          const SimOrder* parent = ctx_->engine().FindOrder(o.parent_id);
          auto pm = order_meta_.find(o.parent_id);
          if (parent != nullptr && pm != order_meta_.end()) {
            meta.stp = pm->second.stp;
            meta.trigger_by = parent->tp_child_id == o.id ? pm->second.tp_trigger_by
                                                          : pm->second.sl_trigger_by;
          }
        } else if (!IsLiquidationOrder(o)) {
          meta.stp = pending_stp_.empty() ? "RejectTaker" : pending_stp_;
          meta.quote_qty = pending_quote_;
          meta.trigger_by = pending_trigger_by_;
          meta.tp_trigger_by = pending_tp_by_;
          meta.sl_trigger_by = pending_sl_by_;
          if (o.conditional()) meta.trigger_qty = o.qty;  // as sent (not yet trimmed)
        }
      }
      const std::string& sym = o.instrument->symbol();
      OrderMeta& meta = order_meta_[o.id];
      if (o.triggered && meta.triggered_at == 0 && !e.has_fill) {
        // The first event of a trigger order whose trigger just fired (the engine executes it
        // as a new order now): triggerPlaced, then the usual events of a new order
        // (orderAccepted, fills / expiry below). Refused by the engine (margin, reduce-only,
        // size): triggerFailed, status TriggerFailed, and nothing else. A post-only cross is
        // placed and expires (PostOnlyTaker) as for any new order.
        meta.triggered_at = e.time;
        if (o.status == OrderStatus::kRejected && o.reject != RejectCode::kPostOnlyViolation) {
          return PublishPrivate(e.account, "orderUpdate", sym,
                                OrderUpdateJson("triggerFailed", o, nullptr, e.time));
        }
        SimOrder placed = o;
        if (placed.status == OrderStatus::kRejected) placed.status = OrderStatus::kOpen;
        PublishPrivate(e.account, "orderUpdate", sym,
                       OrderUpdateJson("triggerPlaced", placed, nullptr, e.time));
      }
      if (e.modified && !e.has_fill && o.open()) {
        // The engine changed the order's size by itself (§8.1 orderModified: a resting
        // reduce-only order shrunk to a smaller position; also an attached TP/SL child grown by
        // a further fill of its parent — the spec names no event for that, orderModified is
        // the nearest). q carries the new size.
        return PublishPrivate(e.account, "orderUpdate", sym,
                              OrderUpdateJson("orderModified", o, nullptr, e.time));
      }
      if (e.has_fill) {
        TrackFill(e.account, e.fill);
        // A fill may have closed the position manually (or by liquidation): its attached TP/SL
        // children go then. backpack.md is silent; the venue ties them to the position, and
        // leaving reduce-only triggers armed on a flat position only yields a triggerFailed
        // later (or, after a reopen, closes the new position at the old levels). Our reading,
        // the safe one: cancel them (orderCancelled). Checked after this event's handling (the
        // engine is mid-fill here), on the loop.
        ctx_->loop().Post([this, account = e.account, i = o.instrument->index] {
          CancelOrphanTpSl(account, i);
        });
        return PublishPrivate(e.account, "orderUpdate", sym,
                              OrderUpdateJson("orderFill", o, &e.fill, e.fill.time));
      }
      switch (o.status) {
        case OrderStatus::kOpen:
        case OrderStatus::kPendingNew:
          return PublishPrivate(e.account, "orderUpdate", sym,
                                OrderUpdateJson("orderAccepted", o, nullptr, e.time));
        case OrderStatus::kRejected: {
          // Only a post-only cross becomes a venue order (accepted, then expired PostOnlyTaker);
          // other engine rejections are REST errors and never reach the stream.
          if (o.reject != RejectCode::kPostOnlyViolation) return;
          SimOrder accepted = o;
          accepted.status = OrderStatus::kOpen;
          PublishPrivate(e.account, "orderUpdate", sym,
                         OrderUpdateJson("orderAccepted", accepted, nullptr, e.time));
          return PublishPrivate(e.account, "orderUpdate", sym,
                                OrderUpdateJson("orderExpired", o, nullptr, e.time));
        }
        case OrderStatus::kCanceled:
          return PublishPrivate(
              e.account, "orderUpdate", sym,
              OrderUpdateJson(ExpiryReason(o)[0] != '\0' ? "orderExpired" : "orderCancelled", o,
                              nullptr, e.time));
        case OrderStatus::kExpired:
          return PublishPrivate(e.account, "orderUpdate", sym,
                                OrderUpdateJson("orderExpired", o, nullptr, e.time));
        default:
          return;
      }
    }
    case AccountEvent::Kind::kPosition: {
      const SimPosition& p = e.position;
      if (p.instrument == nullptr) return;
      const std::string key = e.account + '\x1f' + p.instrument->symbol();
      PositionTrack& t = positions_[key];
      const int64_t prev = t.size;
      t.size = p.size;
      PositionRecord* r = t.record >= 0 ? &position_history_[static_cast<size_t>(t.record)] : nullptr;
      if (r != nullptr) {
        if (p.size != 0) r->entry = p.EntryPrice().ToNormalizedString();
        r->mark = p.mark_price;
        if (p.size == 0) {  // frozen for the history row
          r->closed = e.time;
          r->realized = p.realized_pnl - r->pnl_base;
          r->funding = p.funding - r->funding_base;
          t.record = -1;
        }
      }
      if (prev == 0 && p.size == 0) return;
      const char* ev = "positionAdjusted";
      if (prev == 0) {
        // The id was given to the history row by the opening fill (TrackFill).
        t.id = r != nullptr ? r->id : next_position_id_++;
        ev = "positionOpened";
      } else if (p.size == 0) {
        ev = "positionClosed";
      }
      return PublishPrivate(e.account, "positionUpdate", p.instrument->symbol(),
                            PositionUpdateJson(ev, e.account, p, e.time));
    }
    case AccountEvent::Kind::kFunding: {
      if (e.position.instrument == nullptr) return;
      const SimInstrument& in = *e.position.instrument;
      const UnixNanos interval = in.spec.funding_interval_hours * kHourNs;
      funding_payments_.push_back({e.account, in.symbol(), e.amount,
                                   ctx_->market().funding_rate(in.index),
                                   e.time / interval * interval});
      return;
    }
    default:
      return;  // no balance stream on Backpack (collateral is polled)
  }
}

}  // namespace perpgw::sim::backpack
