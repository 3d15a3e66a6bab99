#pragma once
// The clusterer's quality signals (docs/architecture.md, "The model and segments"), computed on the account sample so
// their cost is bounded whatever the number of accounts: decayed inertia, silhouette, churn per hour, centroid drift
// per version, adjusted Rand index between consecutive evaluations, segment sizes.
//
// Churn and ARI compare the sample's nearest-centre labels between two evaluations: they measure
// how much the model itself moves accounts, before hysteresis (the shards' SegmentChange rate is
// the after-hysteresis figure and is counted by the service).
//
// Owned by the clusterer thread.

#include <cstdint>
#include <vector>

#include "core/account_sample.h"
#include "core/model.h"

namespace segmentd {

//! Decayed mean squared distance of the training vectors to the centre they were assigned to.
struct DecayedInertia {
  double sum = 0.0;    //!< decayed Σ d²
  double count = 0.0;  //!< decayed number of vectors

  void decay(double factor) {
    sum *= factor;
    count *= factor;
  }
  void add(double sum_d2, double n) {
    sum += sum_d2;
    count += n;
  }
  double value() const { return count > 0.0 ? sum / count : 0.0; }
};

struct SampleQuality {
  double silhouette = 0.0;
  double churn_per_hour = 0.0;
  double adjusted_rand = 1.0;
  std::vector<std::uint64_t> sizes;  //!< estimated accounts per segment, parallel to Model::segments
};

//! Labels every sample entry with its nearest segment of `model`, computes the silhouette on the
//! `silhouette_points` entries with the smallest keys, churn and ARI against the previous labels
//! (entries with last_nearest set; churn divided by `hours_since_previous`), the segment sizes
//! scaled to `population`; then stores the new labels in last_nearest.
SampleQuality evaluate_sample(const Model& model, std::vector<SampleEntry>& entries, double hours_since_previous,
                              std::size_t silhouette_points, double population);

//! Largest movement of a segment present in both models, in `next`'s scaled space.
double centroid_drift(const Model& previous, const Model& next);

}  // namespace segmentd
