// gateway/orders/fill_pages: the ListFills cursor (issue 19).
#include "gateway/orders/fill_pages.h"

#include <catch2/catch.hpp>

using namespace perpgw;
using namespace perpgw::gateway::orders;

namespace {
Fill F(UnixNanos t, std::string id) {
  Fill f;
  f.exchange_time = t;
  f.trade_id = std::move(id);
  return f;
}
}  // namespace

TEST_CASE("fill cursors round-trip and refuse what this gateway did not make", "[fills]") {
  auto none = ParseCursor("");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  FillCursor c{1700000000123000000, "9f:x\x7f"};
  auto back = ParseCursor(FormatCursor(c));
  REQUIRE(back.ok());
  REQUIRE(back->has_value());
  CHECK((*back)->time == c.time);
  CHECK((*back)->trade_id == c.trade_id);
  for (const char* bad : {"x", "v1:", "v1:12", "v1:-5:", "v1:12:zz", "v1:12:abc", "v2:1:"}) {
    INFO(bad);
    CHECK_FALSE(ParseCursor(bad).ok());
  }
}

TEST_CASE("pages walk a window oldest first, each row once", "[fills]") {
  // Rows in any order (venues answer newest first too), two at the same time.
  std::vector<Fill> rows = {F(30, "c"), F(10, "a"), F(20, "b2"), F(20, "b1"), F(40, "d")};
  std::vector<std::string> seen;
  std::optional<FillCursor> after;
  for (int pages = 0; pages < 10; ++pages) {
    FillPage p = PageOf(rows, after, 2, /*window_end=*/50, /*complete_to_end=*/true);
    for (const auto& f : p.rows) seen.push_back(f.trade_id);
    if (p.next_cursor.empty()) break;
    auto c = ParseCursor(p.next_cursor);
    REQUIRE(c.ok());
    after = *c;
  }
  CHECK(seen == std::vector<std::string>{"a", "b1", "b2", "c", "d"});

  // A window that is not the range's end hands a cursor past itself, even when empty.
  FillPage tail = PageOf(rows, FillCursor{40, "d"}, 2, 50, /*complete_to_end=*/false);
  CHECK(tail.rows.empty());
  auto next = ParseCursor(tail.next_cursor);
  REQUIRE(next.ok());
  REQUIRE(next->has_value());
  CHECK((*next)->time == 50);
  // ... and rows at the window's end are behind that cursor.
  FillPage after_end = PageOf({F(50, "e"), F(51, "f")}, *next, 5, 60, true);
  REQUIRE(after_end.rows.size() == 1);
  CHECK(after_end.rows[0].trade_id == "f");
  CHECK(after_end.next_cursor.empty());
}
