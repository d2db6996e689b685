// Paradex symbol rules (see symbols.h).
#include "adapters/paradex/symbols.h"

namespace perpgw::adapters::paradex {
namespace {

bool IsUpper(char c) {
  return c >= 'A' && c <= 'Z';
}

}  // namespace

absl::StatusOr<SymbolParts> SplitVenueSymbol(std::string_view venue_symbol) {
  SymbolParts parts;
  size_t d1 = venue_symbol.find('-');
  if (d1 == std::string_view::npos || d1 == 0) {
    return absl::InvalidArgumentError("paradex: malformed market '" +
                                      std::string(venue_symbol.substr(0, 64)) + "'");
  }
  parts.base = std::string(venue_symbol.substr(0, d1));
  std::string_view rest = venue_symbol.substr(d1 + 1);
  size_t d2 = rest.find('-');
  parts.quote = std::string(rest.substr(0, d2));
  if (parts.quote.empty()) {
    return absl::InvalidArgumentError("paradex: malformed market '" +
                                      std::string(venue_symbol.substr(0, 64)) + "'");
  }
  parts.perp = d2 != std::string_view::npos && rest.substr(d2) == kPerpSuffix;
  return parts;
}

std::string PerpSymbolForBase(std::string_view venue_base) {
  std::string out(venue_base);
  out += '-';
  out += kQuoteAsset;
  out += kPerpSuffix;
  return out;
}

TickerInfo NormalizeBase(std::string_view base) {
  if (base.size() >= 2 && IsUpper(base[1])) {
    if (base[0] == 'k') return {std::string(base.substr(1)), 1000};
    if (base[0] == 'm') return {std::string(base.substr(1)), 1'000'000};
  }
  return {std::string(base), 1};
}

std::string SymbolTable::TickerFor(std::string_view venue_symbol) const {
  if (const Instrument* i = ByVenueSymbol(venue_symbol)) return i->symbol;
  auto parts = SplitVenueSymbol(venue_symbol);
  if (!parts.ok()) return std::string(venue_symbol);
  return NormalizeBase(parts->base).ticker;
}

std::string SymbolTable::VenueSymbolFor(std::string_view ticker) const {
  if (const Instrument* i = ByTicker(ticker)) return i->venue_symbol;
  return PerpSymbolForBase(ticker);
}

}  // namespace perpgw::adapters::paradex
