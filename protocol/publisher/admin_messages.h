#pragma once
// JSON bodies of the admin HTTP API (/readyz, /v1/segments, /v1/accounts/{id}) and the view of
// one account that the service assembles for /v1/accounts (from its shard, on request).

#include <cstdint>
#include <string>
#include <vector>

#include "core/feature_vector.h"
#include "core/model.h"
#include "core/segment_change.h"
#include "core/types.h"

namespace segmentd {

struct SegmentDistance {
  SegmentId segment = kNoSegment;
  double distance = 0.0;  //!< Euclidean, in the model's scaled space
};

//! One account as its shard sees it now (a copy; the admin API never reads live shard state).
struct AccountView {
  std::string account;              //!< name
  FeatureVector features_raw{};     //!< original units
  FeatureVector features_scaled{};  //!< (raw − mean) / stddev × weight of the model's scaler
  SegmentId segment = kNoSegment;
  double confidence = 0.0;                    //!< 1 − d1/d2
  std::int64_t segment_since_ns = 0;          //!< event time it entered `segment` (dwell start)
  std::int64_t last_fill_ns = 0;              //!< event time of its last fill
  std::uint64_t fills = 0;                    //!< fills seen (not decayed)
  std::uint64_t model_version = 0;            //!< the model the distances are computed against
  std::vector<SegmentDistance> distances;     //!< to every live centroid
  std::vector<SegmentChange> recent_changes;  //!< newest last
};

struct ReadinessCheck {
  std::string name;  //!< e.g. "sources", "model"
  bool ok = false;
  std::string detail;  //!< e.g. "3/4 connected; okx: reconnecting"
};

namespace adminmsg {

//! {"ready":bool,"checks":[{"name","ok","detail"}]}
void append_readiness(std::string& out, const std::vector<ReadinessCheck>& checks);
//! {"ready":bool,"model":{...}|null}: the model in original units (same object as the publisher's).
void append_segments(std::string& out, const Model* model);
//! The account view; labels of its segment and of every distance come from `model` (may be null).
void append_account(std::string& out, const AccountView& view, const Model* model);
//! {"error":"...","message":"..."}
void append_error(std::string& out, std::string_view error, std::string_view message);

}  // namespace adminmsg
}  // namespace segmentd
