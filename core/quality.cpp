#include "core/quality.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/assigner.h"
#include "core/cluster_metrics.h"
#include "core/kmeans.h"
#include "core/standardizer.h"

namespace segmentd {

SampleQuality evaluate_sample(const Model& model, std::vector<SampleEntry>& entries, double hours_since_previous,
                              std::size_t silhouette_points, double population) {
  SampleQuality q;
  q.sizes.assign(model.segments.size(), 0);
  if (!model.ready() || entries.empty()) return q;

  const std::size_t n = entries.size();
  std::vector<FeatureVector> scaled(n);
  std::vector<std::int64_t> now_labels(n);
  std::vector<double> counts(model.segments.size(), 0.0);
  std::vector<std::int64_t> before, after;
  for (std::size_t i = 0; i < n; ++i) {
    scaled[i] = scale(model.scaler, entries[i].raw);
    const NearestCentres nc = nearest_centres(model, scaled[i]);
    const SegmentId id = model.segments[nc.first].id;
    now_labels[i] = id;
    counts[nc.first] += 1.0;
    if (entries[i].last_nearest != kNoSegment) {
      before.push_back(entries[i].last_nearest);
      after.push_back(id);
    }
    entries[i].last_nearest = id;
  }

  for (std::size_t s = 0; s < counts.size(); ++s)
    q.sizes[s] = static_cast<std::uint64_t>(std::llround(counts[s] / static_cast<double>(n) * population));

  if (!before.empty()) {
    q.adjusted_rand = adjusted_rand_index(std::span<const std::int64_t>(before), std::span<const std::int64_t>(after));
    std::size_t moved = 0;
    for (std::size_t i = 0; i < before.size(); ++i) moved += before[i] != after[i];
    if (hours_since_previous > 0.0)
      q.churn_per_hour = static_cast<double>(moved) / static_cast<double>(before.size()) / hours_since_previous;
  }

  // Silhouette on the entries with the smallest keys: a subset that does not depend on the order
  // in which accounts entered the sample.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  const std::size_t m = std::min(silhouette_points, n);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(m), order.end(),
                    [&](std::size_t a, std::size_t b) { return entries[a].key < entries[b].key; });
  std::vector<FeatureVector> pts(m);
  std::vector<std::int64_t> lab(m);
  for (std::size_t i = 0; i < m; ++i) {
    pts[i] = scaled[order[i]];
    lab[i] = now_labels[order[i]];
  }
  q.silhouette = silhouette(pts, lab);
  return q;
}

double centroid_drift(const Model& previous, const Model& next) {
  double drift = 0.0;
  for (const auto& s : next.segments) {
    const Segment* p = previous.find(s.id);
    if (p == nullptr) continue;
    const FeatureVector before = scale(next.scaler, p->centroid_raw);
    const FeatureVector now = scale(next.scaler, s.centroid_raw);
    drift = std::max(drift, std::sqrt(squared_distance(before, now)));
  }
  return drift;
}

}  // namespace segmentd
