// Fill history pages (TradingService.ListFills cursor): one sort order on every venue (exchange
// time, then trade id, oldest first) and an opaque cursor after the last row returned. Pure.
//
// The venues answer a time window with at most their page size (1000) of rows, oldest or
// newest first depending on the venue: a window that came back full may be cut at either end.
// The gateway therefore halves such a window until it comes back short of the page size (then
// it holds every row in it), and pages through complete windows only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/types.h"

namespace perpgw::gateway::orders {

struct FillCursor {
  UnixNanos time = 0;
  std::string trade_id;  // rows at `time` with a trade id <= this were returned
};

// "v1:<time_ns>:<hex trade id>"; "" parses to nullopt (no cursor).
std::string FormatCursor(const FillCursor& c);
absl::StatusOr<std::optional<FillCursor>> ParseCursor(const std::string& text);

// Oldest first: exchange time, then trade id.
void SortFills(std::vector<perpgw::Fill>* fills);

struct FillPage {
  std::vector<perpgw::Fill> rows;
  std::string next_cursor;  // "" when the window's rows are exhausted and `complete_to_end`
};
// One page from a complete window's rows (any order): those after `after`, sorted, at most
// `limit`. `window_end` is the window's upper bound; `complete_to_end` says the window reached
// the caller's own upper bound (nothing lies beyond it). When rows remain (in this window or
// beyond it) the page carries a cursor; a page that is empty only because the window was
// shrunk moves the cursor to the window's end.
FillPage PageOf(std::vector<perpgw::Fill> rows, const std::optional<FillCursor>& after, int limit,
                UnixNanos window_end, bool complete_to_end);

}  // namespace perpgw::gateway::orders
