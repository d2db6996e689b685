// Lighter market-data feed (see feed.h).
#include "adapters/lighter/feed.h"

#include "adapters/wire/cat.h"
#include "adapters/wire/status_macros.h"

namespace perpgw::adapters::lighter {

absl::Status Feed::Unknown(std::string_view what, int64_t market) const {
  return absl::NotFoundError(
      wire::Cat("lighter ", what, ": market ", std::to_string(market), " is not configured"));
}

absl::Status Feed::Decode(std::string_view frame, UnixNanos receive_time, MarketMsg* out) {
  out->Clear();
  // Fast path for the bulk of the traffic: book frames name their channel first, as the venue
  // and perpgw-sim write them ({"channel":"order_book:N",...}), and the book decoder checks the
  // channel and the type itself, so the classifying pass over the frame is skipped. Whatever it
  // does not accept (an error frame, another shape) takes the full path below.
  constexpr std::string_view kChannelKey = "{\"channel\":\"";
  constexpr std::string_view kBookPrefix = "{\"channel\":\"order_book:";
  static_assert(kBookPrefix.substr(0, kChannelKey.size()) == kChannelKey);
  if (frame.substr(0, kBookPrefix.size()) == kBookPrefix) {
    int64_t market = 0;
    size_t i = kBookPrefix.size();
    const size_t digits_start = i;
    while (i < frame.size() && i - digits_start < 9 && frame[i] >= '0' && frame[i] <= '9') {
      market = market * 10 + (frame[i] - '0');
      ++i;
    }
    const Instrument* in = i > digits_start && i < frame.size() && frame[i] == '"'
                               ? symbols_->ByMarketIndex(market)
                               : nullptr;
    bool snapshot = false;
    if (in != nullptr && codec_->ParseWsBook(frame, *in, market, &delta_, &snapshot).ok()) {
      info_.type = snapshot ? WsType::kSubscribed : WsType::kUpdate;
      info_.channel.assign(frame.substr(kChannelKey.size(), i - kChannelKey.size()));
      info_.channel_kind = ChannelKind::kOrderBook;
      info_.market_index = market;
      info_.account_index = -1;
      info_.error_code = 0;
      info_.error_message.clear();
      out->instrument = in;
      out->venue_symbol = in->venue_symbol;
      out->kind = snapshot ? FeedKind::kDepthSnapshot : FeedKind::kDepthDelta;
      out->delta = &delta_;
      return absl::OkStatus();
    }
  }
  PERPGW_RETURN_IF_ERROR(codec_->ClassifyWsFrame(frame, &info_));
  switch (info_.type) {
    case WsType::kError:
      detail_ = wire::Cat(std::to_string(info_.error_code), " ", info_.error_message);
      out->kind = FeedKind::kVenueError;
      out->detail = detail_;
      return absl::OkStatus();
    case WsType::kPing:
      out->kind = FeedKind::kVenue;
      out->detail = "ping";
      return absl::OkStatus();
    case WsType::kSubscribed:
    case WsType::kUpdate: break;
    default:
      out->kind = FeedKind::kIgnored;
      out->detail = ToString(info_.type);
      return absl::OkStatus();
  }
  switch (info_.channel_kind) {
    case ChannelKind::kOrderBook: {
      const Instrument* in = symbols_->ByMarketIndex(info_.market_index);
      if (in == nullptr) return Unknown("order_book", info_.market_index);
      out->instrument = in;
      out->venue_symbol = in->venue_symbol;
      bool snapshot = false;
      PERPGW_RETURN_IF_ERROR(
          codec_->ParseWsBook(frame, *in, info_.market_index, &delta_, &snapshot));
      out->kind = snapshot ? FeedKind::kDepthSnapshot : FeedKind::kDepthDelta;
      out->delta = &delta_;
      return absl::OkStatus();
    }
    case ChannelKind::kTicker: {
      PERPGW_ASSIGN_OR_RETURN(bbo_, codec_->ParseWsTicker(frame, *symbols_, receive_time));
      out->instrument = symbols_->ByMarketIndex(info_.market_index);
      if (out->instrument != nullptr) out->venue_symbol = out->instrument->venue_symbol;
      out->kind = FeedKind::kBbo;
      out->bbo = &bbo_;
      return absl::OkStatus();
    }
    case ChannelKind::kTrade: {
      PERPGW_RETURN_IF_ERROR(
          codec_->ParseWsTrades(frame, *symbols_, receive_time, &trades_, &liquidations_));
      out->instrument = symbols_->ByMarketIndex(info_.market_index);
      if (out->instrument != nullptr) out->venue_symbol = out->instrument->venue_symbol;
      if (trades_.size() == 1 && liquidations_.empty()) {
        out->kind = FeedKind::kTrade;
        out->trade = &trades_.front();
      } else if (trades_.empty()) {
        out->kind = FeedKind::kIgnored;
        out->detail = "trade frame without trades";
      } else {
        out->kind = FeedKind::kVenue;
        out->detail = "trades";
      }
      return absl::OkStatus();
    }
    case ChannelKind::kMarketStats:
      PERPGW_RETURN_IF_ERROR(codec_->ParseWsMarketStats(frame, &stats_));
      out->kind = FeedKind::kVenue;
      out->detail = "market_stats";
      return absl::OkStatus();
    default:
      out->kind = FeedKind::kIgnored;
      out->detail = ToString(info_.channel_kind);
      return absl::OkStatus();
  }
}

}  // namespace perpgw::adapters::lighter
