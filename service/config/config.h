#pragma once
// The service configuration: typed, validated, loaded from one TOML file (config/README.md
// documents every key; config/default.toml is the embedded default).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/account_state.h"
#include "core/clusterer.h"
#include "core/event_time_guard.h"
#include "core/instrument_registry.h"
#include "core/market_regime.h"
#include "core/scenario.h"
#include "service/base/log.h"
#include "service/config/publisher_config.h"
#include "service/config/source_config.h"
#include "service/shards/shard_set.h"

namespace segmentd {

struct LogConfig {
  std::string level = "info";                            //!< trace, debug, info, warn, error
  std::string format = "text";                           //!< text or json
  int rate_limit_burst = 20;                             //!< lines per (component, message) per interval; 0 = unlimited
  std::int64_t rate_limit_interval_ns = 10'000'000'000;  //!< the window of rate_limit_burst
};

//! The logger's options from the [log] section.
LogOptions log_options_from(const LogConfig& config);

//! What a shard does with the fills of a new account once it holds its share of max_accounts.
enum class AccountCapPolicy {
  kRefuse,  //!< the new account is not created: its fills are refused and counted
};

struct ShardsConfig {
  int shards = 2;
  std::size_t ring_capacity = 1 << 16;
  RingFullPolicy full_policy = RingFullPolicy::kBlock;
  //! Accounts the instance holds at most, split evenly over the shards (ceil(max / shards) each,
  //! service/shards/account_shard.h); 0 = no cap.
  std::uint64_t max_accounts = 0;
  AccountCapPolicy on_max_accounts = AccountCapPolicy::kRefuse;
};

struct ReplayConfig {
  std::size_t max_line_bytes = 1 << 16;
};

//! [features]: account state bounds, decay and markouts (core/features.md defines the features).
struct FeaturesConfig {
  FeatureParams params;                          //!< half_life, markout_horizon, bounds
  std::int64_t markout_tick_ns = 1'000'000'000;  //!< markouts resolve at event-time ticks of this
  std::size_t tape_instruments = 1 << 16;        //!< price tape capacity (instrument ids)
  std::size_t tape_underlyings = 1 << 10;        //!< price tape capacity (underlying ids)
};

//! [run]: how `segmentd run` behaves.
struct RunConfig {
  std::int64_t summary_interval_ns = 5'000'000'000;  //!< console summary period; 0 = none
  //! With no [[sources]], `run` serves the built-in venue simulator (sim/) so the
  //! service runs with no external system: its accounts, rate and seed.
  std::uint32_t sim_accounts = 2'000;
  double sim_rate = 5'000;  //!< fills per second, wall clock
  std::uint64_t sim_seed = 7;
  double sim_speedup = 60;  //!< simulated seconds per wall-clock second: segments form in minutes
  //! Scheduled market events of the simulated market (sim/market.h, parse_market_events):
  //! "crash@45m:0.15/5m,vol_spike@2h:3/20m"; "" = none.
  std::string sim_market_events;
};

//! [checkpoint]: durable state (core/checkpoint.md is the format; docs/architecture.md, "Durable state").
struct CheckpointConfig {
  bool enabled = true;
  //! Where checkpoints are written. "" = $STATE_DIRECTORY when set (systemd), else
  //! "segmentd-state" in the working directory. The start-up line names the directory used.
  std::string dir;
  std::int64_t interval_ns = 30'000'000'000;  //!< a checkpoint this often (and on SIGTERM/SIGINT)
  int keep = 3;                               //!< newest files kept; older ones are deleted
  //! What to do when no checkpoint in dir is valid (corrupt, truncated, other version or config):
  //! "refuse" exits 2 naming each file and reason; "start-empty" starts with no state.
  std::string on_invalid = "refuse";
};

//! The directory checkpoints go to: config.dir, else $STATE_DIRECTORY, else "segmentd-state".
std::string checkpoint_directory(const CheckpointConfig& config);

struct Config {
  std::string path;  //!< the file it was read from ("<embedded default>" for the default)
  LogConfig log;
  ShardsConfig shards;
  ReplayConfig replay;
  FeaturesConfig features;
  ClustererConfig clusterer;  //!< [clusterer]: mini-batch k-means, labels, policy, hysteresis
  RunConfig run;              //!< [run]: the live service loop
  std::vector<ContractOverride> contracts;
  //! [spot_pairs.<venue>]: spot pairs named by an index, mapped to their base coin.
  std::vector<SpotPair> spot_pairs = default_spot_pairs();
  std::vector<SourceConfig> sources;  //!< [[sources]]: where fills come from (service/config/source_config.h)
  PublisherConfig publisher;          //!< [publisher]: websocket pub/sub (service/config/publisher_config.h)
  AdminConfig admin;                  //!< [admin]: admin HTTP API
  JetStreamConfig jetstream;          //!< [jetstream]: changes to a NATS JetStream stream (off by default)
  CheckpointConfig checkpoint;        //!< [checkpoint]: durable state
  //! [regime]: the market-stress regime from the sources' index prices (core/market_regime.h).
  bool regime_enabled = true;
  RegimeParams regime;
  //! [risk]: shock scenarios per segment (core/scenario.h).
  ScenarioParams risk;
  EventTimeGuardOptions event_time;  //!< [event_time]: fills too far ahead of their source (core/event_time_guard.h)
};

//! Loads and validates a config file. On error the status message lists every problem, one per
//! line, each as "FILE:LINE: key: reason".
absl::StatusOr<Config> load_config(const std::string& path);
//! Same, from text (tests, the embedded default).
absl::StatusOr<Config> load_config_text(const std::string& text, const std::string& display_name);

}  // namespace segmentd
