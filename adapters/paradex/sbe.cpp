// Paradex SBE decoder (see sbe.h).
#include "adapters/paradex/sbe.h"

#include <bit>
#include <cstring>
#include <string>

#include "adapters/wire/cat.h"
#include "adapters/wire/status_macros.h"

namespace perpgw::adapters::paradex::sbe {

namespace {

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // little endian on every target we build for
  return v;
}
static_assert(std::endian::native == std::endian::little, "SBE loads assume a little-endian host");

// One message's cursor: fixed fields inside the root block by offset, then groups and var data
// in order from the end of the block.
class Reader {
 public:
  Reader(std::string_view frame, const Header& h)
      : frame_(frame),
        block_(frame.data() + kHeaderSize),
        block_len_(h.block_length),
        pos_(kHeaderSize + h.block_length),
        version_(h.version),
        name_(TemplateName(h.template_id)) {}

  uint16_t version() const { return version_; }
  bool Has(size_t off, size_t size) const { return off + size <= block_len_; }
  int64_t I64(size_t off, int64_t absent = 0) const {
    return Has(off, 8) ? Load<int64_t>(block_ + off) : absent;
  }
  uint64_t U64(size_t off) const { return Has(off, 8) ? Load<uint64_t>(block_ + off) : 0; }
  Dec D(size_t off) const { return Dec{I64(off, kNull)}; }
  uint8_t U8(size_t off) const { return Has(off, 1) ? static_cast<uint8_t>(block_[off]) : 0; }
  int16_t I16(size_t off) const { return Has(off, 2) ? Load<int16_t>(block_ + off) : 0; }
  std::string_view Bytes(size_t off, size_t n) const {
    return Has(off, n) ? std::string_view(block_ + off, n) : std::string_view();
  }

  absl::Status Bad(std::string_view what) const {
    return absl::InvalidArgumentError(wire::Cat("paradex sbe ", name_, ": ", what));
  }

  // A book group: 4-byte header, entries of the group's own length (>= 16: price, size).
  absl::Status Group(LevelGroup* out) {
    if (frame_.size() - pos_ < kGroupHeaderSize) return Bad("group header past the frame end");
    const char* p = frame_.data() + pos_;
    uint16_t entry_len = Load<uint16_t>(p);
    uint16_t count = Load<uint16_t>(p + 2);
    pos_ += kGroupHeaderSize;
    if (entry_len < 16) return Bad(wire::Cat("group entry length ", entry_len, " < 16"));
    size_t bytes = static_cast<size_t>(entry_len) * count;
    if (frame_.size() - pos_ < bytes) return Bad("group entries past the frame end");
    *out = LevelGroup(frame_.data() + pos_, entry_len, count);
    pos_ += bytes;
    return absl::OkStatus();
  }

  // A var-data string. At the very end of the frame it is absent (empty, OK); a length running
  // past the end is malformed.
  absl::Status Var(std::string_view* out) {
    *out = {};
    if (pos_ >= frame_.size()) return absl::OkStatus();
    size_t len = static_cast<uint8_t>(frame_[pos_]);
    if (frame_.size() - pos_ - 1 < len) return Bad("var-data length past the frame end");
    *out = frame_.substr(pos_ + 1, len);
    pos_ += 1 + len;
    return absl::OkStatus();
  }

  absl::Status Market(std::string_view* out) {
    PERPGW_RETURN_IF_ERROR(Var(out));
    if (out->empty()) return Bad("no market");
    return absl::OkStatus();
  }

 private:
  std::string_view frame_;
  const char* block_;
  size_t block_len_;
  size_t pos_;
  uint16_t version_;
  const char* name_;
};

absl::Status Expect(const Header& h, TemplateId t) {
  if (h.template_id != static_cast<uint16_t>(t)) {
    return absl::InvalidArgumentError(wire::Cat("paradex sbe: template ", h.template_id, " is not ",
                                                TemplateName(static_cast<uint16_t>(t))));
  }
  if (h.block_length < MinBlockLength(h.template_id)) {
    return absl::InvalidArgumentError(wire::Cat("paradex sbe ", TemplateName(h.template_id),
                                                ": block length ", h.block_length, " < ",
                                                MinBlockLength(h.template_id)));
  }
  return absl::OkStatus();
}

}  // namespace

