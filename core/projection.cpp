#include "core/projection.h"

#include <cmath>

namespace segmentd {
namespace {

using Matrix = std::array<FeatureVector, kFeatureCount>;

double dot(const FeatureVector& a, const FeatureVector& b) {
  double s = 0.0;
  for (int f = 0; f < kFeatureCount; ++f) s += a[f] * b[f];
  return s;
}

bool normalize(FeatureVector& v) {
  const double n = std::sqrt(dot(v, v));
  if (!(n > 1e-12)) return false;
  for (double& x : v) x /= n;
  return true;
}

//! The leading eigenvector of the symmetric `c` orthogonal to `against` (may be null) by power
//! iteration from a fixed start: deterministic for a given matrix.
bool leading_axis(const Matrix& c, const FeatureVector* against, FeatureVector& out) {
  FeatureVector v{};
  for (int f = 0; f < kFeatureCount; ++f) v[f] = 1.0 + 0.01 * f;  // not orthogonal to any axis by chance
  auto deflate = [&](FeatureVector& x) {
    if (against == nullptr) return;
    const double d = dot(x, *against);
    for (int f = 0; f < kFeatureCount; ++f) x[f] -= d * (*against)[f];
  };
  deflate(v);
  if (!normalize(v)) return false;
  for (int it = 0; it < 500; ++it) {
    FeatureVector w{};
    for (int i = 0; i < kFeatureCount; ++i)
      for (int j = 0; j < kFeatureCount; ++j) w[i] += c[i][j] * v[j];
    deflate(w);
    if (!normalize(w)) return false;
    double change = 0.0;
    for (int f = 0; f < kFeatureCount; ++f) change = std::fmax(change, std::fabs(w[f] - v[f]));
    v = w;
    if (change < 1e-10) break;
  }
  out = v;
  return true;
}

}  // namespace

Projection2D fit_projection(const std::vector<FeatureVector>& points, const Projection2D& previous) {
  Projection2D p;
  if (points.size() >= 3) {
    FeatureVector mean{};
    for (const auto& x : points)
      for (int f = 0; f < kFeatureCount; ++f) mean[f] += x[f];
    for (double& m : mean) m /= static_cast<double>(points.size());
    Matrix c{};
    for (const auto& x : points)
      for (int i = 0; i < kFeatureCount; ++i)
        for (int j = 0; j < kFeatureCount; ++j) c[i][j] += (x[i] - mean[i]) * (x[j] - mean[j]);
    p.valid = leading_axis(c, nullptr, p.axes[0]) && leading_axis(c, &p.axes[0], p.axes[1]);
  }
  if (!p.valid) return previous.valid ? previous : p;
  if (!previous.valid) {
    // A first fit: each axis points where most of its weight is positive, a convention only.
    for (auto& axis : p.axes) {
      double s = 0.0;
      for (double x : axis) s += x;
      if (s < 0)
        for (double& x : axis) x = -x;
    }
    return p;
  }
  // Orthogonal Procrustes in the plane: the rotation or reflection R of the new axes that best
  // matches the previous ones (maximises Σ_a prev_a · (R new)_a). With m[a][b] = prev_a · new_b,
  // a rotation by θ scores (m00 + m11) cos θ + (m10 − m01) sin θ, a reflection
  // (m00 − m11) cos θ + (m01 + m10) sin θ; each is largest at θ = atan2 of its two terms.
  double m[2][2];
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) m[a][b] = dot(previous.axes[a], p.axes[b]);
  const double rot_c = m[0][0] + m[1][1], rot_s = m[1][0] - m[0][1];
  const double ref_c = m[0][0] - m[1][1], ref_s = m[0][1] + m[1][0];
  const bool reflect = std::hypot(ref_c, ref_s) > std::hypot(rot_c, rot_s);
  const double theta = reflect ? std::atan2(ref_s, ref_c) : std::atan2(rot_s, rot_c);
  const double co = std::cos(theta), si = std::sin(theta);
  Projection2D out;
  out.valid = true;
  for (int f = 0; f < kFeatureCount; ++f) {
    const double u = p.axes[0][f], v = p.axes[1][f];
    if (!reflect) {
      out.axes[0][f] = co * u - si * v;
      out.axes[1][f] = si * u + co * v;
    } else {
      out.axes[0][f] = co * u + si * v;
      out.axes[1][f] = si * u - co * v;
    }
  }
  return out;
}

}  // namespace segmentd
