// Backpack's public market-data feed (see feed.h).
#include "adapters/backpack/feed.h"

#include "adapters/wire/status_macros.h"

namespace perpgw::adapters::backpack {

absl::Status Feed::Decode(std::string_view frame, UnixNanos receive_time, MarketMsg* out) {
  out->Clear();
  PERPGW_RETURN_IF_ERROR(codec_->ClassifyWsFrame(frame, &info_));
  out->venue_symbol = info_.venue_symbol;
  if (!info_.venue_symbol.empty()) out->instrument = symbols_->ByVenueSymbol(info_.venue_symbol);
  switch (info_.kind) {
    case WsKind::kDepth:
      if (out->instrument == nullptr) {
        return absl::NotFoundError("backpack: depth for unknown symbol " + info_.venue_symbol);
      }
      PERPGW_RETURN_IF_ERROR(codec_->ParseDepthDelta(frame, *out->instrument, &delta_));
      out->kind = FeedKind::kDepthDelta;
      out->delta = &delta_;
      return absl::OkStatus();
    case WsKind::kBookTicker: {
      PERPGW_ASSIGN_OR_RETURN(bbo_, codec_->ParseBookTicker(frame, *symbols_, receive_time));
      out->kind = FeedKind::kBbo;
      out->bbo = &bbo_;
      return absl::OkStatus();
    }
    case WsKind::kTrade: {
      PERPGW_ASSIGN_OR_RETURN(trade_, codec_->ParseTrade(frame, *symbols_, receive_time));
      out->kind = FeedKind::kTrade;
      out->trade = &trade_;
      return absl::OkStatus();
    }
    case WsKind::kMarkPrice: {
      PERPGW_ASSIGN_OR_RETURN(mark_, codec_->ParseWsMarkPrice(frame));
      out->kind = FeedKind::kVenue;
      out->venue_symbol = mark_.venue_symbol;
      out->detail = "markPrice";
      return absl::OkStatus();
    }
    case WsKind::kError:
      detail_ = std::to_string(info_.error_code) + " " + info_.error_message;
      out->kind = FeedKind::kVenueError;
      out->detail = detail_;
      return absl::OkStatus();
    default:
      out->kind = FeedKind::kIgnored;
      out->detail = ToString(info_.kind);
      return absl::OkStatus();
  }
}

}  // namespace perpgw::adapters::backpack