const char* TemplateName(uint16_t id) {
  switch (static_cast<TemplateId>(id)) {
    case TemplateId::kTrade: return "TradeEvent";
    case TemplateId::kBbo: return "BboEvent";
    case TemplateId::kBook: return "BookEvent";
    case TemplateId::kMarketSummary: return "MarketSummaryEvent";
    case TemplateId::kFundingData: return "FundingDataEvent";
    case TemplateId::kFundingRateComparison: return "FundingRateComparisonEvent";
    case TemplateId::kOrder: return "OrderEvent";
    case TemplateId::kFill: return "FillEvent";
    case TemplateId::kPosition: return "PositionEvent";
    case TemplateId::kAccount: return "AccountEvent";
    case TemplateId::kHeartbeat: return "HeartbeatEvent";
    case TemplateId::kSubscribed: return "SubscribedEvent";
  }
  return "unknown";
}

uint16_t MinBlockLength(uint16_t id) {
  switch (static_cast<TemplateId>(id)) {
    case TemplateId::kTrade: return 50;
    case TemplateId::kBbo: return 48;
    case TemplateId::kBook: return 89;
    case TemplateId::kMarketSummary: return 216;
    case TemplateId::kFundingData: return 58;
    case TemplateId::kFundingRateComparison: return 26;
    case TemplateId::kOrder: return 126;
    case TemplateId::kFill: return 107;
    case TemplateId::kPosition: return 154;
    case TemplateId::kAccount: return 113;
    case TemplateId::kHeartbeat: return 16;
    case TemplateId::kSubscribed: return 17;
  }
  return 0;
}

absl::Status ReadHeader(std::string_view frame, Header* out) {
  if (frame.size() < kHeaderSize) {
    return absl::InvalidArgumentError(
        wire::Cat("paradex sbe: frame of ", frame.size(), " bytes is shorter than a header"));
  }
  out->block_length = Load<uint16_t>(frame.data());
  out->template_id = Load<uint16_t>(frame.data() + 2);
  out->schema_id = Load<uint16_t>(frame.data() + 4);
  out->version = Load<uint16_t>(frame.data() + 6);
  if (out->schema_id != kSchemaId) {
    return absl::InvalidArgumentError(
        wire::Cat("paradex sbe: schema id ", out->schema_id, " (expected ", kSchemaId, ")"));
  }
  if (kHeaderSize + out->block_length > frame.size()) {
    return absl::InvalidArgumentError(wire::Cat("paradex sbe: block length ", out->block_length,
                                                " past the end of a ", frame.size(),
                                                "-byte frame"));
  }
  return absl::OkStatus();
}

int64_t LevelGroup::price(size_t i) const {
  return Load<int64_t>(entries_ + i * entry_length_);
}
int64_t LevelGroup::qty(size_t i) const {
  return Load<int64_t>(entries_ + i * entry_length_ + 8);
}

absl::Status Decode(std::string_view frame, const Header& h, TradeEvent* out) {
  PERPGW_RETURN_IF_ERROR(Expect(h, TemplateId::kTrade));
  Reader r(frame, h);
  *out = TradeEvent{};
  out->ts_us = r.I64(0);
  out->seq = r.I64(8);
  out->trade_id = r.I64(16);
  out->side = r.U8(24);
  out->price = r.D(25);
  out->size = r.D(33);
  out->created_at_us = r.I64(41);
  out->trade_type = r.U8(49);
  PERPGW_RETURN_IF_ERROR(r.Market(&out->market));
  if (r.version() >= 2) PERPGW_RETURN_IF_ERROR(r.Var(&out->trade_id_str));
  return absl::OkStatus();
}

absl::Status Decode(std::string_view frame, const Header& h, BboEvent* out) {
  PERPGW_RETURN_IF_ERROR(Expect(h, TemplateId::kBbo));
  Reader r(frame, h);
  *out = BboEvent{};
  out->ts_us = r.I64(0);
  out->seq = r.I64(8);
  out->bid_price = r.D(16);
  out->bid_size = r.D(24);
  out->ask_price = r.D(32);
  out->ask_size = r.D(40);
  return r.Market(&out->market);
}

absl::Status Decode(std::string_view frame, const Header& h, BookEvent* out) {
  PERPGW_RETURN_IF_ERROR(Expect(h, TemplateId::kBook));
  Reader r(frame, h);
  out->ts_us = r.I64(0);
  out->seq = r.I64(8);
  out->pkg_type = r.U8(16);
  out->best_bid_price = r.D(17);
  out->best_bid_size = r.D(25);
  out->best_ask_price = r.D(33);
  out->best_ask_size = r.D(41);
  out->relative_spread = r.D(49);
  out->best_bid_api_price = r.D(57);
  out->best_bid_api_size = r.D(65);
  out->best_ask_api_price = r.D(73);
  out->best_ask_api_size = r.D(81);
  PERPGW_RETURN_IF_ERROR(r.Group(&out->bids));
  PERPGW_RETURN_IF_ERROR(r.Group(&out->asks));
  return r.Market(&out->market);
}

