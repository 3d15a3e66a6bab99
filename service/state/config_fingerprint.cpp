#include "service/state/config_fingerprint.h"

#include "core/checkpoint_io.h"
#include "core/feature_vector.h"

namespace segmentd {

std::uint64_t config_fingerprint(const Config& config) {
  Fingerprint f;
  f.add("segmentd-state-v1");
  f.add_pod(kFeatureCount);
  for (std::string_view name : kFeatureNames) {
    f.add(name);
    f.add(",");
  }
  const FeatureParams& p = config.features.params;
  f.add_pod(p.half_life_ns);
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

}  // namespace segmentd
