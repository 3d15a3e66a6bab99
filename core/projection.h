#pragma once
// A 2-D picture of the accounts (the console's map): the two principal axes of a sample of
// scaled feature vectors, kept stable from one model version to the next so that points move
// only when the accounts' behaviour does.
//
// Stability: the axes are fitted once and refitted only when the model's scaler changes (a
// rescale changes the scaled space itself). A refit is rotated (or reflected) onto the previous
// axes within their plane as far as it goes (an orthogonal Procrustes fit of the 2×2 block), so
// a picture does not flip or spin because an eigen-solver chose another sign or order.

#include <array>
#include <vector>

#include "core/feature_vector.h"

namespace segmentd {

struct Projection2D {
  std::array<FeatureVector, 2> axes{};  //!< orthonormal, in scaled space
  bool valid = false;

  //! The point's coordinates on the two axes (scaled space; the origin is the population mean).
  std::array<double, 2> apply(const FeatureVector& scaled) const {
    std::array<double, 2> xy{};
    for (int a = 0; a < 2; ++a)
      for (int f = 0; f < kFeatureCount; ++f) xy[a] += axes[a][f] * scaled[f];
    return xy;
  }
};

//! The two principal axes of `points` (centred on their mean), aligned to `previous` when it is
//! valid. Fewer than 3 points, or no variance: the first two coordinate axes with variance (or
//! the previous projection, when valid).
Projection2D fit_projection(const std::vector<FeatureVector>& points, const Projection2D& previous);

}  // namespace segmentd
