// libFuzzer target: every Lighter codec entry point (REST bodies, WS frames, sendTx answers and
// error classification), and the order-book frames it decodes fed through BookSync (Lighter's
// begin_nonce chain, SeqRule::kPrevLink) from a snapshot. Each input line is one frame; every
// line goes to every decoder. Nothing may crash, leak, hit UB or leave a malformed book.
#include <cstdint>

#include "adapters/lighter/codec.h"
#include "adapters/lighter/errors.h"
#include "adapters/lighter/feed.h"
#include "adapters/lighter/symbols.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace perpgw;
using namespace perpgw::adapters::lighter;

struct Context {
  SymbolTable symbols;
  std::vector<MarketInfo> markets;
  Instrument eth;

  Context() {
    Codec codec;
    auto list =
        codec.ParseOrderBookDetails(fuzz::ReadData("lighter/order_book_details.json"), nullptr);
    if (!list.ok() || list->empty()) std::abort();
    markets = *list;
    for (const MarketInfo& m : markets) {
      Instrument in = m.instrument;
      WidenBookScales(&in);
      symbols.Add(in, m.market_index);
    }
    eth = *symbols.ByMarketIndex(0);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Context c;
  static Codec codec;  // one per thread, reused across frames as the adapter does
  Feed feed(&codec, &c.symbols);
  BookSync sync(SeqRule::kPrevLink, c.eth.price_scale, c.eth.size_scale, 64);
  std::vector<Level> bids{{100 * 100000000LL, 1}}, asks{{101 * 100000000LL, 1}};
  sync.OnSnapshot(bids, asks, 100);
  for (std::string_view line : fuzz::Lines(data, size)) {
    MarketMsg msg;
    if (feed.Decode(line, 1, &msg).ok() &&
        (msg.kind == FeedKind::kDepthDelta || msg.kind == FeedKind::kDepthSnapshot) &&
        msg.instrument == c.symbols.ByMarketIndex(0)) {
      if (msg.kind == FeedKind::kDepthDelta) {
        sync.OnDelta(*msg.delta);
      } else {
        std::vector<Level> b, a;
        for (const LevelChange& ch : msg.delta->changes) {
          (ch.side == BookSide::kBid ? b : a).push_back(ch.level);
        }
        std::sort(b.begin(), b.end(), [](auto& x, auto& y) { return x.price > y.price; });
        std::sort(a.begin(), a.end(), [](auto& x, auto& y) { return x.price < y.price; });
        sync.OnSnapshot(b, a, msg.delta->last_id);
      }
    }
    fuzz::CheckBook(sync.book());
    (void)codec.ParseOrderBookDetails(line, nullptr);
    (void)codec.ParseFundingRates(line);
    (void)codec.ParseOrderBookOrders(line, c.eth, 1);
    (void)codec.ParseNextNonce(line);
    (void)codec.ParseOrder(line, c.symbols);
    (void)codec.ParseOrders(line, c.symbols);
    (void)codec.ParseFills(line, c.symbols, 12345);
    (void)codec.ParseAccount(line, c.symbols, 12345);
    (void)codec.ParsePositions(line, c.symbols);
    (void)codec.ParseUserStats(line);
    (void)codec.ParseSendTx(line);
    (void)codec.ParseError(line);
    for (int status : {200, 400, 429, 503}) {
      (void)ClassifyApiAnswer(status, line, RequestKind::kOrderEntry);
    }
    (void)ClientOrderIndexFor(line);
    std::vector<MarketStats> stats;
    (void)codec.ParseWsMarketStats(line, &stats);
  }
  return 0;
}
