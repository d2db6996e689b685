// Aster's public market-data feed: fstream frames → MarketMsg (pure; see adapters/api/feed.h).
#pragma once

#include "adapters/api/feed.h"
#include "adapters/aster/codec.h"

namespace perpgw::adapters::aster {

class Feed final : public MarketFeed {
 public:
  // `ctx.symbols` is required; the tables stay the caller's and must outlive the feed.
  explicit Feed(MarketContext ctx) : ctx_(ctx) {}

  SeqRule seq_rule() const override { return SeqRule::kPrevLink; }
  absl::Status Decode(std::string_view frame, UnixNanos receive_time, MarketMsg* out) override;

  // The last frame as the codec decoded it (kVenue: "24hrTicker" → frame().ticker).
  const MarketFrame& frame() const { return frame_; }

 private:
  MarketContext ctx_;
  MarketFrame frame_;
  std::string detail_;
};

}  // namespace perpgw::adapters::aster
