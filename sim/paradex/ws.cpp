// Paradex module WebSocket: JSON-RPC 2.0 on /v1 (auth, subscribe, unsubscribe), public channels
// as SBE binary frames when the upgrade negotiated ?sbeSchemaId=1&sbeSchemaVersion=V (else JSON
// subscription pushes), private channels always JSON. Book feeds are throttled (50 / 100 ms),
// top-15, seq_no = the book's update id (increasing, not contiguous).
#include <algorithm>
#include <cstdio>

#include "sim/paradex/module.h"

namespace perpgw::sim::paradex {
namespace {

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// A JSON-RPC id as it goes back: numbers verbatim, anything else quoted, absent = null.
std::string IdJson(const std::string& id) {
  if (id.empty()) return "null";
  bool numeric = true;
  for (size_t i = 0; i < id.size(); ++i) {
    if (!(id[i] >= '0' && id[i] <= '9') && !(i == 0 && id[i] == '-')) numeric = false;
  }
  if (numeric) return id;
  JsonWriter w;
  w.String(id);
  return w.Take();
}

using Window = std::map<int64_t, int64_t>;

}  // namespace

// ---- connections ----------------------------------------------------------------------------

bool ParadexModule::AcceptWs(const HttpRequest& upgrade, HttpResponse& reject) {
  if (upgrade.path != "/v1" && upgrade.path != "/v1/") {
    reject.Json(404, R"({"error":"NOT_FOUND","message":"websocket path is /v1"})");
    return false;
  }
  bool has_id = upgrade.HasQuery("sbeSchemaId"), has_v = upgrade.HasQuery("sbeSchemaVersion");
  if (!has_id && !has_v) return true;  // JSON mode (what clients without SBE get)
  std::string id = upgrade.Query("sbeSchemaId"), v = upgrade.Query("sbeSchemaVersion");
  if (!has_id || !has_v || id != "1" || (v != "0" && v != "1" && v != "2")) {
    reject.Json(
        400,
        R"J({"error":"VALIDATION_ERROR","message":"unsupported SBE schema id/version (supported: 1:0, 1:1, 1:2)"})J");
    return false;
  }
  if (sbe_refusals_ > 0) {
    --sbe_refusals_;
    reject.Json(400,
                R"J({"error":"VALIDATION_ERROR","message":"SBE negotiation refused (injected)"})J");
    return false;
  }
  return true;
}

void ParadexModule::OnWsOpen(const WsConnPtr& conn, const HttpRequest& upgrade) {
  ConnState& st = conn->Data<ConnState>();
  if (upgrade.HasQuery("sbeSchemaVersion")) {
    st.sbe_version = upgrade.Query("sbeSchemaVersion")[0] - '0';
  }
  conns_[conn->id()] = conn;
}

void ParadexModule::OnWsClose(const WsConnPtr& conn) {
  conns_.erase(conn->id());
  // Cancel on Disconnect (order.cancel_on_disconnect): the venue's spec says "all orders placed
  // (or already tracked) during this connection are automatically cancelled if the WebSocket
  // disconnects unexpectedly". The sim reads it as every open order of the connection's account
  // (parked triggers included, wherever they were placed: REST or WS), and cancels on any close
  // — the transport does not tell a client's close frame from a dropped peer, and a dead man's
  // switch that misses a close is the worse error. The CLOSED states go out on the account's
  // other connections.
  if (!conn->HasData()) return;
  const ConnState& st = conn->Data<ConnState>();
  if (st.cancel_on_disconnect && !st.account.empty()) ctx_->engine().CancelAll(st.account, "");
}

void ParadexModule::OnWsText(const WsConnPtr& conn, std::string_view text) {
  HandleRpc(conn, conn->Data<ConnState>(), text);
}

void ParadexModule::Reply(const WsConnPtr& conn, const std::string& id,
                          const std::string& result_json) {
  int64_t us = ToUs(ctx_->Now());
  conn->Send("{\"jsonrpc\":\"2.0\",\"result\":" + result_json + ",\"id\":" + IdJson(id) +
             ",\"usIn\":" + std::to_string(us) + ",\"usOut\":" + std::to_string(us) +
             ",\"usDiff\":0}");
}

void ParadexModule::ReplyError(const WsConnPtr& conn, const std::string& id, int code,
                               const std::string& message, const std::string& data) {
  JsonWriter w;
  w.BeginObject().Field("jsonrpc", "2.0").Key("error").BeginObject();
  w.Field("code", code).Field("message", message);
  if (!data.empty()) w.Field("data", data);
  w.EndObject();
  w.Key("id").Raw(IdJson(id));
  int64_t us = ToUs(ctx_->Now());
  w.Field("usIn", us).Field("usOut", us).Field("usDiff", int64_t{0});
  w.EndObject();
  conn->Send(w.Take());
}

void ParadexModule::HandleRpc(const WsConnPtr& conn, ConnState& st, std::string_view text) {
  auto f = ParseJsonObject(text);
  if (!f.ok()) return ReplyError(conn, "", -32700, "parse error");
  auto get = [&](const char* k) {
    auto it = f->find(k);
    return it == f->end() || it->second == "null" ? std::string() : it->second;
  };
  const std::string id = get("id"), method = get("method");
  JsonFields params;
  if (!get("params").empty()) {
    auto p = ParseJsonObject(get("params"));
    if (!p.ok()) return ReplyError(conn, id, -32602, "invalid params");
    params = std::move(*p);
  }
  auto param = [&](const char* k) {
    auto it = params.find(k);
    return it == params.end() ? std::string() : it->second;
  };
  if (method == "auth") {
    std::string bearer = param("bearer");
    std::string sub;
    int64_t jti = 0, exp = 0;
    if (bearer.empty()) return ReplyError(conn, id, 40110, "Malformed Bearer Token");
    if (!jwt_.Verify(bearer, &sub, &jti, &exp) || exp <= NowMs() / 1000 || jti < first_valid_jti_) {
      return ReplyError(conn, id, 40111, "Invalid Bearer Token");
    }
    const AccountSpec* a = AccountByAddress(sub);
    if (a == nullptr) return ReplyError(conn, id, 40111, "Invalid Bearer Token");
    st.account = a->id;
    return Reply(conn, id, "{\"node_id\":\"perpgw-sim\"}");
  }
  if (method == "subscribe" || method == "unsubscribe") {
    const std::string channel = param("channel");
    if (channel.empty()) {
      return ReplyError(conn, id, -32600, "invalid subscribe request", "invalid channel");
    }
    if (method == "unsubscribe") {
      if (st.channels.erase(channel) == 0) {
        return ReplyError(conn, id, -32600, "invalid unsubscribe request", "not subscribed");
      }
      st.books.erase(channel);
      JsonWriter w;
      w.BeginObject().Field("channel", channel).EndObject();
      return Reply(conn, id, w.Take());
    }
    std::string problem = Subscribe(conn, st, channel);
    if (!problem.empty()) return ReplyError(conn, id, -32600, "invalid subscribe request", problem);
    JsonWriter w;
    w.BeginObject().Field("channel", channel).EndObject();
    return Reply(conn, id, w.Take());
  }
  if (StartsWith(method, "order.")) return HandleOrderRpc(conn, st, id, method, params);
  ReplyError(conn, id, -32601, "method does not exist");
}

// A venue refusal of an order.* call. The OpenRPC spec lists only the generic codes for these
// methods and gives no example of a refused order, so the sim's choice: a body that does not
// bind (BINDING_ERROR) is -32602 "Invalid method parameters"; every other refusal is 100
// ("Method error", the docs' Paradex-specific code for a method that failed) with the REST
// error code as `message` (INVALID_ORDER_SIGNATURE, ORDER_ID_NOT_FOUND, ...) and the REST
// message as `data` — the same codes and checks as the REST endpoints.
void ParadexModule::ReplyApiError(const WsConnPtr& conn, const std::string& id,
                                  const ApiError& e) {
  if (e.code == "BINDING_ERROR") {
    return ReplyError(conn, id, -32602, "Invalid method parameters", e.message);
  }
  ReplyError(conn, id, 100, e.code, e.message);
}

// order.create / create_batch / modify / cancel / cancel_batch / cancel_all /
// cancel_on_disconnect (paradex-docs fern/apis/prod_ws/openrpc.json): the REST endpoints' code
// paths (CreateOrder, CreateBatch, AmendOrder, CancelOne, CancelMany, CancelEvery) with the
// spec's result shapes. Authentication first (40300 otherwise). The reply goes out before the
// orders.* / fills.* updates the call causes, as with REST.
void ParadexModule::HandleOrderRpc(const WsConnPtr& conn, ConnState& st, const std::string& id,
                                   const std::string& method, const JsonFields& params) {
  static constexpr std::string_view kMethods[] = {
      "order.create",     "order.create_batch", "order.modify",
      "order.cancel",     "order.cancel_batch", "order.cancel_all",
      "order.cancel_on_disconnect"};
  if (std::find(std::begin(kMethods), std::end(kMethods), method) == std::end(kMethods)) {
    return ReplyError(conn, id, -32601, "method does not exist");
  }
  const AccountSpec* acct = nullptr;
  for (const AccountSpec& a : ctx_->accounts()) {
    if (a.id == st.account) acct = &a;
  }
  if (st.account.empty() || acct == nullptr) {
    return ReplyError(conn, id, 40300, "Permission denied \u2014 authentication required");
  }
  auto param = [&](const char* k) {
    auto it = params.find(k);
    return it == params.end() || it->second == "null" ? std::string() : it->second;
  };
  const int64_t now_ms = NowMs();
  // {"order": ..., "created_at", "received_at"} for an accepted order (create, create_batch).
  auto created = [&](JsonWriter& w, const SimOrder& o) {
    w.BeginObject()
        .Key("order")
        .Raw(OrderJson(o, /*as_new=*/true))
        .Field("created_at", ToMs(o.created))
        .Field("received_at", now_ms)
        .EndObject();
  };
  // Cancels emit the CLOSED states at once: held like a placement's, so that on this socket
  // the reply comes first and the updates after it.
  auto hold = [&](auto&& act) {
    deferring_ = true;
    const bool ok = act();
    deferring_ = false;
    return ok;
  };
  ApiError err;
  if (method == "order.create") {
    std::optional<SimOrder> placed = CreateOrder(*acct, params, &err);
    if (!placed) return ReplyApiError(conn, id, err);
    JsonWriter w;
    created(w, *placed);
    Reply(conn, id, w.Take());
    return FlushDeferred();
  }
  if (method == "order.create_batch") {
    auto outcomes = CreateBatch(*acct, param("orders"), &err);
    if (!outcomes) return ReplyApiError(conn, id, err);
    // results[i]: {order, created_at, received_at} or {error} (the spec: "Error message
    // (present on failure)"); the sim puts the REST code there and the text in `message`.
    JsonWriter w;
    w.BeginObject().Key("results").BeginArray();
    for (const BatchOutcome& o : *outcomes) {
      if (o.order) {
        created(w, *o.order);
      } else {
        w.BeginObject().Field("error", o.err.code).Field("message", o.err.message).EndObject();
      }
    }
    w.EndArray().EndObject();
    Reply(conn, id, w.Take());
    return FlushDeferred();
  }
  if (method == "order.modify") {
    const std::string order_id = param("id");
    if (order_id.empty()) {
      return ReplyError(conn, id, -32602, "Invalid method parameters", "id is required");
    }
    std::optional<SimOrder> amended = AmendOrder(*acct, order_id, params, &err);
    if (!amended) return ReplyApiError(conn, id, err);
    Reply(conn, id, "{\"order\":" + OrderJson(*amended) + "}");
    return FlushDeferred();
  }
  if (method == "order.cancel") {
    // Either id, or client_id + market.
    Engine& e = ctx_->engine();
    const std::string order_id = param("id"), cid = param("client_id"), market = param("market");
    const SimOrder* o = nullptr;
    const bool by_client_id = order_id.empty();
    if (!by_client_id) {
      auto engine_id = EngineOrderId(order_id);
      o = engine_id ? e.FindOrder(*engine_id) : nullptr;
    } else {
      if (cid.empty() || market.empty()) {
        return ReplyError(conn, id, -32602, "Invalid method parameters",
                          "id, or client_id and market, is required");
      }
      o = e.FindByClientId(acct->id, cid);
      if (o != nullptr && o->instrument->symbol() != market) o = nullptr;
    }
    if (o != nullptr && o->account != acct->id) o = nullptr;
    if (!hold([&] { return CancelOne(*acct, o, by_client_id, &err); })) {
      return ReplyApiError(conn, id, err);
    }
    JsonWriter w;
    w.BeginObject()
        .Field("order_id", paradex::VenueOrderId(o->id))
        .Field("status", "QUEUED_FOR_CANCELLATION")
        .EndObject();
    Reply(conn, id, w.Take());
    return FlushDeferred();
  }
  if (method == "order.cancel_batch") {
    if (param("order_ids").empty()) {
      return ReplyError(conn, id, -32602, "Invalid method parameters", "order_ids is required");
    }
    std::optional<std::string> results;
    if (!hold([&] { return (results = CancelMany(*acct, params, &err)).has_value(); })) {
      return ReplyApiError(conn, id, err);
    }
    Reply(conn, id, *results);
    return FlushDeferred();
  }
  if (method == "order.cancel_all") {
    if (!hold([&] { return CancelEvery(*acct, param("market"), &err); })) {
      return ReplyApiError(conn, id, err);
    }
    Reply(conn, id, R"({"status":"ok"})");
    return FlushDeferred();
  }
  // order.cancel_on_disconnect {enabled: bool}
  const std::string enabled = param("enabled");
  if (enabled != "true" && enabled != "false") {
    return ReplyError(conn, id, -32602, "Invalid method parameters", "enabled must be a boolean");
  }
  st.cancel_on_disconnect = enabled == "true";
  Reply(conn, id, std::string("{\"enabled\":") + enabled + "}");
}

std::string ParadexModule::Subscribe(const WsConnPtr& conn, ConnState& st,
                                     const std::string& channel) {
  if (st.channels.count(channel) != 0) return "already subscribed";
  const Market& m = ctx_->market();
  auto market_ok = [&](std::string_view market, bool all_ok) {
    return (all_ok && market == "ALL") || m.Find(market) != nullptr;
  };
  size_t dot = channel.find('.');
  std::string head = channel.substr(0, dot);
  std::string rest = dot == std::string::npos ? std::string() : channel.substr(dot + 1);
  if (head == "order_book") {
    // order_book.{market}.{feed}@15@{rate}[@{price_tick}]
    size_t d = rest.find('.');
    if (d == std::string::npos) return "invalid channel";
    const SimInstrument* in = m.Find(std::string_view(rest).substr(0, d));
    if (in == nullptr) return "invalid channel";
    std::string spec = rest.substr(d + 1);
    BookSub sub;
    sub.market = in->index;
    if (StartsWith(spec, "deltas@15@") || StartsWith(spec, "interactive@15@")) {
      sub.feed = Feed::kDeltas;
    } else if (StartsWith(spec, "snapshot@15@")) {
      sub.feed = Feed::kSnapshot;
    } else {
      return "invalid channel";
    }
    std::string rate = spec.substr(spec.find("@15@") + 4);
    if (size_t at = rate.find('@'); at != std::string::npos) {
      // @{price_tick}: one of the venue's tokens, a multiple of the market's tick (internal.h),
      // spelled with underscores ("sub-cent tokens use underscores, never dots", paradex.md §6);
      // any other suffix is an invalid channel like any other malformed name.
      std::string_view token = std::string_view(rate).substr(at + 1);
      auto g = ParsePriceTick(*in, token);
      if (!g || token.find('.') != std::string_view::npos) return "invalid channel";
      sub.group = *g;
      rate.resize(at);
    }
    if (rate == "50ms") {
      sub.every = 1;
    } else if (rate == "100ms") {
      sub.every = 2;
    } else {
      return "invalid channel";
    }
    // SBE frames name no channel: one book view per market on an SBE connection.
    if (st.sbe_version >= 0) {
      for (const auto& [name, b] : st.books) {
        if (b.market == in->index) return "already subscribed to a book of this market";
      }
    }
    st.books[channel] = sub;
  } else if (head == "bbo" || head == "trades") {
    if (!market_ok(rest, true)) return "invalid channel";
  } else if (head == "funding_data" || head == "markets_summary") {
    if (!rest.empty() && !market_ok(rest, true)) return "invalid channel";
  } else if (head == "orders" || head == "fills") {
    if (st.account.empty()) return "authentication required";
    if (!market_ok(rest, true)) return "invalid channel";
  } else if (head == "funding_payments") {
    // funding_payments.{SYM} per the notes; .ALL and the bare name take every market.
    if (st.account.empty()) return "authentication required";
    if (!rest.empty() && !market_ok(rest, true)) return "invalid channel";
  } else if (channel == "positions" || channel == "account" || channel == "balance_events") {
    if (st.account.empty()) return "authentication required";
  } else {
    return "invalid channel";
  }
  st.channels.insert(channel);
  return "";
}

bool ParadexModule::Subscribed(const ConnState& st, const std::string& channel) const {
  return st.channels.count(channel) != 0;
}

// ---- public pushes ------------------------------------------------------------------------------

void ParadexModule::PushPublic(size_t i, const char* kind, const std::string& json,
                               const std::string& sbe_v0, const std::string& sbe_v1,
                               const std::string& sbe_v2) {
  const std::string& market = ctx_->market().instrument(i).symbol();
  const std::string per_market = std::string(kind) + "." + market;
  const std::string all = std::string(kind) + ".ALL";
  const std::string bare = kind;
  for (auto it = conns_.begin(); it != conns_.end();) {
    WsConnPtr c = it->second.lock();
    if (!c) {
      it = conns_.erase(it);
      continue;
    }
    ++it;
    const ConnState& st = c->Data<ConnState>();
    // Every subscription is its own stream: a connection holding both `kind.SYM` and
    // `kind.ALL` (or the bare name) gets the event on each. SBE frames name no channel, so a
    // second copy could not be told apart from a second event: SBE connections get one frame
    // (the venue's behaviour there is unknown; this is the reading that cannot double-count).
    for (const std::string* channel : {&per_market, &all, &bare}) {
      if (!Subscribed(st, *channel)) continue;
      if (st.sbe_version >= 0 && !sbe_v0.empty()) {
        c->SendBinary(st.sbe_version == 0 ? sbe_v0 : st.sbe_version == 1 ? sbe_v1 : sbe_v2);
        break;
      } else {
        c->Send("{\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":{\"channel\":\"" +
                *channel + "\",\"data\":" + json + "}}");
      }
    }
  }
}

void ParadexModule::OnBookChange(const BookChange& change) {
  if (change.instrument == nullptr) return;
  const size_t i = change.instrument->index;
  auto pending = seq_pending_.find(i);
  if (pending != seq_pending_.end()) {
    for (uint64_t key : pending->second) fill_extra_[key].book_seq = ctx_->market().update_id(i);
    seq_pending_.erase(pending);
  }
  PushBbo(i, change.time);
}

void ParadexModule::PushBbo(size_t i, UnixNanos t) {
  const Market& m = ctx_->market();
  const SimInstrument& in = m.instrument(i);
  auto bid = m.book(i).BestBid();
  auto ask = m.book(i).BestAsk();
  std::array<int64_t, 4> now{bid ? bid->price : 0, bid ? bid->size : 0, ask ? ask->price : 0,
                             ask ? ask->size : 0};
  if (now == markets_[i].bbo) return;
  markets_[i].bbo = now;
  auto sbe = [&](int v) {
    return SbeBbo(v, ToUs(t), static_cast<int64_t>(m.update_id(i)),
                  bid ? ToSbe(bid->price, in.price_scale) : kSbeNull,
                  bid ? ToSbe(bid->size, in.size_scale) : kSbeNull,
                  ask ? ToSbe(ask->price, in.price_scale) : kSbeNull,
                  ask ? ToSbe(ask->size, in.size_scale) : kSbeNull, in.symbol());
  };
  PushPublic(i, "bbo", BboJson(i), sbe(0), sbe(1), sbe(2));
}

void ParadexModule::OnTrade(const PublicTrade& t) {
  if (t.instrument == nullptr) return;
  const SimInstrument& in = *t.instrument;
  MarketState& ms = markets_[in.index];
  ms.last_price = t.price;
  ms.volume_24h += in.Notional(t.price, t.qty);
  const std::string id = VenueTradeId(t.trade_id);
  JsonWriter w;
  w.BeginObject()
      .Field("id", id)
      .Field("market", in.symbol())
      .Field("side", SideText(t.taker_side))
      .Field("size", in.FormatQty(t.qty))
      .Field("price", in.FormatPrice(t.price))
      .Field("created_at", ToMs(t.time))
      .Field("trade_type", "FILL")
      .EndObject();
  std::string json = w.Take();
  ms.trades.push_back(json);
  if (ms.trades.size() > 1000) ms.trades.pop_front();
  auto sbe = [&](int v) {
    return SbeTrade(v, ToUs(t.time), static_cast<int64_t>(t.trade_id), id,
                    t.taker_side == Side::kBuy ? 1 : 2, ToSbe(t.price, in.price_scale),
                    ToSbe(t.qty, in.size_scale), ToUs(t.time), 1, in.symbol());
  };
  PushPublic(in.index, "trades", json, sbe(0), sbe(1), sbe(2));
}

void ParadexModule::FlushBooks() {
  ++flush_tick_;
  const Market& m = ctx_->market();
  const int64_t ts_us = ToUs(ctx_->Now());
  for (auto it = conns_.begin(); it != conns_.end();) {
    WsConnPtr c = it->second.lock();
    if (!c) {
      it = conns_.erase(it);
      continue;
    }
    ++it;
    ConnState& st = c->Data<ConnState>();
    for (auto& [channel, sub] : st.books) {
      if (flush_tick_ % static_cast<uint64_t>(sub.every) != 0) continue;
      const size_t i = sub.market;
      const SimInstrument& in = m.instrument(i);
      const uint64_t seq = m.update_id(i);
      if (!sub.need_snapshot && seq == sub.seq) continue;
      Window bids, asks;
      // The top 15 (grouped: 15 buckets); a grouped view follows the same sequencing as the
      // plain one — a message when the book's update id moved and the window changed.
      for (const Level& l : GroupedLevels(m.book(i), true, sub.group, kBookDepth)) {
        bids[l.price] = l.size;
      }
      for (const Level& l : GroupedLevels(m.book(i), false, sub.group, kBookDepth)) {
        asks[l.price] = l.size;
      }
      const bool snapshot = sub.need_snapshot || sub.feed == Feed::kSnapshot;
      // Per side: levels to send (absolute size; 0 = removed) and how JSON names them.
      struct Change {
        int64_t price, size;
        int kind;  // 0 insert, 1 update, 2 delete
      };
      auto diff = [&](const Window& last, const Window& now, std::vector<Change>* out) {
        if (snapshot) {
          for (const auto& [p, q] : now) out->push_back({p, q, 0});
          return;
        }
        for (const auto& [p, q] : now) {
          auto f = last.find(p);
          if (f == last.end()) {
            out->push_back({p, q, 0});
          } else if (f->second != q) {
            out->push_back({p, q, 1});
          }
        }
        for (const auto& [p, q] : last) {
          if (now.count(p) == 0) out->push_back({p, 0, 2});
        }
      };
      std::vector<Change> bc, ac;
      diff(sub.bids, bids, &bc);
      diff(sub.asks, asks, &ac);
      sub.bids = bids;
      sub.asks = asks;
      sub.seq = seq;
      if (!snapshot && bc.empty() && ac.empty()) continue;
      sub.need_snapshot = false;
      // Bids best first (descending), asks ascending.
      std::sort(bc.begin(), bc.end(),
                [](const Change& a, const Change& b) { return a.price > b.price; });
      std::sort(ac.begin(), ac.end(),
                [](const Change& a, const Change& b) { return a.price < b.price; });
      if (st.sbe_version >= 0) {
        std::vector<SbeLevel> sb, sa;
        for (const Change& x : bc)
          sb.push_back({ToSbe(x.price, in.price_scale), ToSbe(x.size, in.size_scale)});
        for (const Change& x : ac)
          sa.push_back({ToSbe(x.price, in.price_scale), ToSbe(x.size, in.size_scale)});
        c->SendBinary(SbeBook(st.sbe_version, ts_us, static_cast<int64_t>(seq), snapshot, sb, sa,
                              in.symbol()));
        continue;
      }
      JsonWriter w;
      w.BeginObject()
          .Field("seq_no", seq)
          .Field("market", in.symbol())
          .Field("last_updated_at", ts_us / 1000)
          .Field("update_type", snapshot ? "s" : "d");
      for (int kind = 0; kind < 3; ++kind) {
        w.Key(kind == 0 ? "inserts" : kind == 1 ? "updates" : "deletes").BeginArray();
        for (int s = 0; s < 2; ++s) {
          for (const Change& x : s == 0 ? bc : ac) {
            if (x.kind != kind) continue;
            w.BeginObject()
                .Field("side", s == 0 ? "BUY" : "SELL")
                .Field("price", in.FormatPrice(x.price))
                .Field("size", in.FormatQty(x.size))
                .EndObject();
          }
        }
        w.EndArray();
      }
      w.EndObject();
      c->Send("{\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":{\"channel\":\"" +
              channel + "\",\"data\":" + w.Take() + "}}");
    }
  }
}

void ParadexModule::PushSummaries() {
  const Market& m = ctx_->market();
  for (size_t i = 0; i < m.size(); ++i) {
    const SimInstrument& in = m.instrument(i);
    MarketState& ms = markets_[i];
    ++ms.summary_seq;
    auto bid = m.book(i).BestBid();
    auto ask = m.book(i).BestAsk();
    SbeSummary s;
    s.ts_us = ToUs(ctx_->Now());
    s.seq = static_cast<int64_t>(ms.summary_seq);
    s.mark = ToSbe(m.mark_price(i), in.price_scale);
    s.index = ToSbe(m.mid(i), in.price_scale);
    s.last = ToSbe(ms.last_price, in.price_scale);
    s.volume_24h = Volume24h(i);  // Money is 1e-8, the SBE decimal's scale
    s.total_volume = TotalVolume(i);
    s.open_interest = ToSbe(OpenInterest(i), in.size_scale);
    s.funding_rate = ToSbe(m.funding_rate(i), kRateScale);
    s.funding_rate_precise = ToSbe(m.funding_rate(i), kRateScale, 12);
    if (bid) {
      s.bid = ToSbe(bid->price, in.price_scale);
      s.bid_size = ToSbe(bid->size, in.size_scale);
    }
    if (ask) {
      s.ask = ToSbe(ask->price, in.price_scale);
      s.ask_size = ToSbe(ask->size, in.size_scale);
    }
    PushPublic(i, "markets_summary", SummaryJson(i), SbeMarketSummary(0, s, in.symbol()),
               SbeMarketSummary(1, s, in.symbol()), SbeMarketSummary(2, s, in.symbol()));
  }
}

void ParadexModule::PushFunding() {
  const Market& m = ctx_->market();
  const UnixNanos now = ctx_->Now();
  for (size_t i = 0; i < m.size(); ++i) {
    const SimInstrument& in = m.instrument(i);
    SampleFundingIndex(i);
    std::string json = FundingJson(i, now);
    auto fields = ParseJsonObject(json);
    SbeFunding f;
    f.ts_us = ToUs(now);
    f.seq = static_cast<int64_t>(markets_[i].summary_seq);
    f.created_us = ToUs(now);
    f.period_hours = static_cast<int16_t>(in.spec.funding_interval_hours);
    if (fields.ok()) {
      f.rate = SbeFromText(fields->at("funding_rate")).value_or(0);
      f.rate_8h = SbeFromText(fields->at("funding_rate_8h")).value_or(0);
      f.premium = SbeFromText(fields->at("funding_premium")).value_or(0);
      f.index = SbeFromText(fields->at("funding_index")).value_or(0);
    }
    PushPublic(i, "funding_data", json, SbeFundingData(0, f, in.symbol()),
               SbeFundingData(1, f, in.symbol()), SbeFundingData(2, f, in.symbol()));
  }
}

// ---- private pushes --------------------------------------------------------------------------

// What a fill carries beyond SimFill, read from the engine as it emits the fill (the position
// and wallet already include it; the events themselves may be dispatched later).
void ParadexModule::RecordFill(const AccountEvent& e) {
  const uint64_t key = e.fill.trade_id * 2 + (e.fill.maker ? 1 : 0);
  if (e.fill.instrument == nullptr || fill_extra_.count(key) != 0) return;
  const size_t i = e.fill.instrument->index;
  const Engine& engine = ctx_->engine();
  Money& last = last_realized_[{e.account, i}];
  const Money realized = engine.Position(e.account, i).realized_pnl;
  FillExtra x;
  x.realized_pnl = realized - last;
  last = realized;
  // orderbook_seq_no = the book's sequence after the execution. A maker fill follows the book
  // change that traded it (the current id); a taker fill precedes the consumption of the
  // generated level it took, so it gets the id of the next change of this book.
  x.book_seq = ctx_->market().update_id(i);
  if (!e.fill.maker && !e.fill.liquidation) seq_pending_[i].push_back(key);
  x.wallet_after = engine.Balance(e.account).wallet;
  fill_extra_[key] = x;
}

void ParadexModule::OnAccountEvent(const AccountEvent& event) {
  if (event.has_fill && (event.kind == AccountEvent::Kind::kOrder ||
                         event.kind == AccountEvent::Kind::kLiquidation)) {
    RecordFill(event);
  }
  if (event.kind == AccountEvent::Kind::kLiquidation &&
      (liquidations_.empty() || liquidations_.back().account != event.account ||
       liquidations_.back().time != event.time)) {
    // The engine emits one event per liquidation fill: the first of an account at one time
    // stands for the liquidation. The venue's id is the liquidation's tx hash; the sim's is a
    // fixed function of the fill's trade id, in that form.
    char hex[67];
    std::snprintf(hex, sizeof hex, "0x%064llx",
                  static_cast<unsigned long long>(event.has_fill ? event.fill.trade_id
                                                                 : liquidations_.size() + 1));
    liquidations_.push_back({event.account, hex, event.time});
    if (liquidations_.size() > 10'000) liquidations_.pop_front();
  }
  if (event.kind == AccountEvent::Kind::kFunding && event.position.instrument != nullptr) {
    FundingPayment p;
    p.id = next_funding_payment_id_++;
    p.account = event.account;
    p.market = event.position.instrument->index;
    p.payment = event.amount;
    p.time = event.time;
    p.index = FundingIndexAt(p.market, event.time);
    p.wallet_after = ctx_->engine().Balance(event.account).wallet;
    funding_payments_.push_back(p);
  }
  if (deferring_) {
    deferred_.push_back(event);
    return;
  }
  DispatchAccountEvent(event);
}

// ---- position TP/SL links ------------------------------------------------------------------
//
// paradex.md lists TAKE_PROFIT_* / STOP_LOSS_* (§10) and the REDUCE_ONLY flag but says nothing
// of what happens to a position's other TP/SL orders when one of them fills or when the position
// goes away; the venue's UI presents a position's TP and SL as a pair. The sim takes the safe
// reading (no stale reduce-only trigger left to fire on a later position of the same market):
//  1. the position goes flat, or reverses: every UNTRIGGERED reduce-only conditional order of
//     the account on that market that can no longer reduce it (all of them when flat; those on
//     the side of the new position when reversed) is cancelled;
//  2. a position TP/SL leg (STOP_LOSS_* / TAKE_PROFIT_* sent with size "0" and REDUCE_ONLY —
//     what ccxt sends for stopLossPrice / takeProfitPrice) fills: the account's other
//     UNTRIGGERED position TP/SL legs on that market are cancelled (one-cancels-other), whether
//     or not the fill closed the whole position (a *_LIMIT leg may fill in parts).
// A sized reduce-only TP/SL (size > 0) that fills only part of the position cancels nothing: its
// siblings still protect the rest (a ladder of take-profits keeps its stop-loss). Unsure: the
// venue's cancel_reason for these cancels is not in the notes; the sim sends "POSITION_CLOSED"
// (the venue's UPPER_SNAKE style; none of the words clients map to reject/margin/expiry). The
// cancels follow the fill/position updates that caused them, on the orders.* channels like any
// cancel (the venue queues them too).
void ParadexModule::NoteTpSlEvent(const AccountEvent& e) {
  if (e.kind == AccountEvent::Kind::kPosition && e.position.instrument != nullptr) {
    const size_t i = e.position.instrument->index;
    int64_t& last = last_position_[{e.account, i}];
    const int64_t now = e.position.size;
    const bool flat_or_reversed =
        last != 0 && (now == 0 || (last > 0) != (now > 0));
    last = now;
    if (!flat_or_reversed) return;
    ctx_->loop().Post([this, account = e.account, i] { CancelTpSlLinked(account, i, 0); });
    return;
  }
  if (e.kind != AccountEvent::Kind::kOrder || !e.has_fill || e.order.instrument == nullptr) return;
  auto meta = order_meta_.find(e.order.id);
  if (meta == order_meta_.end() || !meta->second.whole_position) return;
  ctx_->loop().Post([this, account = e.account, i = e.order.instrument->index, id = e.order.id] {
    CancelTpSlLinked(account, i, id);
  });
}

void ParadexModule::CancelTpSlLinked(const std::string& account, size_t market,
                                     uint64_t filled_leg) {
  Engine& engine = ctx_->engine();
  const SimInstrument& in = ctx_->market().instrument(market);
  const int64_t pos = engine.Position(account, market).size;
  std::vector<uint64_t> todo;
  for (const SimOrder* o : engine.OpenOrders(account, in.symbol())) {
    if (!o->awaiting_trigger() || !o->reduce_only || o->id == filled_leg) continue;
    const bool cannot_reduce = pos == 0 || (pos > 0) == (o->side == Side::kBuy);
    auto meta = order_meta_.find(o->id);
    const bool sibling_leg =
        filled_leg != 0 && meta != order_meta_.end() && meta->second.whole_position;
    if (cannot_reduce || sibling_leg) todo.push_back(o->id);
  }
  for (uint64_t id : todo) {
    order_meta_[id].cancel_reason = "POSITION_CLOSED";
    if (engine.Cancel(account, id).code != RejectCode::kNone) order_meta_[id].cancel_reason.clear();
  }
}

void ParadexModule::DispatchAccountEvent(const AccountEvent& e) {
  NoteTpSlEvent(e);
  // What to push, on which channel names.
  std::vector<std::pair<std::vector<std::string>, std::string>> out;
  auto market_channels = [](const char* kind, const std::string& market) {
    return std::vector<std::string>{std::string(kind) + "." + market, std::string(kind) + ".ALL"};
  };
  switch (e.kind) {
    case AccountEvent::Kind::kOrder:
      if (e.has_fill) {
        out.push_back({market_channels("fills", e.fill.instrument->symbol()), FillJson(e.fill)});
        out.push_back(
            {{"balance_events"}, BalanceEventJson(e.account, "TRANSACTION_FILL", &e.fill, nullptr)});
      }
      if (e.order.triggered) {
        // A conditional order that just fired: UNTRIGGERED → NEW → OPEN/CLOSED, as the venue
        // describes the lifecycle (the engine emits no separate NEW: the sim sends the firing
        // update as NEW, then the state it reached).
        auto meta = order_meta_.find(e.order.id);
        if (meta != order_meta_.end() && meta->second.parked) {
          meta->second.parked = false;
          out.push_back({market_channels("orders", e.order.instrument->symbol()),
                         OrderJson(e.order, /*as_new=*/true)});
        }
      }
      out.push_back({market_channels("orders", e.order.instrument->symbol()), OrderJson(e.order)});
      break;
    case AccountEvent::Kind::kLiquidation:
      out.push_back({market_channels("fills", e.fill.instrument->symbol()), FillJson(e.fill)});
      break;
    case AccountEvent::Kind::kPosition:
      out.push_back({{"positions"}, PositionJson(e.account, e.position)});
      break;
    case AccountEvent::Kind::kBalance:
      for (const AccountSpec& a : ctx_->accounts()) {
        if (a.id == e.account) out.push_back({{"account"}, AccountJson(a)});
      }
      break;
    case AccountEvent::Kind::kFunding: {
      // The payment recorded when the engine emitted it (OnAccountEvent): the latest one of
      // this account and market.
      const FundingPayment* p = nullptr;
      for (auto it = funding_payments_.rbegin(); it != funding_payments_.rend(); ++it) {
        if (it->account == e.account && e.position.instrument != nullptr &&
            it->market == e.position.instrument->index && it->time == e.time) {
          p = &*it;
          break;
        }
      }
      if (p == nullptr) break;
      const std::string& sym = e.position.instrument->symbol();
      out.push_back({{"funding_payments." + sym, "funding_payments.ALL", "funding_payments"},
                     FundingPaymentJson(*p)});
      out.push_back({{"balance_events"}, BalanceEventJson(e.account, "FUNDING", nullptr, p)});
      break;
    }
  }
  for (auto it = conns_.begin(); it != conns_.end();) {
    WsConnPtr c = it->second.lock();
    if (!c) {
      it = conns_.erase(it);
      continue;
    }
    ++it;
    const ConnState& st = c->Data<ConnState>();
    if (st.account != e.account) continue;
    for (const auto& [channels, data] : out) {
      for (const std::string& ch : channels) {
        if (!Subscribed(st, ch)) continue;
        // Each matching subscription gets its own push (orders.SYM and orders.ALL both).
        c->Send("{\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":{\"channel\":\"" + ch +
                "\",\"data\":" + data + "}}");
      }
    }
  }
}

}  // namespace perpgw::sim::paradex
