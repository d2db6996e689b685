// Paradex's public market-data feed: WS frames → MarketMsg (pure; see adapters/api/feed.h).
// Binary frames are SBE (schema 1, negotiated on connect), text frames JSON-RPC: the frame's
// opcode decides, never sniffing (paradex-sbe.md §1). Frames name no channel: routing is by the
// market each event carries.
#pragma once

#include <string>

#include "adapters/api/feed.h"
#include "adapters/paradex/codec.h"
#include "adapters/paradex/sbe.h"
#include "adapters/paradex/symbols.h"

namespace perpgw::adapters::paradex {

class Feed final : public MarketFeed {
 public:
  // The codec and table stay the caller's and must outlive the feed.
  Feed(Codec* codec, const SymbolTable* symbols) : codec_(codec), symbols_(symbols) {}

  // seq_no strictly increases but throttled batches skip numbers: no gap is visible from ids.
  SeqRule seq_rule() const override { return SeqRule::kMonotonic; }
  // Text: JSON-RPC acks and errors (kIgnored / kVenueError; info() has the details) and, on a
  // connection without SBE, the JSON public channels.
  absl::Status Decode(std::string_view frame, UnixNanos receive_time, MarketMsg* out) override;
  // Binary: one SBE message. Unknown templates are kIgnored ("sbe template N"), the socket stays.
  absl::Status DecodeBinary(std::string_view frame, UnixNanos receive_time,
                            MarketMsg* out) override;

  // kVenue "markets_summary" / "funding_data": the adapter builds the Funding row from them with
  // the market's period and the latest summary.
  const MarketSummary& summary() const { return summary_; }
  const FundingData& funding_data() const { return funding_; }
  // The last text frame's classification (acks carry the request id, errors code and message).
  const WsFrameInfo& info() const { return info_; }
  // The last SBE header (tests, metrics by template).
  const sbe::Header& sbe_header() const { return header_; }

 private:
  Codec* codec_;
  const SymbolTable* symbols_;
  WsFrameInfo info_;
  sbe::Header header_;
  sbe::BookEvent book_;
  sbe::BboEvent sbe_bbo_;
  sbe::TradeEvent sbe_trade_;
  sbe::MarketSummaryEvent sbe_summary_;
  sbe::FundingDataEvent sbe_funding_;
  DeltaMsg delta_;
  Bbo bbo_;
  Trade trade_;
  MarketSummary summary_;
  FundingData funding_;
  std::string detail_;
};

}  // namespace perpgw::adapters::paradex
