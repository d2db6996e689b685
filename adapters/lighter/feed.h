// Lighter's public market-data feed: WS JSON frames -> MarketMsg (pure; see adapters/api/feed.h).
// Frames name their channel with ':' and a market index ("order_book:0"); routing is by that
// index. Book continuity is begin_nonce == the last applied nonce (SeqRule::kPrevLink with
// prev_id = begin_nonce; lighter.md §5).
#pragma once

#include <string>
#include <vector>

#include "adapters/api/feed.h"
#include "adapters/lighter/codec.h"
#include "adapters/lighter/symbols.h"

namespace perpgw::adapters::lighter {

class Feed final : public MarketFeed {
 public:
  // The codec and table stay the caller's and must outlive the feed.
  Feed(Codec* codec, const SymbolTable* symbols) : codec_(codec), symbols_(symbols) {}

  SeqRule seq_rule() const override { return SeqRule::kPrevLink; }
  // subscribed/order_book -> kDepthSnapshot, update/order_book -> kDepthDelta, ticker -> kBbo,
  // a trade frame with one trade -> kTrade, with several or with liquidations -> kVenue "trades"
  // (trades() and liquidations()), market_stats -> kVenue "market_stats" (stats()), the
  // server's {"type":"ping"} -> kVenue "ping" (answer EncodePong()), errors -> kVenueError
  // ("30003 Already Subscribed"), connected/pong/acks -> kIgnored.
  absl::Status Decode(std::string_view frame, UnixNanos receive_time, MarketMsg* out) override;

  const std::vector<Trade>& trades() const { return trades_; }
  const std::vector<Liquidation>& liquidations() const { return liquidations_; }
  const std::vector<MarketStats>& stats() const { return stats_; }
  // The last frame's classification.
  const WsFrameInfo& info() const { return info_; }

 private:
  absl::Status Unknown(std::string_view what, int64_t market) const;

  Codec* codec_;
  const SymbolTable* symbols_;
  WsFrameInfo info_;
  DeltaMsg delta_;
  Bbo bbo_;
  std::vector<Trade> trades_;
  std::vector<Liquidation> liquidations_;
  std::vector<MarketStats> stats_;
  std::string detail_;
};

}  // namespace perpgw::adapters::lighter
