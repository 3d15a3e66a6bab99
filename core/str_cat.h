#pragma once
// str_cat: concatenation for messages (errors, logs). Debian's Abseil is built with its own
// absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), so absl::StrCat does not take a
// std::string_view; this takes std::string_view, strings, chars, integers and doubles.

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace segmentd {
namespace detail {

inline void str_append(std::string& out, std::string_view s) { out.append(s.data(), s.size()); }
inline void str_append(std::string& out, const char* s) { out.append(s); }
inline void str_append(std::string& out, const std::string& s) { out.append(s); }
inline void str_append(std::string& out, char c) { out.push_back(c); }
inline void str_append(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
template <class T>
requires(std::is_arithmetic_v<T> && !std::is_same_v<T, char> &&
         !std::is_same_v<T, bool>) void str_append(std::string& out, T v) {
  char buf[40];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}
inline void str_append(std::string& out, bool b) { out.append(b ? "true" : "false"); }

}  // namespace detail

template <class... Args>
std::string str_cat(const Args&... args) {
  std::string out;
  (detail::str_append(out, args), ...);
  return out;
}

}  // namespace segmentd
