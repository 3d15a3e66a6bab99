#include "core/kmeans.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace segmentd {
namespace {

//! Index i with cumulative[i−1] ≤ r < cumulative[i] (cumulative is non-decreasing).
std::size_t pick(const std::vector<double>& weights, double total, Rng& rng) {
  const double r = rng.uniform() * total;
  double acc = 0.0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    acc += weights[i];
    if (r < acc) return i;
  }
  // Rounding: fall back to the last point with non-zero weight.
  for (std::size_t i = weights.size(); i-- > 0;)
    if (weights[i] > 0.0) return i;
  return weights.size() - 1;
}

FeatureVector random_unit(Rng& rng) {
  FeatureVector v;
  double n = 0.0;
  for (auto& x : v) {
    x = rng.normal();
    n += x * x;
  }
  n = std::sqrt(n);
  for (auto& x : v) x /= n;
  return v;
}

}  // namespace

void CentreTable::assign(std::span<const FeatureVector> centres) {
  k_ = static_cast<int>(centres.size());
  blocks_ = (k_ + kBlock - 1) / kBlock;
  t_.assign(static_cast<std::size_t>(blocks_) * kFeatureCount * kBlock, 0.0);
  for (int c = 0; c < k_; ++c)
    for (int j = 0; j < kFeatureCount; ++j)
      t_[(static_cast<std::size_t>(c / kBlock) * kFeatureCount + j) * kBlock + c % kBlock] = centres[c][j];
}

int CentreTable::nearest(const FeatureVector& x, double* d2) const {
  // Two doubles per lane group, kBlock / 2 groups: plain SSE2 on the baseline x86-64 target.
  typedef double V2 __attribute__((vector_size(16)));
  static_assert(kBlock == 8);
  int best = -1;
  double bd = 0.0;
  for (int b = 0; b < blocks_; ++b) {
    const double* t = t_.data() + static_cast<std::size_t>(b) * kFeatureCount * kBlock;
    V2 a0 = {0, 0}, a1 = {0, 0}, a2 = {0, 0}, a3 = {0, 0};
    for (int j = 0; j < kFeatureCount; ++j) {
      const V2 xj = {x[j], x[j]};
      V2 c0, c1, c2, c3;
      std::memcpy(&c0, t + j * kBlock + 0, sizeof c0);
      std::memcpy(&c1, t + j * kBlock + 2, sizeof c1);
      std::memcpy(&c2, t + j * kBlock + 4, sizeof c2);
      std::memcpy(&c3, t + j * kBlock + 6, sizeof c3);
      const V2 d0 = xj - c0, d1 = xj - c1, d2v = xj - c2, d3 = xj - c3;
      a0 += d0 * d0;
      a1 += d1 * d1;
      a2 += d2v * d2v;
      a3 += d3 * d3;
    }
    const double acc[kBlock] = {a0[0], a0[1], a1[0], a1[1], a2[0], a2[1], a3[0], a3[1]};
    const int n = std::min(kBlock, k_ - b * kBlock);
    for (int c = 0; c < n; ++c) {
      if (best < 0 || acc[c] < bd) {
        best = b * kBlock + c;
        bd = acc[c];
      }
    }
  }
  if (d2 != nullptr) *d2 = bd;
  return best;
}

std::vector<FeatureVector> kmeans_plus_plus(std::span<const FeatureVector> points, int k, Rng& rng) {
  const std::size_t n = points.size();
  std::vector<FeatureVector> centres;
  if (n == 0 || k <= 0) return centres;
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  centres.push_back(points[rng.below(n)]);
  std::vector<double> closest(n);
  double potential = 0.0;
  for (std::size_t i = 0; i < n; ++i) potential += closest[i] = squared_distance(points[i], centres[0]);

  std::vector<double> candidate(n), best_closest(n);
  const std::size_t want = std::min<std::size_t>(static_cast<std::size_t>(k), n);
  while (centres.size() < want) {
    if (potential <= 0.0) {
      // Fewer distinct points than k: duplicate a point; Lloyd will leave the copy empty and the
      // clusterer's dying-cluster rule takes it from there.
      centres.push_back(points[rng.below(n)]);
      continue;
    }
    std::size_t best = 0;
    double best_potential = INFINITY;
    for (int t = 0; t < trials; ++t) {
      const std::size_t c = pick(closest, potential, rng);
      double p = 0.0;
      for (std::size_t i = 0; i < n; ++i)
        p += candidate[i] = std::min(closest[i], squared_distance(points[i], points[c]));
      if (p < best_potential) {
        best_potential = p;
        best = c;
        best_closest.swap(candidate);
      }
    }
    centres.push_back(points[best]);
    closest.swap(best_closest);
    potential = best_potential;
  }
  return centres;
}

