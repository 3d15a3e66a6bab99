#include "core/cluster_metrics.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace segmentd;

namespace {
using L = std::vector<std::int64_t>;
double ari(const L& a, const L& b) {
  return adjusted_rand_index(std::span<const std::int64_t>(a), std::span<const std::int64_t>(b));
}
double nmi(const L& a, const L& b) {
  return normalized_mutual_information(std::span<const std::int64_t>(a), std::span<const std::int64_t>(b));
}
}  // namespace

TEST_CASE("ARI is 1 for identical and relabelled partitions", "[cluster_metrics]") {
  CHECK(ari({0, 0, 1, 1, 2}, {0, 0, 1, 1, 2}) == Approx(1.0));
  CHECK(ari({0, 0, 1, 1, 2}, {7, 7, 3, 3, 9}) == Approx(1.0));
  CHECK(ari({}, {}) == 1.0);
  CHECK(ari({1, 1, 1}, {4, 4, 4}) == 1.0);
}

TEST_CASE("ARI and NMI match scikit-learn on a known example", "[cluster_metrics]") {
  // Reference values from sklearn 1.2.1: adjusted_rand_score, normalized_mutual_info_score.
  const L a = {0, 0, 0, 1, 1, 1, 2, 2, 2, 2};
  const L b = {0, 0, 1, 1, 1, 2, 2, 2, 0, 0};
  CHECK(ari(a, b) == Approx(0.09090909090909091).epsilon(1e-12));
  CHECK(nmi(a, b) == Approx(0.39464837163589433).epsilon(1e-12));
  CHECK(ari(a, b) == Approx(ari(b, a)));
}

TEST_CASE("uint32 overloads agree with int64", "[cluster_metrics]") {
  const std::vector<std::uint32_t> a = {1, 1, 2, 2, 3, 3}, b = {5, 5, 5, 2, 3, 3};
  const L wa(a.begin(), a.end()), wb(b.begin(), b.end());
  CHECK(adjusted_rand_index(std::span<const std::uint32_t>(a), std::span<const std::uint32_t>(b)) ==
        Approx(ari(wa, wb)));
  CHECK(normalized_mutual_information(std::span<const std::uint32_t>(a), std::span<const std::uint32_t>(b)) ==
        Approx(nmi(wa, wb)));
}

TEST_CASE("purity counts the majority class of each cluster", "[cluster_metrics]") {
  const L truth = {0, 0, 0, 1, 1, 1};
  const L clusters = {5, 5, 6, 6, 6, 6};
  // cluster 5: {0,0} → 2; cluster 6: {0,1,1,1} → 3.
  CHECK(purity(std::span<const std::int64_t>(truth), std::span<const std::int64_t>(clusters)) == Approx(5.0 / 6.0));
}

TEST_CASE("silhouette matches scikit-learn on a small example", "[cluster_metrics]") {
  std::vector<FeatureVector> pts(8, FeatureVector{});
  const double xy[8][2] = {{0, 0}, {0, 1}, {1, 0}, {5, 5}, {5, 6}, {6, 5}, {6, 6}, {0, 2}};
  for (int i = 0; i < 8; ++i) {
    pts[i][0] = xy[i][0];
    pts[i][1] = xy[i][1];
  }
  const L labels = {0, 0, 0, 1, 1, 1, 1, 0};
  CHECK(silhouette(pts, labels) == Approx(0.8180491287025304).epsilon(1e-12));
  CHECK(silhouette(pts, L(8, 3)) == 0.0);
}
