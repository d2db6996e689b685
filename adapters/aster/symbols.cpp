// Aster symbol normalization: multiplier prefixes, percent-encoding, stream names, lookup maps.
#include "adapters/aster/symbols.h"

#include <algorithm>
#include <iterator>

namespace perpgw::adapters::aster {
namespace {

bool IsAsciiAlpha(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

BaseTicker NormalizeBaseAsset(std::string_view base) {
  // Longest prefix first so "1000000X" is ×1e6, not ×1000 of "000X".
  struct Prefix {
    std::string_view text;
    int64_t multiplier;
  };
  static constexpr Prefix kPrefixes[] = {{"1000000", 1000000}, {"1000", 1000}, {"1M", 1000000}};
  for (const Prefix& p : kPrefixes) {
    if (base.size() > p.text.size() && base.substr(0, p.text.size()) == p.text &&
        IsAsciiAlpha(base.substr(p.text.size()))) {
      return {std::string(base.substr(p.text.size())), p.multiplier};
    }
  }
  return {std::string(base), 1};
}

absl::StatusOr<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return absl::InvalidArgumentError("truncated percent escape");
    int hi = HexVal(s[i + 1]), lo = HexVal(s[i + 2]);
    if (hi < 0 || lo < 0) return absl::InvalidArgumentError("bad percent escape");
    out += static_cast<char>(hi << 4 | lo);
    i += 2;
  }
  return out;
}

std::string StreamSymbol(std::string_view venue_symbol) {
  std::string out(venue_symbol);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void AssignTickers(std::vector<Instrument>* instruments,
                   const std::map<std::string, std::string, std::less<>>& overrides) {
  auto quote_rank = [](const std::string& q) {
    static constexpr std::string_view kPreferred[] = {"USDT", "USD1", "USD", "USDC", "U"};
    for (size_t i = 0; i < std::size(kPreferred); ++i) {
      if (q == kPreferred[i]) return static_cast<int>(i);
    }
    return static_cast<int>(std::size(kPreferred));
  };
  std::vector<size_t> order(instruments->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto& v = *instruments;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Instrument& x = v[a];
    const Instrument& y = v[b];
    if (x.tradeable != y.tradeable) return x.tradeable;
    bool xm = x.quantity_multiplier == 1, ym = y.quantity_multiplier == 1;
    if (xm != ym) return xm;
    int qx = quote_rank(x.quote), qy = quote_rank(y.quote);
    if (qx != qy) return qx < qy;
    if (x.quote != y.quote) return x.quote < y.quote;
    return x.venue_symbol < y.venue_symbol;
  });
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> taken;
  for (Instrument& i : v) {
    auto o = overrides.find(i.venue_symbol);
    if (o != overrides.end()) {
      i.symbol = o->second;
      taken.emplace(i.symbol, 0);
    }
  }
  for (size_t idx : order) {
    Instrument& i = v[idx];
    if (overrides.count(i.venue_symbol)) continue;
    i.symbol.clear();
    BaseTicker bt = NormalizeBaseAsset(i.base);
    std::string candidates[] = {bt.ticker, bt.multiplier != 1 ? i.base : std::string(),
                                bt.ticker + "-" + i.quote, i.venue_symbol};
    for (std::string& c : candidates) {
      if (!c.empty() && !taken.count(c)) {
        i.symbol = std::move(c);
        break;
      }
    }
    if (i.symbol.empty()) i.symbol = i.venue_symbol;  // duplicated venue symbols: keep as-is
    taken.emplace(i.symbol, 0);
  }
}

std::string SymbolMap::ToTicker(std::string_view venue_symbol) const {
  const Instrument* i = ByVenueSymbol(venue_symbol);
  return i ? i->symbol : std::string(venue_symbol);
}

}  // namespace perpgw::adapters::aster
