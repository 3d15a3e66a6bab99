#pragma once
// Decayed per-feature mean and variance in event time (docs/architecture.md, "The model and segments"), frozen into a
// Scaler per model version. A model's centroids and the vectors assigned against it are always scaled with the same
// frozen Scaler, so a change of the running statistics never silently moves every centroid: the clusterer decides when
// to freeze a new one (and says so with Model::scaler_version).
//
// Owned by the clusterer thread; not thread-safe.

#include <cstdint>

#include "core/feature_vector.h"
#include "core/model.h"

namespace segmentd {

struct StandardizerConfig {
  //! Event-time half-life of the statistics; <= 0 turns forgetting off (plain running moments).
  std::int64_t half_life_ns = 4 * 3600LL * 1'000'000'000LL;
  //! Per-feature floor of the standard deviation, raw units: a constant feature (no options traded
  //! on a perp-only venue) must not blow tiny noise up into a dominant dimension.
  FeatureVector min_stddev = filled(1e-2);
  //! Feature weights from config; 0 switches a feature off for distances.
  FeatureVector weight = filled(1.0);

  static constexpr FeatureVector filled(double v) {
    FeatureVector f{};
    for (auto& x : f) x = v;
    return f;
  }
};

//! Plain-data state for checkpoints.
struct StandardizerState {
  double weight = 0.0;  //!< decayed count
  FeatureVector mean{};
  FeatureVector m2{};      //!< decayed sum of squared deviations (West's weighted update)
  std::int64_t ts_ns = 0;  //!< event time the sums are decayed to
  bool started = false;
};

class Standardizer {
 public:
  explicit Standardizer(StandardizerConfig config = {});
  Standardizer(StandardizerConfig config, const StandardizerState& state);

  //! Decays the sums to now_ns. Event time never runs backwards: an earlier now_ns is a no-op.
  void decay_to(std::int64_t now_ns);
  //! Adds one vector with weight w at the current decay time (call decay_to first).
  void add(const FeatureVector& raw, double w = 1.0);
  //! Adds a whole batch given its own moments: n unit-weight vectors with mean `mean` and sum of
  //! squared deviations `m2` (Chan et al.'s merge; one division per batch, not per vector).
  void merge(double n, const FeatureVector& mean, const FeatureVector& m2);

  double weight() const { return s_.weight; }
  FeatureVector mean() const { return s_.mean; }
  //! Decayed standard deviation (unbiased for the effective sample size), floored.
  FeatureVector stddev() const;
  //! The current statistics as a Scaler: what a model version freezes.
  Scaler freeze() const;

  const StandardizerState& state() const { return s_; }
  const StandardizerConfig& config() const { return config_; }

 private:
  StandardizerConfig config_;
  StandardizerState s_;
};

//! scaled = (raw − mean) × (weight / stddev).
FeatureVector scale(const Scaler& s, const FeatureVector& raw);
//! weight / stddev per feature: with it, scale() below is bitwise the same as scale(Scaler, raw)
//! without a division per value (for loops over many vectors).
FeatureVector scale_factors(const Scaler& s);
inline FeatureVector scale(const FeatureVector& mean, const FeatureVector& factors, const FeatureVector& raw) {
  FeatureVector out;
  for (int j = 0; j < kFeatureCount; ++j) out[j] = (raw[j] - mean[j]) * factors[j];
  return out;
}
//! Inverse of scale() for features with weight ≠ 0; features with weight 0 get `fallback`'s value.
FeatureVector unscale(const Scaler& s, const FeatureVector& scaled, const FeatureVector& fallback);

//! True when `fresh` differs from `frozen` by more than `tolerance`: a relative stddev change, or a
//! mean shift measured in frozen stddevs, in any feature with non-zero weight.
bool scaler_drifted(const Scaler& frozen, const Scaler& fresh, double tolerance);

}  // namespace segmentd
