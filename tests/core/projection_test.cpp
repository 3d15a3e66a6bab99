// The console's map projection (core/projection.h): the two principal axes of a point cloud, and
// their alignment to the previous fit, so that a refit does not flip or spin the picture.

#include "core/projection.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/rng.h"

using namespace segmentd;

namespace {

//! Points with a large spread along feature 2, a smaller one along feature 5, noise elsewhere.
std::vector<FeatureVector> cloud(std::uint64_t seed, std::size_t n = 2000) {
  Rng rng(seed);
  std::vector<FeatureVector> out(n);
  for (auto& x : out) {
    for (double& v : x) v = 0.05 * rng.normal();
    x[2] += 5.0 * rng.normal();
    x[5] += 2.0 * rng.normal();
  }
  return out;
}

double dot(const FeatureVector& a, const FeatureVector& b) {
  double s = 0.0;
  for (int f = 0; f < kFeatureCount; ++f) s += a[f] * b[f];
  return s;
}

}  // namespace

TEST_CASE("projection: the axes are the directions of largest spread, orthonormal", "[projection]") {
  const Projection2D p = fit_projection(cloud(1), Projection2D{});
  REQUIRE(p.valid);
  CHECK(std::fabs(p.axes[0][2]) == Approx(1.0).margin(1e-3));
  CHECK(std::fabs(p.axes[1][5]) == Approx(1.0).margin(1e-3));
  CHECK(dot(p.axes[0], p.axes[0]) == Approx(1.0));
  CHECK(dot(p.axes[1], p.axes[1]) == Approx(1.0));
  CHECK(dot(p.axes[0], p.axes[1]) == Approx(0.0).margin(1e-9));
  // A first fit's convention: each axis's weights sum to a positive number.
  double s0 = 0.0, s1 = 0.0;
  for (int f = 0; f < kFeatureCount; ++f) s0 += p.axes[0][f], s1 += p.axes[1][f];
  CHECK(s0 > 0);
  CHECK(s1 > 0);
  const auto xy = p.apply(FeatureVector{0, 0, 3.0, 0, 0, -1.0});
  CHECK(std::fabs(xy[0]) == Approx(3.0).margin(0.05));
  CHECK(std::fabs(xy[1]) == Approx(1.0).margin(0.05));  // sample axes, not exact ones
}

TEST_CASE("projection: a refit on another sample of the same population keeps the picture", "[projection]") {
  const Projection2D first = fit_projection(cloud(1), Projection2D{});
  // Whatever sign or order the solver finds for the new sample, the refit is aligned to `first`.
  Projection2D flipped = first;
  for (double& v : flipped.axes[0]) v = -v;
  for (const Projection2D& previous : {first, flipped}) {
    const Projection2D refit = fit_projection(cloud(2), previous);
    REQUIRE(refit.valid);
    CHECK(dot(refit.axes[0], previous.axes[0]) > 0.999);
    CHECK(dot(refit.axes[1], previous.axes[1]) > 0.999);
  }
}

TEST_CASE("projection: two axes of equal spread are aligned to the previous ones, not spun", "[projection]") {
  // Equal spread along features 2 and 5: any rotation in that plane is a principal basis, and a
  // fresh solver's choice is arbitrary. Aligned, the refit matches the previous axes.
  Rng rng(7);
  std::vector<FeatureVector> pts(4000);
  for (auto& x : pts) {
    for (double& v : x) v = 0.01 * rng.normal();
    x[2] += 3.0 * rng.normal();
    x[5] += 3.0 * rng.normal();
  }
  Projection2D previous;
  previous.valid = true;
  const double a = 0.6;  // a basis of the plane turned by 0.6 rad
  previous.axes[0][2] = std::cos(a), previous.axes[0][5] = std::sin(a);
  previous.axes[1][2] = -std::sin(a), previous.axes[1][5] = std::cos(a);
  const Projection2D refit = fit_projection(pts, previous);
  REQUIRE(refit.valid);
  CHECK(dot(refit.axes[0], previous.axes[0]) > 0.999);
  CHECK(dot(refit.axes[1], previous.axes[1]) > 0.999);
  // A mirrored previous basis is matched too (a reflection, not only rotations).
  for (double& v : previous.axes[1]) v = -v;
  const Projection2D mirrored = fit_projection(pts, previous);
  CHECK(dot(mirrored.axes[0], previous.axes[0]) > 0.999);
  CHECK(dot(mirrored.axes[1], previous.axes[1]) > 0.999);
}

TEST_CASE("projection: too few points or no spread keep the previous projection", "[projection]") {
  const Projection2D first = fit_projection(cloud(1), Projection2D{});
  std::vector<FeatureVector> same(10, FeatureVector{1.0, 2.0, 3.0});
  const Projection2D kept = fit_projection(same, first);
  CHECK(kept.valid);
  CHECK(kept.axes == first.axes);
  CHECK_FALSE(fit_projection(same, Projection2D{}).valid);
  CHECK_FALSE(fit_projection({FeatureVector{}, FeatureVector{}}, Projection2D{}).valid);
}
