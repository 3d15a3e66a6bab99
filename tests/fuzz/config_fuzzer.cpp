// libFuzzer target for the config loader: load_config_text (service/config/config.h), which
// `segmentd --config` and check-config run on the operator's TOML through the same from_table().
// A malformed or out-of-range config must come back as an error, never a crash, an exception or
// a sanitizer report; the error starts with the file name ("FILE:LINE: key: reason"); a
// config that loads keeps the ranges config/README.md documents for the keys checked here.
//
// Paths in the input (tokens_file, tls_cert, replay files...) are only checked for being
// readable, which the loader does for real: a seed names no file, and the fuzzer rarely makes
// up one that exists.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "service/config/config.h"

namespace {

using namespace segmentd;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr std::string_view kName = "fuzz.toml";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<Config> config = load_config_text(text, std::string(kName));
  if (!config.ok()) {
    require(config.status().code() == absl::StatusCode::kInvalidArgument);
    const std::string_view message(config.status().message().data(), config.status().message().size());
    require(!message.empty());
    // Lines are not checked one by one: a quoted TOML key may itself hold a newline.
    require(message.starts_with(kName));
    return 0;
  }
  const Config& c = *config;
  require(c.path == kName);
  require(c.shards.shards >= 1 && c.shards.shards <= 256);
  require(c.shards.ring_capacity >= 1024 && c.shards.ring_capacity <= (std::size_t{1} << 24));
  require(c.replay.max_line_bytes >= 256 && c.replay.max_line_bytes <= (std::size_t{1} << 26));
  require(c.log.level == "trace" || c.log.level == "debug" || c.log.level == "info" || c.log.level == "warn" ||
          c.log.level == "error");
  require(c.log.format == "text" || c.log.format == "json");
  require(c.log.rate_limit_burst >= 0 && c.log.rate_limit_interval_ns >= 1'000'000);
  require(c.checkpoint.on_invalid == "refuse" || c.checkpoint.on_invalid == "start-empty");
  std::set<std::string> names;
  for (const SourceConfig& s : c.sources) {
    require(!s.name.empty());
    require(names.insert(s.name).second);  // source names are unique (config/README.md)
  }
  return 0;
}
