#include "core/cluster_metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <vector>

namespace segmentd {
namespace {

//! Maps labels to dense indices 0..m-1 in order of their sorted value (deterministic).
std::vector<int> densify(std::span<const std::int64_t> labels, int* count) {
  std::vector<std::int64_t> values(labels.begin(), labels.end());
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::vector<int> out(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i)
    out[i] = static_cast<int>(std::lower_bound(values.begin(), values.end(), labels[i]) - values.begin());
  *count = static_cast<int>(values.size());
  return out;
}

struct Contingency {
  int rows = 0, cols = 0;
  std::vector<double> n;     //!< rows × cols
  std::vector<double> a, b;  //!< row and column sums
  double total = 0.0;
};

Contingency contingency(std::span<const std::int64_t> x, std::span<const std::int64_t> y) {
  assert(x.size() == y.size());
  Contingency c;
  const auto dx = densify(x, &c.rows);
  const auto dy = densify(y, &c.cols);
  c.n.assign(static_cast<std::size_t>(c.rows) * c.cols, 0.0);
  c.a.assign(c.rows, 0.0);
  c.b.assign(c.cols, 0.0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    c.n[static_cast<std::size_t>(dx[i]) * c.cols + dy[i]] += 1.0;
    c.a[dx[i]] += 1.0;
    c.b[dy[i]] += 1.0;
  }
  c.total = static_cast<double>(x.size());
  return c;
}

double comb2(double v) { return v * (v - 1.0) / 2.0; }

std::vector<std::int64_t> widen(std::span<const std::uint32_t> v) { return {v.begin(), v.end()}; }

}  // namespace

double adjusted_rand_index(std::span<const std::int64_t> a, std::span<const std::int64_t> b) {
  if (a.empty()) return 1.0;
  const Contingency c = contingency(a, b);
  double index = 0.0, sum_a = 0.0, sum_b = 0.0;
  for (double v : c.n) index += comb2(v);
  for (double v : c.a) sum_a += comb2(v);
  for (double v : c.b) sum_b += comb2(v);
  const double expected = sum_a * sum_b / comb2(c.total);
  const double max_index = 0.5 * (sum_a + sum_b);
  const double denom = max_index - expected;
  if (denom == 0.0 || !std::isfinite(expected)) return 1.0;
  return (index - expected) / denom;
}

double adjusted_rand_index(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b) {
  const auto wa = widen(a), wb = widen(b);
  return adjusted_rand_index(std::span<const std::int64_t>(wa), std::span<const std::int64_t>(wb));
}

double normalized_mutual_information(std::span<const std::int64_t> a, std::span<const std::int64_t> b) {
  if (a.empty()) return 1.0;
  const Contingency c = contingency(a, b);
  const double n = c.total;
  double ha = 0.0, hb = 0.0, mi = 0.0;
  for (double v : c.a) ha -= v / n * std::log(v / n);
  for (double v : c.b) hb -= v / n * std::log(v / n);
  for (int i = 0; i < c.rows; ++i)
    for (int j = 0; j < c.cols; ++j) {
      const double v = c.n[static_cast<std::size_t>(i) * c.cols + j];
      if (v > 0.0) mi += v / n * std::log(v * n / (c.a[i] * c.b[j]));
    }
  const double norm = 0.5 * (ha + hb);
  if (norm <= 1e-15) return 1.0;
  return std::clamp(mi / norm, 0.0, 1.0);
}

double normalized_mutual_information(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b) {
  const auto wa = widen(a), wb = widen(b);
  return normalized_mutual_information(std::span<const std::int64_t>(wa), std::span<const std::int64_t>(wb));
}

double purity(std::span<const std::int64_t> truth, std::span<const std::int64_t> clusters) {
  if (truth.empty()) return 1.0;
  const Contingency c = contingency(clusters, truth);
  double hits = 0.0;
  for (int i = 0; i < c.rows; ++i) {
    double best = 0.0;
    for (int j = 0; j < c.cols; ++j) best = std::max(best, c.n[static_cast<std::size_t>(i) * c.cols + j]);
    hits += best;
  }
  return hits / c.total;
}

double purity(std::span<const std::uint32_t> truth, std::span<const std::uint32_t> clusters) {
  const auto wt = widen(truth), wc = widen(clusters);
  return purity(std::span<const std::int64_t>(wt), std::span<const std::int64_t>(wc));
}

double silhouette(std::span<const FeatureVector> points, std::span<const std::int64_t> labels) {
  assert(points.size() == labels.size());
  int m = 0;
  const auto dense = densify(labels, &m);
  if (m < 2) return 0.0;
  const std::size_t n = points.size();
  std::vector<double> count(m, 0.0);
  for (int l : dense) count[l] += 1.0;
  std::vector<double> sum(m);
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (std::size_t k = 0; k < n; ++k) {
      if (k == i) continue;
      double d2 = 0.0;
      for (int j = 0; j < kFeatureCount; ++j) {
        const double t = points[i][j] - points[k][j];
        d2 += t * t;
      }
      sum[dense[k]] += std::sqrt(d2);
    }
    const int own = dense[i];
    if (count[own] <= 1.0) continue;  // singleton: s = 0
    const double a = sum[own] / (count[own] - 1.0);
    double b = INFINITY;
    for (int l = 0; l < m; ++l)
      if (l != own && count[l] > 0.0) b = std::min(b, sum[l] / count[l]);
    const double denom = std::max(a, b);
    if (denom > 0.0) total += (b - a) / denom;
  }
  return total / static_cast<double>(n);
}

}  // namespace segmentd
