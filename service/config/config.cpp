#include "service/config/config.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "absl/strings/str_join.h"
#include "core/str_cat.h"
#include "service/config/clusterer_config.h"
#include "service/config/config_reader.h"
#include "service/config/source_config.h"
#include "sim/market.h"

namespace segmentd {

LogOptions log_options_from(const LogConfig& config) {
  LogOptions o;
  o.level = parse_log_level(config.level).value_or(LogLevel::kInfo);
  o.format = config.format == "json" ? LogFormat::kJson : LogFormat::kText;
  o.rate_limit_burst = config.rate_limit_burst;
  o.rate_limit_interval_ns = config.rate_limit_interval_ns;
  return o;
}

std::string checkpoint_directory(const CheckpointConfig& config) {
  if (!config.dir.empty()) return config.dir;
  if (const char* env = std::getenv("STATE_DIRECTORY"); env != nullptr && *env != '\0') {
    std::string_view v(env);
    return std::string(v.substr(0, v.find(':')));  // systemd lists several, colon-separated
  }
  return "segmentd-state";
}

namespace {

void read_log(ConfigSection s, LogConfig* c) {
  s.choice("level", &c->level, {"trace", "debug", "info", "warn", "error"});
  s.choice("format", &c->format, {"text", "json"});
  s.integer("rate_limit_burst", &c->rate_limit_burst, 0, 1'000'000);
  s.duration_ns("rate_limit_interval", &c->rate_limit_interval_ns, 1'000'000, 86400LL * 1'000'000'000);
}

void read_shards(ConfigSection s, ShardsConfig* c) {
  s.integer("count", &c->shards, 1, 256);
  std::int64_t cap = static_cast<std::int64_t>(c->ring_capacity);
  s.integer("ring_capacity", &cap, 1024, 1LL << 24);
  c->ring_capacity = static_cast<std::size_t>(cap);
  std::string policy = c->full_policy == RingFullPolicy::kBlock ? "block" : "fail";
  s.choice("ring_full_policy", &policy, {"block", "fail"});
  c->full_policy = policy == "block" ? RingFullPolicy::kBlock : RingFullPolicy::kFail;
  auto max_accounts = static_cast<std::int64_t>(c->max_accounts);
  s.integer("max_accounts", &max_accounts, 0, std::int64_t{UINT32_MAX} - 1);  // slots are 32-bit
  c->max_accounts = static_cast<std::uint64_t>(max_accounts);
  std::string on_max = "refuse";
  s.choice("on_max_accounts", &on_max, {"refuse"});
  c->on_max_accounts = AccountCapPolicy::kRefuse;
}

void read_replay(ConfigSection s, ReplayConfig* c) {
  std::int64_t max = static_cast<std::int64_t>(c->max_line_bytes);
  s.integer("max_line_bytes", &max, 256, 1LL << 26);
  c->max_line_bytes = static_cast<std::size_t>(max);
}

void read_event_time(ConfigSection s, EventTimeGuardOptions* c) {
  s.duration_ns("max_ahead", &c->max_ahead_ns, 1'000'000'000, 365LL * 86400 * 1'000'000'000);
  std::int64_t confirm = c->jump_confirm;
  s.integer("jump_confirm", &confirm, 1, 1'000'000);
  c->jump_confirm = static_cast<std::uint32_t>(confirm);
}

void read_run(ConfigSection s, RunConfig* c) {
  s.duration_ns("summary_interval", &c->summary_interval_ns, 0, 86400LL * 1'000'000'000);
  std::int64_t accounts = c->sim_accounts;
  s.integer("sim_accounts", &accounts, 1, 1'000'000);
  c->sim_accounts = static_cast<std::uint32_t>(accounts);
  s.number("sim_rate", &c->sim_rate, 0.1, 10'000'000);
  std::int64_t seed = static_cast<std::int64_t>(c->sim_seed);
  s.integer("sim_seed", &seed, 0, INT64_MAX);
  c->sim_seed = static_cast<std::uint64_t>(seed);
  s.number("sim_speedup", &c->sim_speedup, 0.001, 1e6);
  s.string("sim_market_events", &c->sim_market_events);
  if (auto events = fillsim::parse_market_events(c->sim_market_events); !events.ok())
    s.error("sim_market_events", std::string(events.status().message()));
}

void read_features(ConfigSection s, FeaturesConfig* c) {
  FeatureParams& p = c->params;
  constexpr std::int64_t kSecond = 1'000'000'000;
  s.duration_ns("half_life", &p.half_life_ns, kSecond, 365LL * 86400 * kSecond);
  s.duration_ns("slow_half_life", &p.slow_half_life_ns, kSecond, 3650LL * 86400 * kSecond);
  // [features.fast_weight]: what the model sees of each feature, w·fast + (1 − w)·slow; "all"
  // first, then a feature by name.
  if (const toml::table* w = s.table("fast_weight")) {
    ConfigSection ws(w, "features.fast_weight", s.errors());
    double all = 1.0;
    ws.number("all", &all, 0, 1);
    p.fast_weight = filled_feature_weights(all);
    for (int i = 0; i < kFeatureCount; ++i) ws.number(kFeatureNames[i], &p.fast_weight[i], 0, 1);
  }
  s.duration_ns("markout_horizon", &p.markout_horizon_ns, 1'000'000, 86400 * kSecond);
  s.duration_ns("markout_coalesce", &p.markout_coalesce_ns, 0, 86400 * kSecond);
  s.duration_ns("markout_tick", &c->markout_tick_ns, 1'000'000, 86400 * kSecond);
  s.integer("max_positions", &p.max_positions, 1, kMaxPositionsLimit);
  s.integer("markout_slots", &p.markout_slots, 1, kMarkoutSlotsLimit);
  s.integer("overflow_blocks", &p.overflow_blocks, 0, 1 << 24);
  s.number("min_mean_gross_usd", &p.min_mean_gross_usd, 1e-9, 1e12);
  std::int64_t instruments = static_cast<std::int64_t>(c->tape_instruments);
  s.integer("tape_instruments", &instruments, 16, 1LL << 24);
  c->tape_instruments = static_cast<std::size_t>(instruments);
  std::int64_t underlyings = static_cast<std::int64_t>(c->tape_underlyings);
  s.integer("tape_underlyings", &underlyings, 16, 1LL << 16);
  c->tape_underlyings = static_cast<std::size_t>(underlyings);
  if (p.slow_half_life_ns < p.half_life_ns) s.error("slow_half_life", "must not be shorter than half_life");
  if (p.markout_coalesce_ns > p.markout_horizon_ns) s.error("markout_coalesce", "must not exceed markout_horizon");
  if (c->markout_tick_ns > p.markout_horizon_ns) s.error("markout_tick", "must not exceed markout_horizon");
}

void read_checkpoint(ConfigSection s, CheckpointConfig* c) {
  s.boolean("enabled", &c->enabled);
  s.string("dir", &c->dir);
  s.duration_ns("interval", &c->interval_ns, 1'000'000, 86400LL * 1'000'000'000);
  s.integer("keep", &c->keep, 1, 1000);
  s.choice("on_invalid", &c->on_invalid, {"refuse", "start-empty"});
}

void read_regime(ConfigSection s, bool* enabled, RegimeParams* r) {
  constexpr std::int64_t kSec = 1'000'000'000;
  s.boolean("enabled", enabled);
  s.duration_ns("sample", &r->sample_ns, 1'000'000, 3600 * kSec);
  s.duration_ns("fast_half_life", &r->fast_half_life_ns, kSec, 30LL * 86400 * kSec);
  s.duration_ns("slow_half_life", &r->slow_half_life_ns, kSec, 365LL * 86400 * kSec);
  s.duration_ns("warmup", &r->warmup_ns, 0, 30LL * 86400 * kSec);
  s.duration_ns("drawdown_window", &r->drawdown_window_ns, kSec, 30LL * 86400 * kSec);
  s.number("stressed_ratio", &r->stressed_ratio, 1.0, 1000.0);
  s.number("extreme_ratio", &r->extreme_ratio, 1.0, 1000.0);
  s.number("stressed_drawdown", &r->stressed_drawdown, 1e-6, 0.99);
  s.number("extreme_drawdown", &r->extreme_drawdown, 1e-6, 0.99);
  s.number("max_jump", &r->max_jump, 0.001, 10.0);
  s.number("exit_fraction", &r->exit_fraction, 0.01, 1.0);
  s.duration_ns("min_dwell", &r->min_dwell_ns, 0, 30LL * 86400 * kSec);
  if (r->fast_half_life_ns >= r->slow_half_life_ns) s.error("fast_half_life", "must be shorter than slow_half_life");
  if (r->extreme_ratio < r->stressed_ratio) s.error("extreme_ratio", "must be at least stressed_ratio");
  if (r->extreme_drawdown < r->stressed_drawdown) s.error("extreme_drawdown", "must be at least stressed_drawdown");
}

void read_risk(ConfigSection s, ScenarioParams* r) {
  s.numbers("price_moves", &r->price_moves, -0.99, 10.0, 16);
  s.numbers("vol_shifts", &r->vol_shifts, -500.0, 500.0, 16);
  s.number("base_margin_rate", &r->base_margin_rate, 0.0, 10.0);
  s.number("default_vol", &r->default_vol, 0.001, 20.0);
  s.number("min_vol", &r->min_vol, 0.0001, 1.0);
  s.duration_ns("publish_interval", &r->publish_interval_ns, 0, 86400LL * 1'000'000'000);
  if (r->publish_interval_ns > 0 && r->publish_interval_ns < 1'000'000'000)
    s.error("publish_interval", "must be 0 (off) or at least 1s (each publication scans every account)");
  s.duration_ns("exposure_interval", &r->exposure_interval_ns, 0, 86400LL * 1'000'000'000);
  if (r->exposure_interval_ns > 0 && r->exposure_interval_ns < 1'000'000'000)
    s.error("exposure_interval", "must be 0 (on demand only) or at least 1s (each scan reads every account)");
  if (std::find(r->price_moves.begin(), r->price_moves.end(), 0.0) != r->price_moves.end())
    s.error("price_moves", "must not hold 0 (the grid adds the unshocked price itself)");
  if (std::find(r->vol_shifts.begin(), r->vol_shifts.end(), 0.0) != r->vol_shifts.end())
    s.error("vol_shifts", "must not hold 0 (the grid adds the unshifted vol itself)");
}

void read_contracts(ConfigSection& root, std::vector<ContractOverride>* out) {
  for (const toml::table* t : root.tables("contracts")) {
    ConfigSection s(t, "contracts[]", root.errors());
    ContractOverride o;
    std::string venue = "native";
    s.choice("venue", &venue, {"native", "deribit", "binance", "okx", "bybit", "hyperliquid"});
    o.venue = parse_venue(venue).value_or(Venue::kNative);
    s.string("symbol_prefix", &o.symbol_prefix, false);
    if (!s.has("symbol_prefix")) s.error("symbol_prefix", "is required");
    s.number("contract_value", &o.contract_value, 1e-12, 1e12);
    s.boolean("inverse", &o.inverse);
    out->push_back(std::move(o));
  }
}

//! [spot_pairs.<venue>]: "<symbol>" = "<base coin>", merged over default_spot_pairs() (an entry
//! for a symbol the defaults name replaces it).
void read_spot_pairs(ConfigSection& root, std::vector<SpotPair>* out) {
  const toml::table* t = root.table("spot_pairs");
  if (t == nullptr) return;
  ConfigSection venues(t, "spot_pairs", root.errors());
  for (const auto& [venue_key, node] : *t) {
    const std::string venue_name(venue_key.str());
    const std::optional<Venue> venue = parse_venue(venue_name);
    const toml::table* pairs = venues.table(venue_name);
    if (!venue || *venue == Venue::kNative) {
      venues.error(venue_name, "is not a venue (deribit, binance, okx, bybit, hyperliquid)");
      continue;
    }
    if (pairs == nullptr) continue;  // venues.table() named the wrong type
    ConfigSection s(pairs, "spot_pairs." + venue_name, root.errors());
    for (const auto& [symbol_key, value] : *pairs) {
      const std::string symbol(symbol_key.str());
      std::string base;
      s.string(symbol, &base, false);
      if (base.empty()) continue;
      auto same = [&](const SpotPair& p) { return p.venue == *venue && p.symbol == symbol; };
      out->erase(std::remove_if(out->begin(), out->end(), same), out->end());
      out->push_back(SpotPair{*venue, symbol, base});
    }
  }
}

absl::StatusOr<Config> from_table(const toml::table& root_table, const std::string& name) {
  ConfigErrors errors(name);
  Config config;
  config.path = name;
  {
    ConfigSection root(&root_table, "", &errors);
    read_log(ConfigSection(root.table("log"), "log", &errors), &config.log);
    read_shards(ConfigSection(root.table("shards"), "shards", &errors), &config.shards);
    read_replay(ConfigSection(root.table("replay"), "replay", &errors), &config.replay);
    read_features(ConfigSection(root.table("features"), "features", &errors), &config.features);
    read_contracts(root, &config.contracts);
    read_spot_pairs(root, &config.spot_pairs);
    read_sources(root, &config.sources);
    read_clusterer(root, &config.clusterer);
    read_run(ConfigSection(root.table("run"), "run", &errors), &config.run);
    read_checkpoint(ConfigSection(root.table("checkpoint"), "checkpoint", &errors), &config.checkpoint);
    read_event_time(ConfigSection(root.table("event_time"), "event_time", &errors), &config.event_time);
    read_regime(ConfigSection(root.table("regime"), "regime", &errors), &config.regime_enabled, &config.regime);
    read_risk(ConfigSection(root.table("risk"), "risk", &errors), &config.risk);
    for (SourceConfig& source : config.sources) source.event_time = config.event_time;
    {
      ConfigSection publisher(root.table("publisher"), "publisher", &errors);
      read_publisher_config(publisher, &config.publisher);
      ConfigSection admin(root.table("admin"), "admin", &errors);
      read_admin_config(admin, &config.admin);
      ConfigSection jetstream(root.table("jetstream"), "jetstream", &errors);
      read_jetstream_config(jetstream, &config.jetstream);
    }
  }  // sections report unknown keys as they close
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors.messages(), "\n"));
  return config;
}

}  // namespace

absl::StatusOr<Config> load_config_text(const std::string& text, const std::string& display_name) {
  toml::table table;
  try {
    table = toml::parse(text, display_name);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(str_cat(display_name, ":", e.source().begin.line, ": ", e.description()));
  }
  return from_table(table, display_name);
}

absl::StatusOr<Config> load_config(const std::string& path) {
  // toml++ reads a directory as an empty file, which would validate as the defaults.
  if (auto problem = file_problem(path)) return absl::InvalidArgumentError(str_cat(path, ": ", *problem));
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0) return absl::InvalidArgumentError(str_cat(path, ": ", e.description()));
    return absl::InvalidArgumentError(str_cat(path, ":", e.source().begin.line, ": ", e.description()));
  }
  return from_table(table, path);
}

}  // namespace segmentd
