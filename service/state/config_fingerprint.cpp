#include "service/state/config_fingerprint.h"

#include "core/checkpoint_io.h"
#include "core/feature_vector.h"

namespace segmentd {

namespace {

//! two_clocks = false: the keys as they were before the slow clock (checkpoints whose records
//! have one clock).
std::uint64_t fingerprint_of(const Config& config, bool two_clocks) {
  Fingerprint f;
  f.add("segmentd-state-v1");
  f.add_pod(kFeatureCount);
  for (std::string_view name : kFeatureNames) {
    f.add(name);
    f.add(",");
  }
  const FeatureParams& p = config.features.params;
  f.add_pod(p.half_life_ns);
  if (two_clocks) {
    f.add_pod(p.slow_half_life_ns);
    f.add_pod(p.fast_weight);
  }
  f.add_pod(p.markout_horizon_ns);
  f.add_pod(p.markout_coalesce_ns);
  f.add_pod(p.max_positions);
  f.add_pod(p.markout_slots);
  f.add_pod(p.min_mean_gross_usd);
  f.add_pod(config.features.markout_tick_ns);
  const ClustererConfig& c = config.clusterer;
  f.add_pod(c.k);
  f.add_pod(c.half_life_ns);
  f.add_pod(c.scaler_half_life_ns);
  f.add_pod(c.feature_weights);
  f.add_pod(c.min_stddev);
  f.add_pod(c.vote_horizon_ns);
  f.add_pod(c.sample_size);
  f.add_pod(c.seed);
  return f.value();
}

}  // namespace

std::uint64_t config_fingerprint(const Config& config) { return fingerprint_of(config, true); }

std::uint64_t config_fingerprint_one_clock(const Config& config) {
  return config.features.params.model_is_fast() ? fingerprint_of(config, false) : 0;
}

}  // namespace segmentd
