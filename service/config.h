#pragma once
// The service configuration: typed, validated, loaded from one TOML file (config/README.md
// documents every key; config/default.toml is the embedded default).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/instrument_registry.h"
#include "service/shard_set.h"

namespace segmentd {

struct LogConfig {
  std::string level = "info";  //!< trace, debug, info, warn, error
  std::string format = "text"; //!< text or json
};

struct ShardsConfig {
  int shards = 2;
  std::size_t ring_capacity = 1 << 16;
  RingFullPolicy full_policy = RingFullPolicy::kBlock;
};

struct ReplayConfig {
  std::size_t max_line_bytes = 1 << 16;
};

struct Config {
  std::string path;  //!< the file it was read from ("<embedded default>" for the default)
  LogConfig log;
  ShardsConfig shards;
  ReplayConfig replay;
  std::vector<ContractOverride> contracts;
};

//! Loads and validates a config file. On error the status message lists every problem, one per
//! line, each as "FILE:LINE: key: reason".
absl::StatusOr<Config> load_config(const std::string& path);
//! Same, from text (tests, the embedded default).
absl::StatusOr<Config> load_config_text(const std::string& text, const std::string& display_name);

}  // namespace segmentd
