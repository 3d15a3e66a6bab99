#pragma once
// The config fingerprint of a checkpoint (core/checkpoint.md): a hash of the keys that change what
// the saved state means. A checkpoint written under another fingerprint is refused ("config
// changed") rather than continued with numbers that mean something else.
//
// In it: the feature set (count and names), every half-life ([features] half_life and
// slow_half_life, [clusterer] half_life and scaler_half_life), [features.fast_weight] (what the
// model's vectors are made of), the markout horizon, coalescing and tick, the per-account bounds
// (max_positions, markout_slots: the record layout), min_mean_gross_usd, k, the feature weights,
// min_stddev, the vote horizon, the sample size and the clusterer seed.
// Not in it (safe to change across a restart): sources, shard count, ports, tokens, log, label
// rules, policies, hysteresis, batch closing, publish and quality intervals, [event_time] (it
// decides which fills are accepted from now on, not what the saved ones mean).

#include <cstdint>

#include "service/config/config.h"

namespace segmentd {

std::uint64_t config_fingerprint(const Config& config);
//! What the same config hashed to before the slow clock (its files' records have one clock and
//! are converted on load: core/checkpoint.md, "One-clock records"), or 0 when such a file cannot
//! continue under this config: its model saw the fast clock, so [features.fast_weight] must
//! leave the model on the fast clock.
std::uint64_t config_fingerprint_one_clock(const Config& config);

}  // namespace segmentd