absl::Status Decode(std::string_view frame, const Header& h, MarketSummaryEvent* out) {
  PERPGW_RETURN_IF_ERROR(Expect(h, TemplateId::kMarketSummary));
  Reader r(frame, h);
  *out = MarketSummaryEvent{};
  out->ts_us = r.I64(0);
  out->seq = r.I64(8);
  out->mark_price = r.D(16);
  out->index_price = r.D(24);
  out->last_price = r.D(32);
  out->volume_usd_24h = r.D(40);
  out->open_interest = r.D(48);
  out->funding_rate = r.D(56);
  out->bid = r.D(64);
  out->ask = r.D(72);
  out->total_volume = r.D(80);
  out->price_change_rate_24h = r.D(88);
  out->future_funding_rate = r.D(184);
  out->external_fair_price = r.D(192);
  out->bid_size = r.D(200);
  out->ask_size = r.D(208);
  out->forward_rate = r.D(216);
  out->risk_free_rate = r.D(224);
  out->funding_rate_precise = r.D(232);
  return r.Market(&out->market);
}

absl::Status Decode(std::string_view frame, const Header& h, FundingDataEvent* out) {
  PERPGW_RETURN_IF_ERROR(Expect(h, TemplateId::kFundingData));
  Reader r(frame, h);
  *out = FundingDataEvent{};
  out->ts_us = r.I64(0);
  out->seq = r.I64(8);
  out->funding_rate = r.D(16);
  out->funding_index = r.D(24);
  out->created_at_us = r.I64(32);
  out->funding_premium = r.D(40);
  out->funding_rate_8h = r.D(48);
  out->funding_period_hours = r.I16(56);
  out->impact_premium_rate = r.D(58);
  return r.Market(&out->market);
}

absl::Status Decode(std::string_view frame, const Header& h, FundingRateComparisonEvent* out) {
  PERPGW_RETURN_IF_ERROR(Expect(h, TemplateId::kFundingRateComparison));
  Reader r(frame, h);
  *out = FundingRateComparisonEvent{};
  out->ts_us = r.I64(0);
  out->last_updated_at_us = r.I64(8);
  out->hourly_funding_rate = r.D(16);
  out->asset_kind = r.U8(24);
  out->source = r.U8(25);
  return r.Market(&out->market);
}

absl::Status Decode(std::string_view frame, const Header& h, OrderEvent* out) {
  PERPGW_RETURN_IF_ERROR(Expect(h, TemplateId::kOrder));
  Reader r(frame, h);
  *out = OrderEvent{};
  out->ts_us = r.I64(0);
  out->seq = r.I64(8);
  out->status = r.U8(16);
  out->side = r.U8(17);
  out->order_type = r.U8(18);
  out->time_in_force = r.U8(19);
  out->price = r.D(20);
  out->trigger_price = r.D(28);
  out->size = r.D(36);
  out->size_open = r.D(44);
  out->avg_fill_price = r.D(52);
  out->created_at_us = r.I64(60);
  out->updated_at_us = r.I64(68);
  out->account = r.Bytes(76, 32);
  out->received_at_us = r.I64(108);
  out->published_at_us = r.I64(116);
  out->stp = r.U8(124);
  out->flags = r.U8(125);
  if (r.Has(126, 2)) {
    out->request_status = r.U8(126);
    out->request_type = r.U8(127);
  }
  PERPGW_RETURN_IF_ERROR(r.Var(&out->order_id));
  PERPGW_RETURN_IF_ERROR(r.Var(&out->client_order_id));
  PERPGW_RETURN_IF_ERROR(r.Var(&out->market));
  PERPGW_RETURN_IF_ERROR(r.Var(&out->cancel_reason));
  if (r.version() >= 2) {
    PERPGW_RETURN_IF_ERROR(r.Var(&out->request_id));
    PERPGW_RETURN_IF_ERROR(r.Var(&out->request_message));
  }
  if (out->order_id.empty()) return r.Bad("no order id");
  return absl::OkStatus();
}

