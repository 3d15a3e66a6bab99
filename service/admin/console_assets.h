#pragma once
// The console's files (service/admin/console/), compiled into the binary by
// service/admin/embed_console.cmake.

#include <span>
#include <string_view>

namespace segmentd {

struct ConsoleAsset {
  std::string_view name;          //!< file name, e.g. "console.js"
  std::string_view content_type;  //!< e.g. "text/javascript; charset=utf-8"
  std::string_view body;
};

std::span<const ConsoleAsset> console_assets();

inline const ConsoleAsset* find_console_asset(std::string_view name) {
  for (const ConsoleAsset& a : console_assets())
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace segmentd
