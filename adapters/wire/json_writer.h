// The one JSON string escaper for outgoing frames and bodies (pure).
#pragma once

#include <string>
#include <string_view>

namespace perpgw::wire {

// Appends s escaped for use inside a JSON string (no quotes added): " \ and control characters
// are escaped; other bytes (UTF-8) pass through unchanged.
void AppendJsonEscaped(std::string* out, std::string_view s);
// Appends "\"" + escaped + "\"".
void AppendJsonQuoted(std::string* out, std::string_view s);
std::string JsonQuote(std::string_view s);

}  // namespace perpgw::wire
