#pragma once
// Readable segment labels and per-segment policy (docs/architecture.md, "The model and segments").
//
// Label rules are an ordered list; a rule is a conjunction of conditions `feature op value` on the
// segment's centroid in original units; the first rule that matches wins, else the fallback label.
// Several rules may share a label (a disjunction). Two segments that land on the same label are
// told apart by a suffix (`market-maker`, `market-maker-2`, ...), so labels are unique within a
// model; a segment keeps its suffix as long as its base label does not change.
//
// Label hysteresis: the rules that gave a segment its previous label are evaluated with thresholds
// relaxed by `hysteresis` (relative, see LabelRules), so a centroid hovering at a threshold does not
// relabel on every model version. Rule priority is kept: an earlier rule that matches strictly
// still wins.
//
// Policy rules map a base label (without suffix) to a SegmentPolicy; unknown labels get the
// fallback policy.
//
// Pure functions over plain data.

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/feature_vector.h"
#include "core/model.h"

namespace segmentd {

enum class CompareOp : std::uint8_t { kLess, kLessEqual, kGreater, kGreaterEqual };

struct LabelCondition {
  Feature feature = Feature::kTradeRate;
  CompareOp op = CompareOp::kGreater;
  double value = 0.0;  //!< raw (original) units of the feature
};

struct LabelRule {
  std::string label;
  std::vector<LabelCondition> all_of;  //!< empty = always matches
};

struct LabelRules {
  std::vector<LabelRule> rules;
  std::string fallback = "mixed";
  //! Relaxation of the previous label's thresholds: hysteresis × max(1, |value|) raw units.
  double hysteresis = 0.02;
};

//! A label's policy in each market regime, indexed by Regime: calm, stressed, extreme. A regime a
//! config rule does not set takes the milder regime's values (config/README.md).
using RegimePolicies = std::array<SegmentPolicy, kRegimeCount>;

struct PolicyRule {
  std::string label;  //!< base label, no suffix
  RegimePolicies policies;
  //! Dynamic margin (core/scenario.h, dynamic_margin_multiplier): > 0 raises the margin
  //! multiplier until the segment's margin estimate covers its worst shock scenario loss, at most
  //! to this; 0 = the fixed multipliers of `policies`.
  double dynamic_margin_cap = 0.0;
};

struct PolicyRules {
  std::vector<PolicyRule> rules;
  RegimePolicies fallback;
  double fallback_dynamic_margin_cap = 0.0;
};

//! The default archetypes of a crypto derivatives venue (see labels.cpp for the thresholds).
LabelRules default_label_rules();
PolicyRules default_policy_rules();

//! Parses `maker_ratio > 0.7` (ops: < <= > >=; feature names from kFeatureNames).
absl::StatusOr<LabelCondition> parse_condition(std::string_view text);
//! Parses `maker_ratio > 0.7 and direction_imbalance < 0.3` into a rule with the given label.
absl::StatusOr<LabelRule> parse_rule(std::string_view label, std::string_view conditions);
std::string format_condition(const LabelCondition& c);

//! Base label of one centroid. `previous_base` ("" for a new segment) gets the relaxed thresholds.
std::string match_label(const LabelRules& rules, const FeatureVector& centroid_raw, std::string_view previous_base);

struct SegmentLabel {
  std::string base;    //!< the rule's label
  std::string unique;  //!< base plus "-N" when an older segment has the same base
};

//! Labels for the centroids of one model, given in order of segment id; `previous` is parallel to
//! it (empty strings for a new segment). A segment whose base is unchanged keeps its previous unique
//! label, so one segment changing never renames another; the others get the first free of base,
//! base-2, base-3, ... in order of segment id.
std::vector<SegmentLabel> assign_labels(const LabelRules& rules, std::span<const FeatureVector> centroids_raw,
                                        std::span<const SegmentLabel> previous);

//! Policies of a base label in every regime (the fallback's for a label no rule names).
const RegimePolicies& policies_for(const PolicyRules& rules, std::string_view base_label);
//! The dynamic margin cap of a base label (0: fixed margin).
double dynamic_margin_cap_for(const PolicyRules& rules, std::string_view base_label);
//! Policy of a base label in a calm market.
SegmentPolicy policy_for(const PolicyRules& rules, std::string_view base_label);

}  // namespace segmentd
