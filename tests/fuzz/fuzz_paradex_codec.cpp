// libFuzzer target: every Paradex codec entry point — the SBE decoder (every template) and the
// JSON codec (REST bodies, JSON-RPC frames, order answers at each HTTP status class) — and the
// book frames the feed decodes, fed through BookSync (Paradex's monotonic rule). Input: records
// of [uint16 LE header: bit 15 = binary (SBE) frame, low 15 bits = length][bytes]; a short tail
// is one last record. Nothing may crash, leak, hit UB or leave a malformed book.
#include <cstdint>

#include "adapters/paradex/codec.h"
#include "adapters/paradex/errors.h"
#include "adapters/paradex/feed.h"
#include "adapters/paradex/sbe.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace perpgw;
using namespace perpgw::adapters::paradex;

struct Context {
  SymbolTable symbols;
  Instrument btc;

  Context() {
    Codec codec;
    auto list = codec.ParseMarkets(fuzz::ReadData("paradex/rest_markets.json"));
    if (!list.ok()) std::abort();
    for (auto& in : *list) {
      WidenBookScales(&in);
      symbols.Add(in);
    }
    btc.venue = "paradex";
    btc.venue_symbol = "BTC-USD-PERP";
    btc.symbol = "BTC";
    btc.tick_size = *Decimal::Parse("0.1");
    btc.step_size = *Decimal::Parse("0.001");
    btc.price_scale = 1;
    btc.size_scale = 3;
    WidenBookScales(&btc);
    symbols.Add(btc);
  }
};

template <typename Event>
void Try(std::string_view s, const sbe::Header& h) {
  Event e;
  (void)sbe::Decode(s, h, &e);
}

void Binary(std::string_view s) {
  sbe::Header h;
  if (!sbe::ReadHeader(s, &h).ok()) return;
  // Every decoder on every header: each refuses a template that is not its own, and must stay
  // inside the frame when it is.
  Try<sbe::TradeEvent>(s, h);
  Try<sbe::BboEvent>(s, h);
  Try<sbe::BookEvent>(s, h);
  Try<sbe::MarketSummaryEvent>(s, h);
  Try<sbe::FundingDataEvent>(s, h);
  Try<sbe::FundingRateComparisonEvent>(s, h);
  Try<sbe::OrderEvent>(s, h);
  Try<sbe::FillEvent>(s, h);
  Try<sbe::PositionEvent>(s, h);
  Try<sbe::AccountEvent>(s, h);
  Try<sbe::HeartbeatEvent>(s, h);
  Try<sbe::SubscribedEvent>(s, h);
}

void Text(Codec& codec, std::string_view s, const Context& c) {
  (void)codec.ParseMarketInfos(s);
  (void)codec.ParseSystemConfig(s);
  (void)codec.ParseSystemState(s);
  (void)codec.ParseSystemTime(s);
  (void)codec.ParseMarketsSummary(s);
  PageCursor cursor;
  (void)codec.ParseFundingData(s, &cursor);
  (void)codec.ParseOrderbook(s, c.btc);
  (void)codec.ParseBbo(s, c.symbols, 0);
  WsFrameInfo info;
  (void)codec.ClassifyWsFrame(s, &info);
  (void)codec.ParseWsBbo(s, c.symbols, 0);
  (void)codec.ParseWsTrade(s, c.symbols, 0);
  (void)codec.ParseWsMarketsSummary(s);
  (void)codec.ParseWsFundingData(s);
  (void)codec.ParseOrder(s, c.symbols);
  (void)codec.ParseOrders(s, c.symbols, &cursor);
  for (int status : {0, 201, 400, 429, 503}) (void)codec.ParseOrderResponse(status, s, c.symbols);
  (void)codec.ParseFill(s, c.symbols);
  (void)codec.ParseFills(s, c.symbols, &cursor);
  (void)codec.ParsePositions(s, c.symbols);
  (void)codec.ParsePosition(s, c.symbols);
  (void)codec.ParseBalanceSize(s, "USDC");
  (void)codec.ParseAccount(s);
  (void)codec.ParseAccountMargin(s);
  (void)codec.ParseAuth(s);
  (void)codec.ParseError(s);
  int64_t id;
  (void)TradeIdLow64(s, &id);
  (void)JwtExpiry(s);
  for (int status : {400, 401, 404, 429, 500}) {
    (void)ClassifyHttpError(status, s, RequestKind::kOrderEntry);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Context c;
  static Codec codec;  // one per thread, reused across frames as the adapter does
  Feed feed(&codec, &c.symbols);
  BookSync sync(feed.seq_rule(), c.btc.price_scale, c.btc.size_scale, 64);
  std::vector<Level> bids, asks;
  MarketMsg m;
  std::string_view all(reinterpret_cast<const char*>(data), size);
  while (!all.empty()) {
    bool binary = false;
    std::string_view frame;
    if (all.size() >= 2) {
      uint16_t hdr =
          static_cast<uint16_t>(static_cast<uint8_t>(all[0]) | static_cast<uint8_t>(all[1]) << 8);
      binary = (hdr & 0x8000) != 0;
      size_t len = hdr & 0x7fff;
      all.remove_prefix(2);
      frame = all.substr(0, len);
      all.remove_prefix(frame.size());
    } else {
      frame = all;
      all = {};
    }
    // A copy of exactly the frame: reads past it are reported.
    std::string owned(frame);
    absl::Status st;
    if (binary) {
      Binary(owned);
      st = feed.DecodeBinary(owned, 0, &m);
    } else {
      Text(codec, owned, c);
      st = feed.Decode(owned, 0, &m);
    }
    if (!st.ok() || m.instrument == nullptr || m.instrument->venue_symbol != c.btc.venue_symbol) {
      continue;
    }
    if (m.kind == FeedKind::kDepthSnapshot) {
      bids.clear();
      asks.clear();
      SplitSnapshotLevels(*m.delta, &bids, &asks);
      sync.OnSnapshot(bids, asks, m.delta->last_id);
    } else if (m.kind == FeedKind::kDepthDelta) {
      sync.OnDelta(*m.delta);
    }
    fuzz::CheckBook(sync.book());
  }
  return 0;
}
