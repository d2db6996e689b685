// Aster's public market-data feed (see feed.h).
#include "adapters/aster/feed.h"

#include <string>

namespace perpgw::adapters::aster {

absl::Status Feed::Decode(std::string_view frame, UnixNanos receive_time, MarketMsg* out) {
  out->Clear();
  absl::Status st = DecodeMarketFrame(frame, ctx_, receive_time, &frame_);
  if (!st.ok()) return st;
  out->venue_symbol = frame_.venue_symbol;
  // Depth frames carry the instrument the decoder resolved (one lookup per frame).
  out->instrument = frame_.instrument;
  if (out->instrument == nullptr && !frame_.venue_symbol.empty()) {
    out->instrument = ctx_.symbols->ByVenueSymbol(frame_.venue_symbol);
  }
  switch (frame_.kind) {
    case MarketEventKind::kDepthDiff:
      out->kind = FeedKind::kDepthDelta;
      out->delta = &frame_.delta;
      break;
    case MarketEventKind::kDepthPartial:
      out->kind = FeedKind::kDepthSnapshot;
      out->delta = &frame_.delta;
      break;
    case MarketEventKind::kBookTicker:
      out->kind = FeedKind::kBbo;
      out->bbo = &frame_.bbo;
      break;
    case MarketEventKind::kTrade:
      out->kind = FeedKind::kTrade;
      out->trade = &frame_.trade;
      break;
    case MarketEventKind::kMarkPrice:
      out->kind = FeedKind::kFunding;
      out->funding = &frame_.funding;
      break;
    case MarketEventKind::kLiquidation:
      out->kind = FeedKind::kLiquidation;
      out->liquidation = &frame_.liquidation;
      break;
    case MarketEventKind::kTicker:
      out->kind = FeedKind::kVenue;
      out->detail = "24hrTicker";
      break;
    case MarketEventKind::kControlReply:
      out->kind = FeedKind::kIgnored;
      out->detail = "control reply";
      break;
    case MarketEventKind::kControlError:
      out->kind = FeedKind::kVenueError;
      detail_ = std::to_string(frame_.control.code) + " " + frame_.control.msg;
      out->detail = detail_;
      break;
    case MarketEventKind::kUnknown:
      out->kind = FeedKind::kIgnored;
      out->detail = frame_.event_type;
      break;
  }
  return absl::OkStatus();
}

}  // namespace perpgw::adapters::aster
