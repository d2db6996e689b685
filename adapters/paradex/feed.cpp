// Paradex's public market-data feed (see feed.h).
#include "adapters/paradex/feed.h"

#include "adapters/wire/cat.h"
#include "adapters/wire/status_macros.h"

namespace perpgw::adapters::paradex {

namespace {

absl::Status Unknown(std::string_view what, std::string_view market) {
  return absl::NotFoundError(
      wire::Cat("paradex: ", what, " for unknown market ", market.substr(0, 64)));
}

}  // namespace

absl::Status Feed::DecodeBinary(std::string_view frame, UnixNanos receive_time, MarketMsg* out) {
  out->Clear();
  PERPGW_RETURN_IF_ERROR(sbe::ReadHeader(frame, &header_));
  switch (static_cast<sbe::TemplateId>(header_.template_id)) {
    case sbe::TemplateId::kBook: {
      PERPGW_RETURN_IF_ERROR(sbe::Decode(frame, header_, &book_));
      out->venue_symbol = book_.market;
      out->instrument = symbols_->ByVenueSymbol(book_.market);
      if (out->instrument == nullptr) return Unknown("book", book_.market);
      PERPGW_RETURN_IF_ERROR(BookEventToDelta(book_, *out->instrument, &delta_));
      out->kind = book_.pkg_type == static_cast<uint8_t>(sbe::PkgType::kSnapshot)
                      ? FeedKind::kDepthSnapshot
                      : FeedKind::kDepthDelta;
      out->delta = &delta_;
      return absl::OkStatus();
    }
    case sbe::TemplateId::kBbo: {
      PERPGW_RETURN_IF_ERROR(sbe::Decode(frame, header_, &sbe_bbo_));
      out->venue_symbol = sbe_bbo_.market;
      out->instrument = symbols_->ByVenueSymbol(sbe_bbo_.market);
      if (out->instrument == nullptr) return Unknown("bbo", sbe_bbo_.market);
      PERPGW_RETURN_IF_ERROR(BboEventToBbo(sbe_bbo_, *out->instrument, receive_time, &bbo_));
      out->kind = FeedKind::kBbo;
      out->bbo = &bbo_;
      return absl::OkStatus();
    }
    case sbe::TemplateId::kTrade: {
      PERPGW_RETURN_IF_ERROR(sbe::Decode(frame, header_, &sbe_trade_));
      out->venue_symbol = sbe_trade_.market;
      out->instrument = symbols_->ByVenueSymbol(sbe_trade_.market);
      if (out->instrument == nullptr) return Unknown("trade", sbe_trade_.market);
      PERPGW_RETURN_IF_ERROR(
          TradeEventToTrade(sbe_trade_, *out->instrument, receive_time, &trade_));
      out->kind = FeedKind::kTrade;
      out->trade = &trade_;
      return absl::OkStatus();
    }
    case sbe::TemplateId::kMarketSummary:
      PERPGW_RETURN_IF_ERROR(sbe::Decode(frame, header_, &sbe_summary_));
      summary_ = SummaryFromSbe(sbe_summary_);
      out->kind = FeedKind::kVenue;
      out->venue_symbol = summary_.venue_symbol;
      out->instrument = symbols_->ByVenueSymbol(summary_.venue_symbol);
      out->detail = "markets_summary";
      return absl::OkStatus();
    case sbe::TemplateId::kFundingData:
      PERPGW_RETURN_IF_ERROR(sbe::Decode(frame, header_, &sbe_funding_));
      funding_ = FundingFromSbe(sbe_funding_);
      out->kind = FeedKind::kVenue;
      out->venue_symbol = funding_.venue_symbol;
      out->instrument = symbols_->ByVenueSymbol(funding_.venue_symbol);
      out->detail = "funding_data";
      return absl::OkStatus();
    default:
      // Heartbeats, FundingRateComparison, private templates on the public feed, and templates
      // newer than this decoder: dropped, the connection stays (decoder rule 1).
      detail_ = wire::Cat("sbe ", sbe::TemplateName(header_.template_id), " (template ",
                          header_.template_id, ")");
      out->kind = FeedKind::kIgnored;
      out->detail = detail_;
      return absl::OkStatus();
  }
}

absl::Status Feed::Decode(std::string_view frame, UnixNanos receive_time, MarketMsg* out) {
  out->Clear();
  PERPGW_RETURN_IF_ERROR(codec_->ClassifyWsFrame(frame, &info_));
  switch (info_.kind) {
    case WsKind::kError:
      detail_ = wire::Cat(info_.error_code, " ", info_.error_message);
      out->kind = FeedKind::kVenueError;
      out->detail = detail_;
      return absl::OkStatus();
    case WsKind::kResult:
    case WsKind::kUnknown:
      out->kind = FeedKind::kIgnored;
      out->detail = ToString(info_.kind);
      return absl::OkStatus();
    case WsKind::kSubscription: break;
  }
  switch (info_.channel_kind) {
    case ChannelKind::kOrderBook: {
      // "order_book.<market>.<feed>@15@<rate>": the market is the second dotted part.
      std::string_view c = info_.channel;
      size_t a = c.find('.');
      size_t b = c.find('.', a + 1);
      std::string_view market = c.substr(a + 1, b == std::string_view::npos ? b : b - a - 1);
      out->venue_symbol = market;
      out->instrument = symbols_->ByVenueSymbol(market);
      if (out->instrument == nullptr) return Unknown("order_book", market);
      bool snapshot = false;
      PERPGW_RETURN_IF_ERROR(codec_->ParseWsBook(frame, *out->instrument, &delta_, &snapshot));
      if (snapshot) {
        // A JSON snapshot is all inserts: the same shape as an SBE snapshot.
        out->kind = FeedKind::kDepthSnapshot;
      } else {
        out->kind = FeedKind::kDepthDelta;
      }
      out->delta = &delta_;
      return absl::OkStatus();
    }
    case ChannelKind::kBbo: {
      PERPGW_ASSIGN_OR_RETURN(bbo_, codec_->ParseWsBbo(frame, *symbols_, receive_time));
      out->kind = FeedKind::kBbo;
      out->bbo = &bbo_;
      return absl::OkStatus();
    }
    case ChannelKind::kTrades: {
      PERPGW_ASSIGN_OR_RETURN(trade_, codec_->ParseWsTrade(frame, *symbols_, receive_time));
      out->kind = FeedKind::kTrade;
      out->trade = &trade_;
      return absl::OkStatus();
    }
    case ChannelKind::kMarketsSummary: {
      PERPGW_ASSIGN_OR_RETURN(summary_, codec_->ParseWsMarketsSummary(frame));
      out->kind = FeedKind::kVenue;
      out->venue_symbol = summary_.venue_symbol;
      out->instrument = symbols_->ByVenueSymbol(summary_.venue_symbol);
      out->detail = "markets_summary";
      return absl::OkStatus();
    }
    case ChannelKind::kFundingData: {
      PERPGW_ASSIGN_OR_RETURN(funding_, codec_->ParseWsFundingData(frame));
      out->kind = FeedKind::kVenue;
      out->venue_symbol = funding_.venue_symbol;
      out->instrument = symbols_->ByVenueSymbol(funding_.venue_symbol);
      out->detail = "funding_data";
      return absl::OkStatus();
    }
    default:
      out->kind = FeedKind::kIgnored;
      out->detail = ToString(info_.channel_kind);
      return absl::OkStatus();
  }
}

}  // namespace perpgw::adapters::paradex
