#include "core/quality.h"

#include <catch2/catch.hpp>

using namespace segmentd;

namespace {

Model two_segments(double right_x) {
  Model m;
  m.version = 1;
  m.scaler.stddev.fill(1.0);
  m.scaler.weight.fill(1.0);
  Segment a, b;
  a.id = 1;
  b.id = 2;
  a.centroid[0] = a.centroid_raw[0] = -1.0;
  b.centroid[0] = b.centroid_raw[0] = right_x;
  m.segments = {a, b};
  return m;
}

std::vector<SampleEntry> line_of_entries() {
  std::vector<SampleEntry> out;
  for (int i = 0; i < 20; ++i) {
    SampleEntry e;
    e.account = static_cast<AccountId>(i);
    e.key = static_cast<std::uint64_t>(i);
    e.raw[0] = i < 10 ? -1.0 - 0.01 * i : 1.0 + 0.01 * i;
    out.push_back(e);
  }
  return out;
}

}  // namespace

TEST_CASE("sample quality: sizes, silhouette, then churn and ARI between evaluations", "[quality]") {
  auto entries = line_of_entries();
  const Model m = two_segments(1.0);
  SampleQuality q = evaluate_sample(m, entries, 0.0, 100, 2000.0);
  REQUIRE(q.sizes.size() == 2);
  CHECK(q.sizes[0] == 1000);
  CHECK(q.sizes[1] == 1000);
  CHECK(q.silhouette > 0.9);
  CHECK(q.churn_per_hour == 0.0);
  CHECK(q.adjusted_rand == 1.0);  // nothing to compare with yet
  CHECK(entries[0].last_nearest == 1);

  // Move the right centre far away: every right-hand entry switches to segment 1.
  q = evaluate_sample(two_segments(100.0), entries, 0.5, 100, 2000.0);
  CHECK(q.churn_per_hour == Approx(0.5 / 0.5));
  CHECK(q.adjusted_rand == Approx(0.0).margin(1e-9));
}

TEST_CASE("centroid drift is the largest move of a surviving segment", "[quality]") {
  const Model a = two_segments(1.0);
  Model b = two_segments(4.0);
  CHECK(centroid_drift(a, b) == Approx(3.0));
  b.segments[1].id = 3;  // a newborn does not count as drift
  CHECK(centroid_drift(a, b) == 0.0);
}

TEST_CASE("decayed inertia is a decayed mean", "[quality]") {
  DecayedInertia d;
  d.add(10.0, 10.0);
  d.decay(0.5);
  d.add(15.0, 5.0);
  CHECK(d.value() == Approx(20.0 / 10.0));
}
