// Paradex SBE encoder (schema id 1): the emulator's binary public frames. Layout from the schema
// (../shared/protocols/paradex-sbe.md §3-§5): little endian, no padding, the root block trimmed
// to the negotiated version, groups with a 16-byte entry, var data as uint8 length + bytes.
#include <cstring>

#include "sim/paradex/internal.h"

namespace perpgw::sim::paradex {
namespace {

class Writer {
 public:
  Writer(uint16_t block_length, uint16_t template_id, int version) {
    U16(block_length);
    U16(template_id);
    U16(kSbeSchemaId);
    U16(static_cast<uint16_t>(version));
  }
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Raw(&v, 2); }
  void I16(int16_t v) { Raw(&v, 2); }
  void I64(int64_t v) { Raw(&v, 8); }
  void Var(std::string_view s) {
    size_t n = s.size() > 255 ? 255 : s.size();
    U8(static_cast<uint8_t>(n));
    out_.append(s.data(), n);
  }
  void Group(const std::vector<SbeLevel>& levels) {
    U16(16);
    U16(static_cast<uint16_t>(levels.size()));
    for (const SbeLevel& l : levels) {
      I64(l.price);
      I64(l.size);
    }
  }
  std::string Take() { return std::move(out_); }

 private:
  void Raw(const void* p, size_t n) {  // host is little endian (static_assert in the decoder)
    out_.append(static_cast<const char*>(p), n);
  }
  std::string out_;
};

int64_t Pow10(int n) {
  int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

}  // namespace

int64_t ToSbe(int64_t mantissa, int scale, int sbe_scale) {
  if (scale == sbe_scale) return mantissa;
  if (scale < sbe_scale) {
    int64_t out = 0;
    if (__builtin_mul_overflow(mantissa, Pow10(sbe_scale - scale), &out)) return kSbeNull;
    return out;
  }
  return mantissa / Pow10(scale - sbe_scale);  // truncation toward zero, as the samples do
}

std::optional<int64_t> SbeFromText(std::string_view t, int sbe_scale) {
  bool neg = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    neg = t[0] == '-';
    t.remove_prefix(1);
  }
  if (t.empty()) return std::nullopt;
  int64_t v = 0;
  int frac = -1;
  for (char c : t) {
    if (c == '.') {
      if (frac >= 0) return std::nullopt;
      frac = 0;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    if (frac >= sbe_scale) continue;  // truncate extra digits
    if (__builtin_mul_overflow(v, int64_t{10}, &v) || __builtin_add_overflow(v, c - '0', &v)) {
      return std::nullopt;
    }
    if (frac >= 0) ++frac;
  }
  int have = frac < 0 ? 0 : frac;
  if (__builtin_mul_overflow(v, Pow10(sbe_scale - have), &v)) return std::nullopt;
  return neg ? -v : v;
}

std::string SbeBook(int version, int64_t ts_us, int64_t seq, bool snapshot,
                    const std::vector<SbeLevel>& bids, const std::vector<SbeLevel>& asks,
                    std::string_view market) {
  Writer w(89, 3, version);
  w.I64(ts_us);
  w.I64(seq);
  w.U8(snapshot ? 0 : 1);
  for (int i = 0; i < 9; ++i) w.I64(kSbeNull);  // interactive/api best prices: not modelled
  w.Group(bids);
  w.Group(asks);
  w.Var(market);
  return w.Take();
}

std::string SbeBbo(int version, int64_t ts_us, int64_t seq, int64_t bid_px, int64_t bid_sz,
                   int64_t ask_px, int64_t ask_sz, std::string_view market) {
  Writer w(48, 2, version);
  w.I64(ts_us);
  w.I64(seq);
  w.I64(bid_px);
  w.I64(bid_sz);
  w.I64(ask_px);
  w.I64(ask_sz);
  w.Var(market);
  return w.Take();
}

std::string SbeTrade(int version, int64_t ts_us, int64_t seq, std::string_view trade_id,
                     uint8_t side, int64_t price, int64_t size, int64_t created_us,
                     uint8_t trade_type, std::string_view market) {
  uint64_t low = 0;  // the decimal id mod 2^64 (unsigned wrap-around)
  for (char c : trade_id) {
    if (c >= '0' && c <= '9') low = low * 10 + static_cast<uint64_t>(c - '0');
  }
  Writer w(50, 1, version);
  w.I64(ts_us);
  w.I64(seq);
  w.I64(static_cast<int64_t>(low));
  w.U8(side);
  w.I64(price);
  w.I64(size);
  w.I64(created_us);
  w.U8(trade_type);
  w.Var(market);
  if (version >= 2) w.Var(trade_id);  // 1:2 in place: the exact id
  return w.Take();
}

std::string SbeMarketSummary(int version, const SbeSummary& s, std::string_view market) {
  Writer w(version >= 1 ? 240 : 216, 4, version);
  for (int64_t v : {s.ts_us, s.seq, s.mark, s.index, s.last, s.volume_24h, s.open_interest,
                    s.funding_rate, s.bid, s.ask, s.total_volume, s.price_change_24h}) {
    w.I64(v);
  }
  for (int i = 0; i < 11; ++i) w.I64(kSbeNull);  // option IVs and greeks (perps: null)
  w.I64(kSbeNull);                               // futureFundingRate
  w.I64(kSbeNull);                               // externalFairPrice
  w.I64(s.bid_size);
  w.I64(s.ask_size);
  if (version >= 1) {
    w.I64(kSbeNull);  // forwardRate
    w.I64(kSbeNull);  // riskFreeRate
    w.I64(s.funding_rate_precise);
  }
  w.Var(market);
  return w.Take();
}

std::string SbeFundingData(int version, const SbeFunding& f, std::string_view market) {
  Writer w(version >= 1 ? 66 : 58, 5, version);
  w.I64(f.ts_us);
  w.I64(f.seq);
  w.I64(f.rate);
  w.I64(f.index);
  w.I64(f.created_us);
  w.I64(f.premium);
  w.I64(f.rate_8h);
  w.I16(f.period_hours);
  if (version >= 1) w.I64(f.impact_premium);
  w.Var(market);
  return w.Take();
}

std::string SbeFundingRateComparison(int version, int64_t ts_us, int64_t last_updated_us,
                                     int64_t hourly_rate12, uint8_t asset_kind, uint8_t source,
                                     std::string_view market) {
  Writer w(26, 6, version);
  w.I64(ts_us);
  w.I64(last_updated_us);
  w.I64(hourly_rate12);
  w.U8(asset_kind);
  w.U8(source);
  w.Var(market);
  return w.Take();
}

std::string SbeHeartbeat(int version, int64_t ts_us, int64_t seq) {
  Writer w(16, 40, version);
  w.I64(ts_us);
  w.I64(seq);
  return w.Take();
}

}  // namespace perpgw::sim::paradex
