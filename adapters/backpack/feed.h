// Backpack's public market-data feed: WS frames → MarketMsg (pure; see adapters/api/feed.h).
#pragma once

#include <string>

#include "adapters/api/feed.h"
#include "adapters/backpack/codec.h"
#include "adapters/backpack/symbols.h"

namespace perpgw::adapters::backpack {

class Feed final : public MarketFeed {
 public:
  // The codec and table stay the caller's and must outlive the feed.
  Feed(Codec* codec, const SymbolTable* symbols) : codec_(codec), symbols_(symbols) {}

  SeqRule seq_rule() const override { return SeqRule::kContiguous; }
  absl::Status Decode(std::string_view frame, UnixNanos receive_time, MarketMsg* out) override;

  // kVenue "markPrice": the mark, index and funding fields of the frame (the adapter builds the
  // Funding row from them with the market's interval and the REST volume/open interest).
  const MarkPriceInfo& mark() const { return mark_; }

 private:
  Codec* codec_;
  const SymbolTable* symbols_;
  WsFrameInfo info_;
  DeltaMsg delta_;
  Bbo bbo_;
  Trade trade_;
  MarkPriceInfo mark_;
  std::string detail_;
};

}  // namespace perpgw::adapters::backpack
