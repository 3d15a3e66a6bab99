#pragma once
// A change of an account's segment, as shards emit it and the publisher sends it
// (protocol/publisher/publisher.md segment_change). Plain data: the publisher adds seq and encodes it.

#include <array>
#include <cstdint>

#include "core/feature_vector.h"
#include "core/types.h"

namespace segmentd {

//! One feature that moved the account, with its value in raw units.
struct ChangeReason {
  std::int8_t feature = -1;    //!< index into kFeatureNames; −1 = unused slot
  double value = 0.0;          //!< the account's value, raw units
  double centroid_from = 0.0;  //!< the old segment's centroid, raw units
  double centroid_to = 0.0;    //!< the new segment's centroid, raw units
};

inline constexpr int kMaxReasons = 3;

struct SegmentChange {
  std::int64_t ts_ns = 0;    //!< event time of the fill batch that caused it
  std::int64_t recv_ns = 0;  //!< receive time of the latest fill behind it (latency tracking)
  AccountId account = 0;
  SegmentId from = kNoSegment;  //!< kNoSegment for a first assignment
  SegmentId to = kNoSegment;
  double confidence = 0.0;  //!< 1 − d1/d2
  std::uint64_t model_version = 0;
  std::array<ChangeReason, kMaxReasons> reasons{};
  //! Why: assignment after warm-up, moved by hysteresis, or forced because `from` was retired.
  enum class Cause : std::uint8_t { kFirstAssignment, kMoved, kSegmentRetired } cause = Cause::kMoved;
};

}  // namespace segmentd