KMeansResult lloyd(std::span<const FeatureVector> points, std::vector<FeatureVector> centres, int max_iterations) {
  KMeansResult r;
  const std::size_t n = points.size();
  const std::size_t k = centres.size();
  r.labels.assign(n, -1);
  std::vector<double> d2(n);
  std::vector<FeatureVector> sums(k);
  r.counts.assign(k, 0.0);
  for (int it = 0; it < std::max(1, max_iterations); ++it) {
    bool changed = false;
    const CentreTable table(centres);
    for (std::size_t i = 0; i < n; ++i) {
      const int l = table.nearest(points[i], &d2[i]);
      changed |= l != r.labels[i];
      r.labels[i] = l;
    }
    r.iterations = it + 1;
    if (!changed && it > 0) break;
    for (auto& s : sums) s.fill(0.0);
    std::fill(r.counts.begin(), r.counts.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      auto& s = sums[r.labels[i]];
      for (int j = 0; j < kFeatureCount; ++j) s[j] += points[i][j];
      r.counts[r.labels[i]] += 1.0;
    }
    for (std::size_t c = 0; c < k; ++c) {
      if (r.counts[c] > 0.0) {
        for (int j = 0; j < kFeatureCount; ++j) centres[c][j] = sums[c][j] / r.counts[c];
      } else {
        const std::size_t far = static_cast<std::size_t>(std::max_element(d2.begin(), d2.end()) - d2.begin());
        centres[c] = points[far];
        d2[far] = 0.0;
      }
    }
  }
  // Final labels, counts and inertia against the final centres.
  std::fill(r.counts.begin(), r.counts.end(), 0.0);
  r.inertia = 0.0;
  const CentreTable table(centres);
  for (std::size_t i = 0; i < n; ++i) {
    double d = 0.0;
    r.labels[i] = table.nearest(points[i], &d);
    r.counts[r.labels[i]] += 1.0;
    r.inertia += d;
  }
  r.centres = std::move(centres);
  return r;
}

KMeansResult kmeans_best_of(std::span<const FeatureVector> points, int k, int seeds, int max_iterations, Rng& rng) {
  KMeansResult best;
  bool have = false;
  for (int s = 0; s < std::max(1, seeds); ++s) {
    KMeansResult r = lloyd(points, kmeans_plus_plus(points, k, rng), max_iterations);
    if (!have || r.inertia < best.inertia) {
      best = std::move(r);
      have = true;
    }
  }
  return best;
}

PrincipalDirection principal_direction(std::span<const FeatureVector> points, const FeatureVector& centre, Rng& rng,
                                       int iterations) {
  PrincipalDirection p;
  p.direction = random_unit(rng);
  if (points.size() < 2) return p;
  FeatureVector v = p.direction;
  for (int it = 0; it < iterations; ++it) {
    FeatureVector next{};
    for (const auto& x : points) {
      double proj = 0.0;
      for (int j = 0; j < kFeatureCount; ++j) proj += (x[j] - centre[j]) * v[j];
      for (int j = 0; j < kFeatureCount; ++j) next[j] += proj * (x[j] - centre[j]);
    }
    double norm = 0.0;
    for (double t : next) norm += t * t;
    norm = std::sqrt(norm);
    if (norm <= 0.0) break;  // all points on the centre
    for (int j = 0; j < kFeatureCount; ++j) v[j] = next[j] / norm;
  }
  double var = 0.0;
  for (const auto& x : points) {
    double proj = 0.0;
    for (int j = 0; j < kFeatureCount; ++j) proj += (x[j] - centre[j]) * v[j];
    var += proj * proj;
  }
  p.direction = v;
  p.variance = var / static_cast<double>(points.size());
  return p;
}

}  // namespace segmentd
