#pragma once
// A fixed-size uniform sample of accounts with each one's latest feature vector: the accounts with
// the `capacity` smallest keys mix64(account, seed) (a bottom-k sketch). Which accounts are in it
// depends only on the set of accounts offered, never on the order or on how fills were split into
// shards, which keeps the warm start and the quality signals reproducible.
//
// The clusterer uses it for the k-means++ warm start, for splits, and for the quality signals.
// Entries not refreshed for a while are expired so the sample follows the live population.
//
// Owned by the clusterer thread; not thread-safe.

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/feature_vector.h"
#include "core/types.h"

namespace segmentd {

struct SampleEntry {
  AccountId account = 0;
  std::uint64_t key = 0;     //!< mix64(account, seed)
  std::int64_t seen_ns = 0;  //!< event time of the latest vector
  FeatureVector raw{};
  SegmentId last_nearest = kNoSegment;  //!< nearest segment at the previous quality evaluation
};

class AccountSample {
 public:
  AccountSample(std::size_t capacity, std::uint64_t seed);
  //! Restores from saved entries (as returned by entries()).
  AccountSample(std::size_t capacity, std::uint64_t seed, std::vector<SampleEntry> entries);

  //! Offers an account's latest vector: kept if the account is in the sample or its key is among
  //! the smallest `capacity` seen.
  void offer(AccountId account, const FeatureVector& raw, std::int64_t ts_ns);
  //! Drops entries last seen before `cutoff_ns`, keeping the order of the rest.
  void expire_before(std::int64_t cutoff_ns);

  const std::vector<SampleEntry>& entries() const { return entries_; }
  std::vector<SampleEntry>& mutable_entries() { return entries_; }
  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }

  //! Estimated number of distinct live accounts: the sample size while it is not full, else the
  //! bottom-k estimate (k − 1) / (largest key / 2⁶⁴).
  double estimated_population() const;

 private:
  void rebuild_index();

  std::size_t capacity_;
  std::uint64_t seed_;
  std::vector<SampleEntry> entries_;
  absl::flat_hash_map<AccountId, std::uint32_t> index_;  //!< lookup only, never iterated
  //! Max-heap of (key, slot in entries_): the eviction candidate in O(log k).
  std::vector<std::pair<std::uint64_t, std::uint32_t>> heap_;
};

}  // namespace segmentd
