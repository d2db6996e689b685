// perpgw-sim's Lighter module (lighter.md): REST under /api/v1 and the WebSocket /stream with
// the venue's JSON frames. Market data: orderBookDetails, orderBooks, funding-rates,
// orderBookOrders, recentTrades; WS order_book/{m} (snapshot, then absolute-size updates batched
// every 50 ms on the begin_nonce == last nonce chain), ticker/{m}, trade/{m}, market_stats/{m}
// and /all, ping/pong, the 2-minute idle close, and the venue's error frames.
// Not yet (step 1 of issue 15): transactions (sendTx), auth tokens and the account endpoints and
// channels — they answer the venue's own error shape naming that (see README.md).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/venue_module.h"

namespace perpgw::sim::lighter {

std::unique_ptr<VenueModule> MakeModule();

inline constexpr int kBookFlushMs = 50;           // update/order_book batching
inline constexpr int64_t kIdleCloseMs = 120'000;  // "send something at least every 2 minutes"

class LighterModule final : public VenueModule {
 public:
  LighterModule();
  ~LighterModule() override;

  std::string name() const override { return "lighter"; }
  std::vector<InstrumentSpec> DefaultInstruments() const override;
  std::vector<AccountSpec> DefaultAccounts() const override;
  void Attach(SimContext& ctx) override;
  void DescribeEndpoints(VenueEndpoints& out) const override;

  void HandleHttp(const HttpRequest& req, HttpResponse& resp) override;

  bool AcceptWs(const HttpRequest& upgrade, HttpResponse& reject) override;
  void OnWsOpen(const WsConnPtr& conn, const HttpRequest& upgrade) override;
  void OnWsText(const WsConnPtr& conn, std::string_view text) override;
  void OnWsClose(const WsConnPtr& conn) override;

  void OnBookChange(const BookChange& change) override;
  void OnTrade(const PublicTrade& trade) override;

  bool OnFault(const FaultRequest& fault, FaultResult& result) override;
  void FormatInjectedError(int status, const HttpRequest& req, HttpResponse& resp) override;

 private:
  struct BookSub {
    bool need_snapshot = true;
    std::map<int64_t, int64_t> bids, asks;  // the levels last sent: price → size
    uint64_t nonce = 0;                     // the nonce last sent
  };
  struct ConnState {
    std::set<std::string> channels;   // as subscribed ("order_book/0")
    std::map<size_t, BookSub> books;  // instrument index → book subscription
    uint64_t offset = 0;              // per-connection message counter (frames carry it)
  };
  struct MarketState {
    std::array<int64_t, 4> bbo{};     // bid px, bid qty, ask px, ask qty last pushed
    bool gap = false;                 // skip_seq: the next update's begin_nonce skips one
    std::vector<std::string> trades;  // recent public trades (JSON objects), newest last
    Money volume_24h = 0;             // quote notional
    Money volume_base = 0;
    int64_t last_price = 0;
    uint64_t last_id = 0;  // the book's update id last seen (gap detection)
  };

  // module.cpp
  int64_t NowMs() const;
  const SimInstrument* ByMarketId(int64_t id) const;
  // rest.cpp
  void Route(const HttpRequest& req, HttpResponse& resp);
  std::string DetailJson(const SimInstrument& in) const;
  std::string LevelsJson(const std::vector<Level>& levels, const SimInstrument& in) const;
  std::string StatsJson(const SimInstrument& in) const;
  // ws.cpp
  void HandleText(const WsConnPtr& conn, ConnState& st, std::string_view text);
  void SendError(const WsConnPtr& conn, int code, const std::string& message);
  std::string Subscribe(const WsConnPtr& conn, ConnState& st, const std::string& channel);
  std::string Frame(ConnState& st, std::string_view type, std::string_view channel,
                    std::string_view payload_key, const std::string& payload_json);
  void FlushBooks();
  void PushBbo(size_t i);
  void PushStats();
  void CloseIdle();

  SimContext* ctx_ = nullptr;
  std::map<uint64_t, std::weak_ptr<WsConn>> conns_;
  std::vector<MarketState> markets_;
  int64_t idle_close_ms_ = kIdleCloseMs;
};

}  // namespace perpgw::sim::lighter
