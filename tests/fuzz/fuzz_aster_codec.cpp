// libFuzzer target: every Aster codec entry point (REST bodies, market and user-data frames), and
// the depth frames it decodes fed through BookSync (Aster's pu-linked rule) from a real snapshot.
// Each input line is one frame; every line goes to every decoder. Nothing may crash, leak, hit
// UB or leave a malformed book; errors are fine.
#include <cstdint>

#include "adapters/aster/codec.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace perpgw;
using namespace perpgw::adapters::aster;

struct Context {
  SymbolMap symbols;
  FundingIntervals intervals;
  DepthSnapshot snapshot;  // BTCUSDT, at its scales
  const Instrument* btc = nullptr;

  Context() {
    auto list = ParseExchangeInfo(fuzz::ReadData("aster/exchangeInfo.json"));
    if (!list.ok()) std::abort();
    for (auto& in : *list) WidenBookScales(&in);
    symbols.Reset(*list);
    auto info = ParseFundingInfo(fuzz::ReadData("aster/fundingInfo.json"));
    if (!info.ok()) std::abort();
    intervals = ToFundingIntervals(*info);
    btc = symbols.ByVenueSymbol("BTCUSDT");
    if (!btc) std::abort();
    auto snap = ParseDepthSnapshot(fuzz::ReadData("aster/depth_snapshot.json"), btc->price_scale,
                                   btc->size_scale);
    if (!snap.ok()) std::abort();
    snapshot = *snap;
  }
};

void Rest(std::string_view s, const Context& c, const AccountContext& account) {
  (void)ParseErrorBody(s);
  (void)ParseCodeAck(s);
  (void)ParseServerTimeMs(s);
  (void)ParseListenKey(s);
  (void)ParseExchangeInfoDetailed(s);
  ExchangeInfoOptions all;
  all.include_non_perpetual = true;
  (void)ParseExchangeInfo(s, all);
  if (auto rows = ParseFundingInfo(s); rows.ok()) (void)ToFundingIntervals(*rows);
  if (auto rows = ParseFundingRateHistory(s); rows.ok()) (void)InferIntervalHours(*rows);
  (void)ParseDepthSnapshot(s, c.btc->price_scale, c.btc->size_scale);
  (void)ParseRestBookTicker(s, &c.symbols, 0);
  (void)ParsePremiumIndex(s, &c.symbols, &c.intervals);
  (void)ParseTicker24h(s, &c.symbols);
  if (auto oi = ParseOpenInterest(s); oi.ok())
    (void)OpenInterestUsd(oi->open_interest, oi->open_interest);
  (void)ParseSide(s);
  (void)ParseOrderType(s);
  (void)ParseTimeInForce(s);
  (void)ParseOrder(s, account);
  (void)ParseOrders(s, account);
  (void)ParseBatchOrders(s, account);
  (void)ParsePositionRisk(s, account, true);
  (void)ParseBalances(s, account);
  (void)ParseAccount(s, account);
  (void)ParseLeverageBrackets(s, account);
  (void)ParseLeverageResponse(s, account);
  (void)ParseUserTrades(s, account);
  (void)ParseForceOrder(s, &c.symbols);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Context c;
  AccountContext account;
  account.symbols = &c.symbols;
  account.account = "fuzz";
  MarketContext market;
  market.symbols = &c.symbols;
  market.intervals = &c.intervals;
  MarketContext partial = market;
  partial.raw_depth_is_partial = true;

  BookSync sync(SeqRule::kPrevLink, c.btc->price_scale, c.btc->size_scale, 64);
  sync.OnSnapshot(c.snapshot.bids, c.snapshot.asks, c.snapshot.last_update_id);
  MarketFrame frame;
  UserFrame user;
  DeltaMsg delta;
  for (std::string_view line : fuzz::Lines(data, size)) {
    Rest(line, c, account);
    (void)DecodeUserFrame(line, account, 0, &user);
    (void)DecodeMarketFrame(line, partial, 0, &frame);
    if (ParseDepthUpdate(line, c.btc->price_scale, c.btc->size_scale, &delta).ok()) {
      sync.OnDelta(delta);
    }
    if (DecodeMarketFrame(line, market, 0, &frame).ok()) {
      if (frame.kind == MarketEventKind::kDepthDiff && frame.venue_symbol == "BTCUSDT") {
        sync.OnDelta(frame.delta);
      } else if (frame.kind == MarketEventKind::kDepthPartial) {
        auto snap = PartialDepthToSnapshot(frame.delta);
        OrderBook book(c.btc->price_scale, c.btc->size_scale);
        book.ReplaceAll(snap.bids, snap.asks);
        fuzz::CheckBook(book);
      }
    }
    fuzz::CheckBook(sync.book());
  }
  return 0;
}
