#pragma once
// The per-account assignment decision a shard takes against the current Model (docs/architecture.md, "The model and
// segments"): nearest centre, hysteresis, confidence and reasons. A pure function: the shard keeps the account's
// current segment and the time it entered it, and applies the decision.
//
// Hysteresis: an account in segment s moves to the nearest centre c only when
//   d(x,c)² < (1 − margin) · d(x,s)²   and   now − since ≥ min_dwell.
// An account whose segment is no longer in the model (retired) moves at once (cause
// kSegmentRetired); an account without a segment gets the nearest (cause kFirstAssignment).
//
// Cost: one scaling of x and k distance evaluations; no allocation. Safe to call from any thread
// on a shared const Model.

#include <cstdint>

#include "core/feature_vector.h"
#include "core/model.h"
#include "core/segment_change.h"
#include "core/types.h"

namespace segmentd {

struct AssignerConfig {
  double hysteresis_margin = 0.4;                      //!< in [0, 1): 0 = plain nearest centre
  std::int64_t min_dwell_ns = 60LL * 1'000'000'000LL;  //!< event time in a segment before a move
};

struct NearestCentres {
  int first = -1;   //!< index into Model::segments of the nearest; −1 when the model has none
  int second = -1;  //!< runner-up; −1 when the model has one segment
  double d1 = 0.0;  //!< squared distances, scaled space
  double d2 = 0.0;
};

//! Nearest and runner-up centre of an already scaled vector.
NearestCentres nearest_centres(const Model& model, const FeatureVector& scaled);

struct AssignDecision {
  SegmentId segment = kNoSegment;  //!< the account's segment after the decision
  SegmentId nearest = kNoSegment;  //!< nearest centre (may differ from segment under hysteresis)
  double confidence = 0.0;         //!< 1 − d₁/d₂ of the nearest two centres, in [0, 1]
  double distance2 = 0.0;          //!< squared scaled distance to `segment`
  bool changed = false;            //!< `change` is filled and must be emitted
  SegmentChange change;            //!< account, from, to, confidence, model_version, reasons,
                                   //!< cause, ts_ns = now; the shard sets recv_ns
};

//! The decision for an account with raw features `raw`, currently in `current` (kNoSegment if
//! none) since `since_ns`, at event time `now_ns`. A model that is not ready() keeps `current`.
//!
//! Reasons: the kMaxReasons features that contribute most to preferring the new centre over the
//! old one, Δⱼ = (xⱼ − fromⱼ)² − (xⱼ − toⱼ)² in scaled space, reported in raw units. For a first
//! assignment or a move forced by retirement there is no old centroid in the model: the runner-up
//! centre stands in for it (centroid_from is the runner-up's raw centroid, or equals
//! centroid_to when the model has a single segment).
AssignDecision assign(const Model& model, const AssignerConfig& config, AccountId account, const FeatureVector& raw,
                      SegmentId current, std::int64_t since_ns, std::int64_t now_ns);

}  // namespace segmentd
