#include "core/assigner.h"

#include <algorithm>
#include <cmath>

#include "core/standardizer.h"

namespace segmentd {
namespace {

double squared_distance(const FeatureVector& a, const FeatureVector& b) {
  double d = 0.0;
  for (int j = 0; j < kFeatureCount; ++j) {
    const double t = a[j] - b[j];
    d += t * t;
  }
  return d;
}

void fill_reasons(const FeatureVector& raw, const FeatureVector& x, const Segment& from, const Segment& to,
                  SegmentChange* change) {
  // Pick the top kMaxReasons by Δⱼ with a partial selection; ties go to the lower feature index.
  std::array<double, kFeatureCount> delta;
  for (int j = 0; j < kFeatureCount; ++j) {
    const double df = x[j] - from.centroid[j];
    const double dt = x[j] - to.centroid[j];
    delta[j] = df * df - dt * dt;
  }
  std::array<bool, kFeatureCount> used{};
  for (int r = 0; r < kMaxReasons; ++r) {
    int best = -1;
    for (int j = 0; j < kFeatureCount; ++j)
      if (!used[j] && delta[j] > 0.0 && (best < 0 || delta[j] > delta[best])) best = j;
    if (best < 0) break;
    used[best] = true;
    change->reasons[r] = {static_cast<std::int8_t>(best), raw[best], from.centroid_raw[best], to.centroid_raw[best]};
  }
}

}  // namespace

NearestCentres nearest_centres(const Model& model, const FeatureVector& scaled) {
  NearestCentres n;
  const int k = static_cast<int>(model.segments.size());
  for (int i = 0; i < k; ++i) {
    const double d = squared_distance(scaled, model.segments[i].centroid);
    if (n.first < 0 || d < n.d1) {
      n.second = n.first;
      n.d2 = n.d1;
      n.first = i;
      n.d1 = d;
    } else if (n.second < 0 || d < n.d2) {
      n.second = i;
      n.d2 = d;
    }
  }
  return n;
}

AssignDecision assign(const Model& model, const AssignerConfig& config, AccountId account, const FeatureVector& raw,
                      SegmentId current, std::int64_t since_ns, std::int64_t now_ns) {
  AssignDecision out;
  out.segment = current;
  if (!model.ready()) return out;

  const FeatureVector x = scale(model.scaler, raw);
  const NearestCentres n = nearest_centres(model, x);
  const Segment& best = model.segments[n.first];
  out.nearest = best.id;
  if (n.second >= 0) {
    const double r1 = std::sqrt(n.d1), r2 = std::sqrt(n.d2);
    out.confidence = r2 > 0.0 ? std::clamp(1.0 - r1 / r2, 0.0, 1.0) : 0.0;
  } else {
    out.confidence = 1.0;
  }

  const Segment* from = nullptr;
  SegmentChange::Cause cause = SegmentChange::Cause::kMoved;
  if (current == kNoSegment) {
    cause = SegmentChange::Cause::kFirstAssignment;
  } else if (const Segment* s = model.find(current); s == nullptr) {
    cause = SegmentChange::Cause::kSegmentRetired;
  } else {
    from = s;
    if (s->id == best.id) {
      out.distance2 = n.d1;
      return out;
    }
    const double ds = squared_distance(x, s->centroid);
    const bool dwelled = now_ns - since_ns >= config.min_dwell_ns;
    if (!dwelled || !(n.d1 < (1.0 - config.hysteresis_margin) * ds)) {
      out.distance2 = ds;
      return out;
    }
  }

  out.segment = best.id;
  out.distance2 = n.d1;
  out.changed = true;
  SegmentChange& c = out.change;
  c.ts_ns = now_ns;
  c.account = account;
  c.from = current;
  c.to = best.id;
  c.confidence = out.confidence;
  c.model_version = model.version;
  c.cause = cause;
  const Segment& reference = from != nullptr ? *from : (n.second >= 0 ? model.segments[n.second] : best);
  fill_reasons(raw, x, reference, best, &c);
  return out;
}

}  // namespace segmentd