absl::Status Decode(std::string_view frame, const Header& h, FillEvent* out) {
  PERPGW_RETURN_IF_ERROR(Expect(h, TemplateId::kFill));
  Reader r(frame, h);
  *out = FillEvent{};
  out->ts_us = r.I64(0);
  out->seq = r.I64(8, kNull);
  out->fill_type = r.U8(16);
  out->side = r.U8(17);
  out->liquidity = r.U8(18);
  out->price = r.D(19);
  out->size = r.D(27);
  out->fee = r.D(35);
  out->realized_pnl = r.D(43);
  out->created_at_us = r.I64(51);
  out->account = r.Bytes(59, 32);
  out->underlying_price = r.D(91);
  out->realized_funding = r.D(99);
  if (r.Has(107, 1)) out->flags = r.U8(107);
  if (r.Has(108, 8)) out->orderbook_seq_no = r.U64(108);
  PERPGW_RETURN_IF_ERROR(r.Var(&out->fill_id));
  PERPGW_RETURN_IF_ERROR(r.Var(&out->order_id));
  PERPGW_RETURN_IF_ERROR(r.Var(&out->client_order_id));
  PERPGW_RETURN_IF_ERROR(r.Var(&out->trade_id));
  PERPGW_RETURN_IF_ERROR(r.Market(&out->market));
  if (r.version() >= 2) PERPGW_RETURN_IF_ERROR(r.Var(&out->fee_currency));
  if (out->fill_id.empty()) return r.Bad("no fill id");
  return absl::OkStatus();
}

absl::Status Decode(std::string_view frame, const Header& h, PositionEvent* out) {
  PERPGW_RETURN_IF_ERROR(Expect(h, TemplateId::kPosition));
  Reader r(frame, h);
  *out = PositionEvent{};
  out->ts_us = r.I64(0);
  out->seq = r.I64(8);
  out->side = r.U8(16);
  out->size = r.D(17);
  out->avg_entry_price = r.D(25);
  out->unrealized_pnl = r.D(33);
  out->realized_pnl = r.D(41);
  out->mark_price = r.D(49);
  out->liquidation_price = r.D(57);
  out->leverage = r.D(65);
  out->updated_at_us = r.I64(73);
  out->account = r.Bytes(81, 32);
  out->avg_entry_price_usd = r.D(113);
  out->cost = r.D(121);
  out->cost_usd = r.D(129);
  out->cached_funding_index = r.D(137);
  out->unrealized_funding_pnl = r.D(145);
  out->status = r.U8(153);
  PERPGW_RETURN_IF_ERROR(r.Market(&out->market));
  return r.Var(&out->last_fill_id);
}

absl::Status Decode(std::string_view frame, const Header& h, AccountEvent* out) {
  PERPGW_RETURN_IF_ERROR(Expect(h, TemplateId::kAccount));
  Reader r(frame, h);
  *out = AccountEvent{};
  out->ts_us = r.I64(0);
  out->seq = r.I64(8);
  out->total_collateral = r.D(16);
  out->free_collateral = r.D(24);
  out->initial_margin_req = r.D(32);
  out->maintenance_margin_req = r.D(40);
  out->account_value = r.D(48);
  out->unrealized_pnl = r.D(56);
  out->updated_at_us = r.I64(64);
  out->account = r.Bytes(72, 32);
  out->margin_cushion = r.D(104);
  out->status = r.U8(112);
  if (r.Has(113, 8)) out->last_seen_notification_us = r.I64(113);
  return r.Var(&out->settlement_asset);
}

absl::Status Decode(std::string_view frame, const Header& h, HeartbeatEvent* out) {
  PERPGW_RETURN_IF_ERROR(Expect(h, TemplateId::kHeartbeat));
  Reader r(frame, h);
  out->ts_us = r.I64(0);
  out->seq = r.I64(8);
  return absl::OkStatus();
}

absl::Status Decode(std::string_view frame, const Header& h, SubscribedEvent* out) {
  PERPGW_RETURN_IF_ERROR(Expect(h, TemplateId::kSubscribed));
  Reader r(frame, h);
  *out = SubscribedEvent{};
  out->ts_us = r.I64(0);
  out->seq = r.I64(8);
  out->status = r.U8(16);
  return r.Var(&out->channel);
}

std::string AccountHex(std::string_view raw32) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "0x";
  bool leading = true;
  for (unsigned char c : raw32) {
    for (int nib : {c >> 4, c & 15}) {
      if (leading && nib == 0) continue;
      leading = false;
      out.push_back(kHex[nib]);
    }
  }
  if (leading) out.push_back('0');
  return out;
}

bool RescaleMantissa(int64_t m8, int scale, int64_t* out) {
  if (scale < kScale8) return false;
  int64_t v = m8;
  for (int i = kScale8; i < scale; ++i) {
    if (__builtin_mul_overflow(v, int64_t{10}, &v)) return false;
  }
  *out = v;
  return true;
}

}  // namespace perpgw::adapters::paradex::sbe
