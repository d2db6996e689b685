// libFuzzer target: every Backpack codec entry point (REST bodies, WS frames, order-execute
// answers at each HTTP status class), and the depth frames it decodes fed through BookSync
// (Backpack's contiguous rule) from a real snapshot. Each input line is one frame; every line
// goes to every decoder. Nothing may crash, leak, hit UB or leave a malformed book.
#include <cstdint>

#include "adapters/backpack/codec.h"
#include "adapters/backpack/symbols.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace perpgw;
using namespace perpgw::adapters::backpack;

struct Context {
  SymbolTable symbols;
  ClientIdMapper clients;
  DepthSnapshot snapshot;  // BTC_USDC_PERP, at its scales
  Instrument btc;

  Context() {
    Codec codec;
    auto list = codec.ParseMarkets(fuzz::ReadData("backpack/markets.json"));
    if (!list.ok()) std::abort();
    for (auto& in : *list) {
      WidenBookScales(&in);
      symbols.Add(in);
    }
    const Instrument* b = symbols.ByVenueSymbol("BTC_USDC_PERP");
    if (!b) std::abort();
    btc = *b;
    auto snap = codec.ParseDepthSnapshot(
        fuzz::ReadData("backpack/depth_snapshot_for_ws_sequence.json"), btc);
    if (!snap.ok()) std::abort();
    snapshot = *snap;
    (void)clients.Assign("known-client-id");
  }
};

void Rest(Codec& codec, std::string_view s, const Context& c) {
  (void)codec.ParseMarketInfos(s);
  (void)codec.ParseMarkets(s);
  (void)codec.ParseDepthSnapshot(s, c.btc);
  (void)codec.ParseMarkPrices(s);
  (void)codec.ParseTickers(s);
  (void)codec.ParseOpenInterest(s);
  (void)codec.ParseFundingRates(s);
  (void)codec.ParseOrder(s, c.symbols, &c.clients);
  (void)codec.ParseOrders(s, c.symbols, nullptr);
  for (int status : {200, 202, 400, 429, 503}) {
    (void)codec.ParseOrderExecuteResponse(status, s, c.symbols, &c.clients);
  }
  (void)codec.ParsePositions(s, c.symbols, 0);
  (void)codec.ParseCollateral(s, 0);
  (void)codec.ParseCapital(s, "USDC", 0);
  (void)codec.ParseAccount(s);
  (void)codec.ParseFills(s, c.symbols, &c.clients);
  (void)ParseNaiveUtc(s);
  (void)MapOrderStatus(s);
}

void Ws(Codec& codec, std::string_view s, const Context& c) {
  (void)codec.ClassifyWsFrame(s);
  (void)codec.ParseBookTicker(s, c.symbols, 0);
  (void)codec.ParseTrade(s, c.symbols, 0);
  (void)codec.ParseWsMarkPrice(s);
  (void)codec.ParseWsTicker(s);
  (void)codec.ParseWsOpenInterest(s);
  (void)codec.ParseOrderUpdate(s, c.symbols, &c.clients, 0);
  (void)codec.ParsePositionUpdate(s, c.symbols);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Context c;
  static Codec codec;  // one per thread, reused across frames as the adapter does
  BookSync sync(SeqRule::kContiguous, c.btc.price_scale, c.btc.size_scale, 64);
  sync.OnSnapshot(c.snapshot.bids, c.snapshot.asks, c.snapshot.last_update_id);
  DeltaMsg delta;
  for (std::string_view line : fuzz::Lines(data, size)) {
    Rest(codec, line, c);
    Ws(codec, line, c);
    if (codec.ParseDepthDelta(line, c.btc, &delta).ok()) sync.OnDelta(delta);
    fuzz::CheckBook(sync.book());
  }
  return 0;
}
