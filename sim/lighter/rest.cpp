// Lighter module REST: /api/v1 public market data in the venue's shapes (lighter.md §2-§4,
// recorded payloads in ../shared/protocols/lighter/). Every answer carries code 200; errors are
// {"code":N,"message":...}. Transactions and account endpoints are not modelled yet: they answer
// 501 with the venue's error shape naming that.
#include <algorithm>

#include "sim/lighter/module.h"

namespace perpgw::sim::lighter {
namespace {

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

void Error(HttpResponse& resp, int http, int64_t code, const std::string& message) {
  JsonWriter w;
  w.BeginObject().Field("code", code).Field("message", message).EndObject();
  resp.Json(http, w.Take());
}

int Decimals(int64_t unit_mantissa, int scale) {
  // tick/step are 10^-decimals: the scale itself when the mantissa is 1.
  (void)unit_mantissa;
  return scale;
}

}  // namespace

std::string LighterModule::LevelsJson(const std::vector<Level>& levels,
                                      const SimInstrument& in) const {
  JsonWriter w;
  w.BeginArray();
  for (const Level& l : levels) {
    w.BeginObject()
        .Field("price", in.FormatPrice(l.price))
        .Field("size", in.FormatQty(l.size))
        .EndObject();
  }
  w.EndArray();
  return w.Take();
}

std::string LighterModule::StatsJson(const SimInstrument& in) const {
  const Market& m = ctx_->market();
  const MarketState& ms = markets_[in.index];
  const int64_t mark = m.mark_price(in.index);
  JsonWriter w;
  w.BeginObject()
      .Field("symbol", in.symbol())
      .Field("market_id", in.spec.market_id)
      .Field("index_price", in.FormatPrice(mark))
      .Field("mark_price", in.FormatPrice(mark))
      .Field("open_interest", "0")
      .Field("last_trade_price", in.FormatPrice(ms.last_price))
      .Field("current_funding_rate", FormatRate(m.funding_rate(in.index)))
      .Field("funding_rate", FormatRate(m.funding_rate(in.index)))
      .Field("funding_timestamp", ctx_->NextFundingTime(in.index) / 1'000'000)
      .Field("daily_base_token_volume", in.FormatQty(ms.volume_base))
      .Field("daily_quote_token_volume", FormatMoney(ms.volume_24h))
      .EndObject();
  return w.Take();
}

std::string LighterModule::DetailJson(const SimInstrument& in) const {
  const Market& m = ctx_->market();
  const MarketState& ms = markets_[in.index];
  const int sd = Decimals(in.step, in.size_scale), pd = Decimals(in.tick, in.price_scale);
  // Margin fractions in 1/10 000: min IMF from the max leverage, maintenance from the ratio.
  const int64_t min_imf = in.spec.max_leverage > 0 ? 10000 / in.spec.max_leverage : 10000;
  const int64_t mmf = in.maint_margin_ratio / (int64_t{10000000000} / 10000);
  const int64_t mark = m.mark_price(in.index);
  JsonWriter w;
  w.BeginObject()
      .Field("symbol", in.symbol())
      .Field("market_id", in.spec.market_id)
      .Field("market_type", "perp")
      .Field("base_asset_id", static_cast<int64_t>(in.index) + 10)
      .Field("quote_asset_id", int64_t{3})
      .Field("status", "active")
      .Field("taker_fee", "0.0000")
      .Field("maker_fee", "0.0000")
      .Field("liquidation_fee", "1.0000")
      .Field("min_base_amount", in.FormatQty(in.min_qty))
      .Field("min_quote_amount", FormatMoney(in.min_notional))
      .Field("supported_size_decimals", sd)
      .Field("supported_price_decimals", pd)
      .Field("supported_quote_decimals", 6)
      .Field("order_quote_limit", "")
      .Field("size_decimals", sd)
      .Field("price_decimals", pd)
      .Field("quote_multiplier", 1)
      .Field("default_initial_margin_fraction", std::max<int64_t>(min_imf, 500))
      .Field("min_initial_margin_fraction", min_imf)
      .Field("maintenance_margin_fraction", std::max<int64_t>(mmf, 1))
      .Field("closeout_margin_fraction", std::max<int64_t>(mmf * 2 / 3, 1));
  // Stats are JSON numbers on this endpoint (strings on the WS channel), as the venue sends.
  w.Key("last_trade_price").Raw(in.FormatPrice(ms.last_price));
  w.Field("daily_trades_count", static_cast<int64_t>(ms.trades.size()));
  w.Key("daily_base_token_volume").Raw(in.FormatQty(ms.volume_base));
  w.Key("daily_quote_token_volume").Raw(FormatMoney(ms.volume_24h));
  w.Key("daily_price_low").Raw(in.FormatPrice(mark));
  w.Key("daily_price_high").Raw(in.FormatPrice(mark));
  w.Key("daily_price_change").Raw("0");
  w.Key("open_interest").Raw("0");
  w.Key("daily_chart").Raw("{}");
  w.Key("market_config").Raw("{}");
  w.Field("strategy_index", int64_t{0})
      .Field("is_maker_fee_enabled", false)
      .Field("is_taker_fee_enabled", false)
      .Field("funding_clamp_small", "0.0500")
      .Field("funding_clamp_big", "4.0000")
      .Field("base_interest_rate", "0.0100")
      .Field("mark_price", in.FormatPrice(mark))
      .Field("index_price", in.FormatPrice(mark))
      .EndObject();
  return w.Take();
}

void LighterModule::Route(const HttpRequest& req, HttpResponse& resp) {
  if (!StartsWith(req.path, "/api/v1/")) return Error(resp, 404, 404, "not found");
  const std::string path = req.path.substr(7);  // "/orderBookDetails"
  const Market& m = ctx_->market();
  auto market_filter = [&](const SimInstrument** one, bool* bad) {
    *one = nullptr;
    *bad = false;
    if (!req.HasQuery("market_id")) return;
    int64_t id = -1;
    if (!ParseInt(req.Query("market_id"), &id) || (*one = ByMarketId(id)) == nullptr) *bad = true;
  };
  if (req.method != "GET" && path != "/sendTx" && path != "/sendTxBatch") {
    return Error(resp, 405, 405, "method not allowed");
  }
  if (path == "/orderBookDetails" || path == "/orderBooks") {
    const SimInstrument* one = nullptr;
    bool bad = false;
    market_filter(&one, &bad);
    if (bad) return Error(resp, 400, 20001, "invalid param: market_id");
    const bool details = path == "/orderBookDetails";
    std::string out =
        details ? R"({"code":200,"order_book_details":[)" : R"({"code":200,"order_books":[)";
    bool first = true;
    for (size_t i = 0; i < m.size(); ++i) {
      const SimInstrument& in = m.instrument(i);
      if (one != nullptr && one != &in) continue;
      if (!first) out += ',';
      first = false;
      if (details) {
        out += DetailJson(in);
      } else {
        JsonWriter w;
        w.BeginObject()
            .Field("symbol", in.symbol())
            .Field("market_id", in.spec.market_id)
            .Field("status", "active")
            .Field("taker_fee", "0.0000")
            .Field("maker_fee", "0.0000")
            .Field("min_base_amount", in.FormatQty(in.min_qty))
            .Field("min_quote_amount", FormatMoney(in.min_notional))
            .Field("supported_size_decimals", in.size_scale)
            .Field("supported_price_decimals", in.price_scale)
            .Field("supported_quote_decimals", 6)
            .EndObject();
        out += w.Take();
      }
    }
    out += details ? R"(],"spot_order_book_details":[]})" : "]}";
    return resp.Json(200, out);
  }
  if (path == "/funding-rates") {
    // The venue also publishes reference rates of other exchanges: one binance row each.
    std::string out = R"({"code":200,"funding_rates":[)";
    for (size_t i = 0; i < m.size(); ++i) {
      const SimInstrument& in = m.instrument(i);
      for (const char* ex : {"lighter", "binance"}) {
        JsonWriter w;
        int64_t rate = m.funding_rate(i);
        if (std::string_view(ex) == "binance") rate = rate * 8 + 1000;  // an 8 h reference
        w.BeginObject()
            .Field("market_id", in.spec.market_id)
            .Field("exchange", ex)
            .Field("symbol", in.symbol());
        w.Key("rate").Raw(FormatRate(rate));  // a bare JSON number, as the venue sends
        w.EndObject();
        if (out.back() != '[') out += ',';
        out += w.Take();
      }
    }
    return resp.Json(200, out + "]}");
  }
  if (path == "/orderBookOrders") {
    const SimInstrument* in = nullptr;
    bool bad = false;
    market_filter(&in, &bad);
    if (bad || in == nullptr) return Error(resp, 400, 20001, "invalid param: market_id");
    int64_t limit = 20;
    if (req.HasQuery("limit") &&
        (!ParseInt(req.Query("limit"), &limit) || limit < 1 || limit > 250)) {
      return Error(resp, 400, 20001, "invalid param: limit");
    }
    // Resting orders: the generated levels, one order per level (owner: the market maker).
    const OrderBook& b = m.book(in->index);
    auto side = [&](const std::vector<Level>& levels, int64_t base_index) {
      std::string s = "[";
      int64_t k = 0;
      for (const Level& l : levels) {
        if (k > 0) s += ',';
        JsonWriter w;
        const std::string idx = std::to_string((int64_t{1} << 48) + base_index + k++);
        w.BeginObject()
            .Field("order_index", idx)
            .Field("order_id", idx)
            .Field("owner_account_index", int64_t{1})
            .Field("initial_base_amount", in->FormatQty(l.size))
            .Field("remaining_base_amount", in->FormatQty(l.size))
            .Field("price", in->FormatPrice(l.price))
            .Field("order_expiry", int64_t{0})
            .EndObject();
        s += w.Take();
      }
      return s + "]";
    };
    auto asks = b.Asks(static_cast<size_t>(limit));
    auto bids = b.Bids(static_cast<size_t>(limit));
    return resp.Json(200, R"({"code":200,"total_asks":)" + std::to_string(asks.size()) +
                              R"(,"asks":)" + side(asks, 1'000'000) + R"(,"total_bids":)" +
                              std::to_string(bids.size()) + R"(,"bids":)" + side(bids, 2'000'000) +
                              "}");
  }
  if (path == "/recentTrades") {
    const SimInstrument* in = nullptr;
    bool bad = false;
    market_filter(&in, &bad);
    if (bad || in == nullptr) return Error(resp, 400, 20001, "invalid param: market_id");
    const auto& t = markets_[in->index].trades;
    std::string out = R"({"code":200,"trades":[)";
    for (size_t k = t.size(); k-- > 0;) {  // newest first
      if (out.back() != '[') out += ',';
      out += t[k];
    }
    return resp.Json(200, out + "]}");
  }
  if (path == "/nextNonce" || path == "/sendTx" || path == "/sendTxBatch" || path == "/account" ||
      path == "/accountActiveOrders" || path == "/accountInactiveOrders" || path == "/trades" ||
      path == "/apikeys" || path == "/accountsByL1Address" || path == "/pnl") {
    return Error(resp, 501, 501,
                 "perpgw-sim: Lighter transactions and accounts are not modelled yet");
  }
  return Error(resp, 404, 404, "not found");
}

}  // namespace perpgw::sim::lighter
