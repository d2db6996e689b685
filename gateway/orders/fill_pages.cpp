#include "gateway/orders/fill_pages.h"

#include <algorithm>
#include <charconv>
#include <tuple>

namespace perpgw::gateway::orders {
namespace {
constexpr char kHex[] = "0123456789abcdef";
// Above every trade id's bytes: "everything at this time was returned".
const std::string kAll = "\x7f";
}  // namespace

std::string FormatCursor(const FillCursor& c) {
  std::string out = "v1:" + std::to_string(c.time) + ":";
  for (unsigned char ch : c.trade_id) {
    out += kHex[ch >> 4];
    out += kHex[ch & 15];
  }
  return out;
}

absl::StatusOr<std::optional<FillCursor>> ParseCursor(const std::string& text) {
  if (text.empty()) return std::optional<FillCursor>();
  auto bad = [] {
    return absl::InvalidArgumentError("cursor: not a cursor this gateway returned");
  };
  if (text.rfind("v1:", 0) != 0) return bad();
  const auto colon = text.find(':', 3);
  if (colon == std::string::npos) return bad();
  FillCursor c;
  const char* b = text.data() + 3;
  const char* e = text.data() + colon;
  auto [p, ec] = std::from_chars(b, e, c.time);
  if (ec != std::errc() || p != e || c.time < 0) return bad();
  const std::string hex = text.substr(colon + 1);
  if (hex.size() % 2 != 0 || hex.size() > 256) return bad();
  auto nibble = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return bad();
    c.trade_id += static_cast<char>(hi * 16 + lo);
  }
  return std::optional<FillCursor>(std::move(c));
}

void SortFills(std::vector<perpgw::Fill>* fills) {
  std::stable_sort(fills->begin(), fills->end(), [](const perpgw::Fill& x, const perpgw::Fill& y) {
    return std::tie(x.exchange_time, x.trade_id) < std::tie(y.exchange_time, y.trade_id);
  });
}

FillPage PageOf(std::vector<perpgw::Fill> rows, const std::optional<FillCursor>& after, int limit,
                UnixNanos window_end, bool complete_to_end) {
  SortFills(&rows);
  if (after) {
    rows.erase(std::remove_if(rows.begin(), rows.end(),
                              [&](const perpgw::Fill& f) {
                                return std::tie(f.exchange_time, f.trade_id) <=
                                       std::tie(after->time, after->trade_id);
                              }),
               rows.end());
  }
  FillPage page;
  const bool more_here = rows.size() > static_cast<size_t>(limit);
  if (more_here) rows.resize(static_cast<size_t>(limit));
  page.rows = std::move(rows);
  if (more_here) {
    page.next_cursor = FormatCursor({page.rows.back().exchange_time, page.rows.back().trade_id});
  } else if (!complete_to_end) {
    // This window is exhausted; the next page starts after it.
    page.next_cursor = FormatCursor({window_end, kAll});
  }
  return page;
}

}  // namespace perpgw::gateway::orders
