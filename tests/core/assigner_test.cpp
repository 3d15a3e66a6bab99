#include "core/assigner.h"

#include <catch2/catch.hpp>

using namespace segmentd;

namespace {

constexpr std::int64_t kSec = 1'000'000'000LL;

//! Two segments on feature 0 at −1 and +1 (identity scaler) and a third far away.
Model three_segments() {
  Model m;
  m.version = 7;
  m.scaler.mean = {};
  for (auto& s : m.scaler.stddev) s = 1.0;
  for (auto& w : m.scaler.weight) w = 1.0;
  auto add = [&](SegmentId id, double x0, double x1) {
    Segment s;
    s.id = id;
    s.centroid[0] = s.centroid_raw[0] = x0;
    s.centroid[1] = s.centroid_raw[1] = x1;
    m.segments.push_back(s);
  };
  add(3, -1.0, 0.0);
  add(5, 1.0, 0.0);
  add(9, 0.0, 50.0);
  return m;
}

FeatureVector at(double x0, double x1 = 0.0) {
  FeatureVector v{};
  v[0] = x0;
  v[1] = x1;
  return v;
}

AssignerConfig cfg(double margin = 0.2, std::int64_t dwell = 10 * kSec) { return {margin, dwell}; }

}  // namespace

TEST_CASE("first assignment goes to the nearest centre with confidence and reasons", "[assigner]") {
  const Model m = three_segments();
  const AssignDecision d = assign(m, cfg(), 42, at(0.8), kNoSegment, 0, 100 * kSec);
  CHECK(d.changed);
  CHECK(d.segment == 5);
  CHECK(d.change.to == 5);
  CHECK(d.change.from == kNoSegment);
  CHECK(d.change.account == 42);
  CHECK(d.change.model_version == 7);
  CHECK(d.change.cause == SegmentChange::Cause::kFirstAssignment);
  CHECK(d.confidence == Approx(1.0 - 0.2 / 1.8));
  CHECK(d.change.reasons[0].feature == 0);
  CHECK(d.change.reasons[0].value == 0.8);
  CHECK(d.change.reasons[0].centroid_to == 1.0);
  CHECK(d.change.reasons[0].centroid_from == -1.0);  // runner-up stands in for "from"
  CHECK(d.change.reasons[1].feature == -1);          // nothing else pulls toward 5
}

TEST_CASE("an account at the boundary does not flap under hysteresis", "[assigner]") {
  const Model m = three_segments();
  SegmentId seg = kNoSegment;
  std::int64_t since = 0;
  int changes = 0;
  // The account wobbles around the boundary x0 = 0 for an hour of event time.
  for (int i = 0; i < 3600; ++i) {
    const double x = (i % 2 == 0 ? 0.03 : -0.03) * ((i % 7) / 7.0 + 0.5);
    const std::int64_t now = i * kSec;
    const AssignDecision d = assign(m, cfg(0.2, 10 * kSec), 1, at(x), seg, since, now);
    if (d.changed) {
      ++changes;
      seg = d.segment;
      since = now;
    }
  }
  CHECK(changes == 1);  // the first assignment only

  // Without hysteresis the same account flaps on nearly every step.
  seg = kNoSegment;
  changes = 0;
  for (int i = 0; i < 100; ++i) {
    const double x = (i % 2 == 0 ? 0.05 : -0.05);
    const AssignDecision d = assign(m, cfg(0.0, 0), 1, at(x), seg, 0, i * kSec);
    if (d.changed) {
      ++changes;
      seg = d.segment;
    }
  }
  CHECK(changes == 100);
}

TEST_CASE("a clear move happens once the dwell time has passed", "[assigner]") {
  const Model m = three_segments();
  // In segment 3 since t=0, now clearly at segment 5.
  AssignDecision d = assign(m, cfg(0.2, 10 * kSec), 1, at(1.0), 3, 0, 5 * kSec);
  CHECK_FALSE(d.changed);
  CHECK(d.segment == 3);
  CHECK(d.nearest == 5);
  CHECK(d.distance2 == Approx(4.0));
  d = assign(m, cfg(0.2, 10 * kSec), 1, at(1.0), 3, 0, 10 * kSec);
  REQUIRE(d.changed);
  CHECK(d.change.from == 3);
  CHECK(d.change.to == 5);
  CHECK(d.change.cause == SegmentChange::Cause::kMoved);
  CHECK(d.change.ts_ns == 10 * kSec);
}

TEST_CASE("hysteresis margin: moves only when d(x,c)^2 < (1 - margin) d(x,s)^2", "[assigner]") {
  const Model m = three_segments();
  // x0 = 0.1: d(x,5)² = 0.81, d(x,3)² = 1.21; ratio 0.669.
  CHECK(assign(m, cfg(0.3, 0), 1, at(0.1), 3, 0, kSec).changed);
  CHECK_FALSE(assign(m, cfg(0.35, 0), 1, at(0.1), 3, 0, kSec).changed);
}

TEST_CASE("an account in a retired segment moves at once", "[assigner]") {
  const Model m = three_segments();
  const AssignDecision d = assign(m, cfg(0.2, 3600 * kSec), 1, at(0.3, 49.0), 4 /* retired */, 0, kSec);
  REQUIRE(d.changed);
  CHECK(d.change.cause == SegmentChange::Cause::kSegmentRetired);
  CHECK(d.change.from == 4);
  CHECK(d.change.to == 9);
  CHECK(d.change.reasons[0].feature == 1);
  CHECK(d.change.reasons[0].value == 49.0);
}

TEST_CASE("staying in the nearest segment is no change, and no model keeps the segment", "[assigner]") {
  const Model m = three_segments();
  CHECK_FALSE(assign(m, cfg(), 1, at(-0.9), 3, 0, kSec).changed);
  const Model empty;
  const AssignDecision d = assign(empty, cfg(), 1, at(0.0), 3, 0, kSec);
  CHECK_FALSE(d.changed);
  CHECK(d.segment == 3);
}
