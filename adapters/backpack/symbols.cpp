// Backpack symbol rules and the uint32 clientId mapper (see symbols.h for the scheme).
#include "adapters/backpack/symbols.h"

#include <utility>

namespace perpgw::adapters::backpack {
namespace {

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

absl::StatusOr<SymbolParts> SplitVenueSymbol(std::string_view venue_symbol) {
  SymbolParts parts;
  std::string_view s = venue_symbol;
  if (EndsWith(s, kPerpSuffix)) {
    parts.perp = true;
    s.remove_suffix(kPerpSuffix.size());
  }
  size_t us = s.rfind('_');
  if (us == std::string_view::npos || us == 0 || us + 1 == s.size()) {
    return absl::InvalidArgumentError("backpack: malformed symbol '" + std::string(venue_symbol) +
                                      "'");
  }
  parts.base = std::string(s.substr(0, us));
  parts.quote = std::string(s.substr(us + 1));
  return parts;
}

bool IsUsdcPerpSymbol(std::string_view venue_symbol) {
  auto parts = SplitVenueSymbol(venue_symbol);
  return parts.ok() && parts->perp && parts->quote == kQuoteAsset;
}

std::string PerpSymbolForBase(std::string_view venue_base) {
  std::string out(venue_base);
  out += '_';
  out += kQuoteAsset;
  out += kPerpSuffix;
  return out;
}

TickerInfo NormalizeBase(std::string_view base) {
  TickerInfo info{std::string(base), 1};
  // "kPEPE": lower-case k then an upper-case letter.
  if (base.size() >= 2 && base[0] == 'k' && IsUpper(base[1])) {
    return {std::string(base.substr(1)), 1000};
  }
  // "1MBABYDOGE": 1M then an upper-case letter (and something after it, so "1M" alone stays).
  if (base.size() >= 3 && base[0] == '1' && base[1] == 'M' && IsUpper(base[2])) {
    return {std::string(base.substr(2)), 1'000'000};
  }
  // "1000BONK" / "1000000MOG": '1' + at least three zeros, then a non-digit.
  if (base.size() >= 5 && base[0] == '1') {
    size_t i = 1;
    while (i < base.size() && base[i] == '0') ++i;
    size_t zeros = i - 1;
    if (zeros >= 3 && zeros <= 18 && i < base.size() && !IsDigit(base[i])) {
      int64_t mult = 1;
      for (size_t z = 0; z < zeros; ++z) mult *= 10;
      return {std::string(base.substr(i)), mult};
    }
  }
  return info;
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

// ---------------------------------------------------------------------------------------------
// ClientIdMapper

std::optional<uint32_t> ClientIdMapper::ParseCanonicalUint32(std::string_view text) {
  if (text.empty() || text.size() > 10 || text[0] == '0') return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0 || v > 0xFFFFFFFFull) return std::nullopt;
  return static_cast<uint32_t>(v);
}

uint32_t ClientIdMapper::Candidate(std::string_view id, uint32_t attempt) {
  // FNV-1a 32-bit; the attempt counter is mixed in as 4 trailing bytes.
  uint32_t h = 2166136261u;
  auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 16777619u;
  };
  for (char c : id) mix(static_cast<uint8_t>(c));
  for (int i = 0; i < 4; ++i) mix(static_cast<uint8_t>(attempt >> (8 * i)));
  return h == 0 ? 1u : h;
}

absl::StatusOr<uint32_t> ClientIdMapper::Assign(std::string_view client_order_id) {
  if (client_order_id.empty()) {
    return absl::InvalidArgumentError("backpack: empty client order id");
  }
  std::string key(client_order_id);
  if (auto it = by_string_.find(key); it != by_string_.end()) return it->second;
  if (by_string_.size() >= max_entries_) {
    return absl::ResourceExhaustedError("backpack: client id map is full (" +
                                        std::to_string(max_entries_) + " live ids)");
  }
  auto take = [&](uint32_t id) {
    by_string_.emplace(key, id);
    by_id_.emplace(id, key);
    return id;
  };
  if (auto numeric = ParseCanonicalUint32(client_order_id); numeric && !by_id_.count(*numeric)) {
    return take(*numeric);
  }
  constexpr uint32_t kHashAttempts = 64;
  uint32_t cand = 1;
  for (uint32_t k = 0; k < kHashAttempts; ++k) {
    cand = Candidate(client_order_id, k);
    if (!by_id_.count(cand)) return take(cand);
    ++collisions_;
  }
  // Linear probe over the whole uint32 space (never reached unless the map is nearly full).
  for (uint64_t n = 0; n < 0xFFFFFFFFull; ++n) {
    cand = cand == 0xFFFFFFFFu ? 1u : cand + 1;
    if (!by_id_.count(cand)) return take(cand);
  }
  return absl::ResourceExhaustedError("backpack: no free clientId");
}

absl::Status ClientIdMapper::Restore(std::string_view client_order_id, uint32_t venue_id) {
  if (client_order_id.empty() || venue_id == 0) {
    return absl::InvalidArgumentError("backpack: restore needs a non-empty id and clientId > 0");
  }
  std::string key(client_order_id);
  auto s = by_string_.find(key);
  auto i = by_id_.find(venue_id);
  if (s != by_string_.end() && s->second == venue_id) return absl::OkStatus();
  if (s != by_string_.end() || i != by_id_.end()) {
    return absl::AlreadyExistsError("backpack: clientId mapping conflict for '" + key + "' / " +
                                    std::to_string(venue_id));
  }
  by_string_.emplace(key, venue_id);
  by_id_.emplace(venue_id, std::move(key));
  return absl::OkStatus();
}

std::optional<uint32_t> ClientIdMapper::Find(std::string_view client_order_id) const {
  auto it = by_string_.find(std::string(client_order_id));
  if (it == by_string_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> ClientIdMapper::Resolve(uint32_t venue_id) const {
  auto it = by_id_.find(venue_id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::string ClientIdMapper::ResolveOrDecimal(uint32_t venue_id) const {
  if (auto s = Resolve(venue_id)) return *s;
  return std::to_string(venue_id);
}

void ClientIdMapper::Release(std::string_view client_order_id) {
  auto it = by_string_.find(std::string(client_order_id));
  if (it == by_string_.end()) return;
  by_id_.erase(it->second);
  by_string_.erase(it);
}

}  // namespace perpgw::adapters::backpack
