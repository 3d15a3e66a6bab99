#pragma once
// Standalone clustering metrics: external (two labelings of the same items) and internal
// (silhouette). Used by the clusterer's quality signals and by the precision report against the
// simulator's ground truth. Labels are arbitrary integers; only equality matters.
//
// Pure functions; deterministic (no hash-map iteration reaches a result).

#include <cstdint>
#include <span>

#include "core/feature_vector.h"

namespace segmentd {

//! Adjusted Rand index (Hubert & Arabie 1985): 1 for identical partitions, ~0 for independent
//! ones. Two partitions that are both trivial (one cluster, or all singletons) give 1.
//! Requires a.size() == b.size(); empty input gives 1.
double adjusted_rand_index(std::span<const std::int64_t> a, std::span<const std::int64_t> b);
double adjusted_rand_index(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b);

//! Normalized mutual information, arithmetic-mean normalization (scikit-learn's default):
//! MI / ((H(a) + H(b)) / 2). Both partitions trivial (zero entropy) give 1.
double normalized_mutual_information(std::span<const std::int64_t> a, std::span<const std::int64_t> b);
double normalized_mutual_information(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b);

//! Purity of `clusters` against `truth`: share of items whose cluster's majority class is theirs.
double purity(std::span<const std::int64_t> truth, std::span<const std::int64_t> clusters);
double purity(std::span<const std::uint32_t> truth, std::span<const std::uint32_t> clusters);

//! Mean silhouette coefficient with Euclidean distance; items of singleton clusters score 0.
//! O(n² · d): call it on a sample. Fewer than two clusters gives 0.
double silhouette(std::span<const FeatureVector> points, std::span<const std::int64_t> labels);

}  // namespace segmentd
