// String concatenation for codec messages: strings, string_views, C strings, chars and integers.
// (Debian's abseil is built without std::string_view aliasing, so absl::StrCat cannot take a
// std::string_view; this is the one helper the codecs share instead.)
#pragma once

#include <concepts>
#include <string>
#include <string_view>

namespace perpgw::wire {
namespace detail {
inline void CatOne(std::string* s, std::string_view v) {
  s->append(v);
}
inline void CatOne(std::string* s, const char* v) {
  s->append(v);
}
inline void CatOne(std::string* s, const std::string& v) {
  s->append(v);
}
inline void CatOne(std::string* s, char c) {
  s->push_back(c);
}
template <std::integral T>
requires(!std::same_as<T, char>) inline void CatOne(std::string* s, T v) {
  s->append(std::to_string(v));
}
}  // namespace detail

template <typename... A>
void Append(std::string* s, const A&... a) {
  (detail::CatOne(s, a), ...);
}

template <typename... A>
std::string Cat(const A&... a) {
  std::string s;
  Append(&s, a...);
  return s;
}

}  // namespace perpgw::wire
