#pragma once
// Batch k-means building blocks on points already in scaled space: k-means++ seeding, Lloyd
// iterations, best of several seeds, and the principal direction of a cluster (for splits).
// The online clusterer (core/clusterer.h) uses them for its warm start and its splits.
//
// Pure functions; all randomness comes from the caller's Rng, so results are reproducible.

#include <span>
#include <vector>

#include "core/feature_vector.h"
#include "core/rng.h"

namespace segmentd {

inline double squared_distance(const FeatureVector& a, const FeatureVector& b) {
  double d = 0.0;
  for (int j = 0; j < kFeatureCount; ++j) {
    const double t = a[j] - b[j];
    d += t * t;
  }
  return d;
}

//! Index of the nearest centre (ties: lowest index) and its squared distance.
inline int nearest_index(std::span<const FeatureVector> centres, const FeatureVector& x, double* d2) {
  int best = -1;
  double bd = 0.0;
  for (int i = 0; i < static_cast<int>(centres.size()); ++i) {
    const double d = squared_distance(centres[i], x);
    if (best < 0 || d < bd) {
      best = i;
      bd = d;
    }
  }
  if (d2 != nullptr) *d2 = bd;
  return best;
}

//! Centres laid out feature-major ([feature][centre], padded to blocks of kBlock) so the distances
//! of one vector to a block of centres are computed side by side: the compiler vectorizes across
//! centres, while each centre's sum still runs over the features in order, so the distances are
//! bitwise the ones squared_distance() gives (no reassociation, no dependence on the ISA).
class CentreTable {
 public:
  static constexpr int kBlock = 8;

  CentreTable() = default;
  explicit CentreTable(std::span<const FeatureVector> centres) { assign(centres); }
  void assign(std::span<const FeatureVector> centres);

  //! Index of the nearest centre (ties: lowest index) and its squared distance; −1 when empty.
  int nearest(const FeatureVector& x, double* d2) const;
  int size() const { return k_; }

 private:
  int k_ = 0;
  int blocks_ = 0;
  std::vector<double> t_;  //!< [block][feature][kBlock]
};

//! Greedy k-means++ (Arthur & Vassilvitskii 2007, with 2 + ⌊ln k⌋ candidates per step as in
//! scikit-learn). Requires !points.empty() and k ≥ 1; returns min(k, n) centres.
std::vector<FeatureVector> kmeans_plus_plus(std::span<const FeatureVector> points, int k, Rng& rng);

struct KMeansResult {
  std::vector<FeatureVector> centres;
  std::vector<double> counts;  //!< points per centre
  std::vector<int> labels;     //!< per point
  double inertia = 0.0;        //!< sum of squared distances
  int iterations = 0;
};

//! Lloyd iterations from `centres` until no label changes or max_iterations. An empty cluster is
//! moved onto the point farthest from its centre.
KMeansResult lloyd(std::span<const FeatureVector> points, std::vector<FeatureVector> centres, int max_iterations);

//! k-means++ then Lloyd, `seeds` times with independent draws from rng; the lowest inertia wins
//! (ties: the first).
KMeansResult kmeans_best_of(std::span<const FeatureVector> points, int k, int seeds, int max_iterations, Rng& rng);

struct PrincipalDirection {
  FeatureVector direction{};  //!< unit vector
  double variance = 0.0;      //!< variance of the points along it
};

//! Leading eigenvector of the scatter of `points` around `centre`, by power iteration (never
//! forms the covariance). Fewer than two points give a random direction with variance 0.
PrincipalDirection principal_direction(std::span<const FeatureVector> points, const FeatureVector& centre, Rng& rng,
                                       int iterations = 30);

}  // namespace segmentd
