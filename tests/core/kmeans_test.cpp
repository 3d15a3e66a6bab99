#include "core/kmeans.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "core/cluster_metrics.h"

using namespace segmentd;

namespace {

std::vector<FeatureVector> blobs(int k, int per, double sd, Rng& rng, std::vector<std::int64_t>* truth) {
  std::vector<FeatureVector> centres(k), pts;
  for (auto& c : centres)
    for (auto& x : c) x = -10.0 + 20.0 * rng.uniform();
  for (int i = 0; i < k * per; ++i) {
    FeatureVector v = centres[i % k];
    for (auto& x : v) x += sd * rng.normal();
    pts.push_back(v);
    truth->push_back(i % k);
  }
  return pts;
}

}  // namespace

TEST_CASE("k-means++ with Lloyd finds planted blobs", "[kmeans]") {
  Rng rng(3);
  std::vector<std::int64_t> truth;
  const auto pts = blobs(8, 200, 1.0, rng, &truth);
  const KMeansResult r = kmeans_best_of(pts, 8, 3, 50, rng);
  REQUIRE(r.centres.size() == 8);
  std::vector<std::int64_t> got(r.labels.begin(), r.labels.end());
  CHECK(adjusted_rand_index(std::span<const std::int64_t>(truth), std::span<const std::int64_t>(got)) == Approx(1.0));
  CHECK(r.inertia / pts.size() == Approx(16.0).epsilon(0.1));
}

TEST_CASE("k-means++ copes with fewer distinct points than k", "[kmeans]") {
  Rng rng(1);
  std::vector<FeatureVector> pts(10, FeatureVector{});
  pts[5][0] = 1.0;
  const auto centres = kmeans_plus_plus(pts, 4, rng);
  CHECK(centres.size() == 4);
  const KMeansResult r = lloyd(pts, centres, 10);
  CHECK(r.inertia == Approx(0.0));
}

TEST_CASE("the same seed gives the same clustering", "[kmeans]") {
  Rng data(9);
  std::vector<std::int64_t> truth;
  const auto pts = blobs(5, 100, 3.0, data, &truth);
  Rng a(5), b(5);
  const KMeansResult ra = kmeans_best_of(pts, 5, 2, 20, a);
  const KMeansResult rb = kmeans_best_of(pts, 5, 2, 20, b);
  CHECK(ra.centres == rb.centres);
  CHECK(ra.inertia == rb.inertia);
}

TEST_CASE("principal direction of an elongated cloud", "[kmeans]") {
  Rng rng(4);
  std::vector<FeatureVector> pts;
  FeatureVector axis{};
  axis[2] = 0.6;
  axis[7] = 0.8;
  for (int i = 0; i < 2000; ++i) {
    FeatureVector v{};
    for (auto& x : v) x = 0.3 * rng.normal();
    const double t = 4.0 * rng.normal();
    for (int j = 0; j < kFeatureCount; ++j) v[j] += t * axis[j] + 1.0;
    pts.push_back(v);
  }
  FeatureVector centre;
  centre.fill(1.0);
  const PrincipalDirection pd = principal_direction(pts, centre, rng);
  double dot = 0.0;
  for (int j = 0; j < kFeatureCount; ++j) dot += pd.direction[j] * axis[j];
  CHECK(std::abs(dot) > 0.99);
  CHECK(pd.variance == Approx(16.0 + 0.09).epsilon(0.1));
  CHECK(principal_direction(std::span<const FeatureVector>(pts.data(), 1), centre, rng).variance == 0.0);
}
