#include "core/labels.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace segmentd {
namespace {

LabelCondition cond(Feature f, CompareOp op, double v) { return {f, op, v}; }

constexpr auto kLt = CompareOp::kLess;
constexpr auto kGt = CompareOp::kGreater;

bool holds(const LabelCondition& c, double x, double slack) {
  switch (c.op) {
    case CompareOp::kLess: return x < c.value + slack;
    case CompareOp::kLessEqual: return x <= c.value + slack;
    case CompareOp::kGreater: return x > c.value - slack;
    case CompareOp::kGreaterEqual: return x >= c.value - slack;
  }
  return false;
}

bool rule_matches(const LabelRule& r, const FeatureVector& raw, double hysteresis) {
  for (const auto& c : r.all_of) {
    const double slack = hysteresis * std::max(1.0, std::abs(c.value));
    if (!holds(c, raw[index(c.feature)], slack)) return false;
  }
  return true;
}

//! Whitespace-separated words of a string.
std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string_view op_text(CompareOp op) {
  switch (op) {
    case CompareOp::kLess: return "<";
    case CompareOp::kLessEqual: return "<=";
    case CompareOp::kGreater: return ">";
    case CompareOp::kGreaterEqual: return ">=";
  }
  return "?";
}

}  // namespace

// Thresholds are in raw feature units (feature_vector.h), calibrated on the feature means the
// simulator measures per archetype (tools/fillsim/README.md, "Expected values of the 16
// features"): each rule uses the features that separate its archetype by a wide margin there,
// and avoids trade_rate, whose level depends on the population and the venue's volume.
// Order matters (first match wins): the most specific behaviour comes first.
LabelRules default_label_rules() {
  LabelRules r;
  r.rules = {
      // Two-sided passive liquidity: maker 0.90, imbalance 0.01 (next highest maker: 0.61).
      {"market-maker", {cond(Feature::kMakerRatio, kGt, 0.75), cond(Feature::kDirectionImbalance, kLt, 0.2)}},
      // Perps both ways on a fast signal: perp 0.85, imbalance 0.00, maker 0.35, turnover 5.5.
      {"hft-scalper",
       {cond(Feature::kPerpShare, kGt, 0.6), cond(Feature::kDirectionImbalance, kLt, 0.1),
        cond(Feature::kMakerRatio, kGt, 0.2)}},
      {"hft-scalper", {cond(Feature::kTurnover, kGt, 4.5), cond(Feature::kOptionShare, kLt, 0.1)}},
      // Short vol: options 0.90, vega bias −0.96.
      {"option-premium-seller", {cond(Feature::kOptionShare, kGt, 0.6), cond(Feature::kVegaBias, kLt, -0.5)}},
      // Long OTM options in small tickets: options 0.95, vega +0.93, ticket 9.5 (≈ 13k USD).
      {"retail-option-lottery",
       {cond(Feature::kOptionShare, kGt, 0.6), cond(Feature::kVegaBias, kGt, 0.3),
        cond(Feature::kTicketSize, kLt, 11.0)}},
      // Hedged vol and basis books: delta neutrality 0.99 with options and futures both.
      {"delta-neutral",
       {cond(Feature::kDeltaNeutrality, kGt, 0.85), cond(Feature::kOptionShare, kGt, 0.15),
        cond(Feature::kFutureShare, kGt, 0.15)}},
      {"delta-neutral", {cond(Feature::kDeltaNeutrality, kGt, 0.9), cond(Feature::kFutureShare, kGt, 0.4)}},
      // Large one-way tickets, mostly perps: ticket 14.4 (≈ 1.8M USD), imbalance 0.64, perp 0.60.
      {"directional-whale",
       {cond(Feature::kTicketSize, kGt, 12.5), cond(Feature::kDirectionImbalance, kGt, 0.4),
        cond(Feature::kPerpShare, kGt, 0.3)}},
      // Large dated-future hedges: future 0.65, ticket 13.7.
      {"institutional-hedger", {cond(Feature::kFutureShare, kGt, 0.4), cond(Feature::kTicketSize, kGt, 12.0)}},
      // Small taker perp punts: perp 0.95, ticket 8.3 (≈ 4k USD), maker 0.10.
      {"retail-perp-gambler",
       {cond(Feature::kPerpShare, kGt, 0.7), cond(Feature::kTicketSize, kLt, 10.0),
        cond(Feature::kMakerRatio, kLt, 0.3)}},
      {"directional-whale", {cond(Feature::kTicketSize, kGt, 13.0), cond(Feature::kDirectionImbalance, kGt, 0.5)}},
  };
  r.fallback = "mixed";
  return r;
}

// Policies from the venue's point of view: margin multiplier on base initial margin, extra quoting
// half-spread the market-making desk shows this flow, and a per-order notional cap (0 = none).
PolicyRules default_policy_rules() {
  PolicyRules p;
  // Per regime: calm, stressed, extreme. Under stress every segment posts more margin and is
  // quoted wider, and the flows that hurt a book when the market breaks (toxic, short vol,
  // one-way leverage) most: their orders are capped lower too.
  p.rules = {
      // toxic, fast flow: widen quotes, and much more when the market breaks
      {"hft-scalper", {{{1.0, 3.0, 250'000}, {1.25, 6.0, 100'000}, {1.5, 12.0, 50'000}}}},
      // provides liquidity, two-sided inventory
      {"market-maker", {{{0.8, 1.0, 0}, {1.0, 2.0, 0}, {1.25, 4.0, 0}}}},
      // hedged book: portfolio margin relief, kept while hedges hold
      {"delta-neutral", {{{0.7, 0.5, 5'000'000}, {0.85, 1.0, 5'000'000}, {1.0, 2.0, 2'500'000}}}},
      // short vol: tail risk, the first to hurt in a vol spike
      {"option-premium-seller", {{{1.5, 1.0, 1'000'000}, {2.0, 2.0, 500'000}, {3.0, 4.0, 250'000}}}},
      // benign flow: tightest quotes
      {"retail-option-lottery", {{{1.0, 0.0, 50'000}, {1.0, 0.5, 50'000}, {1.25, 1.0, 25'000}}}},
      // large one-way risk, informed
      {"directional-whale", {{{1.3, 2.0, 10'000'000}, {1.6, 5.0, 5'000'000}, {2.0, 10.0, 2'000'000}}}},
      {"institutional-hedger", {{{0.9, 0.5, 20'000'000}, {1.0, 1.0, 20'000'000}, {1.2, 2.0, 10'000'000}}}},
      // leveraged, benign for quoting; liquidated first in a crash
      {"retail-perp-gambler", {{{1.2, 0.0, 100'000}, {1.5, 0.5, 50'000}, {2.0, 1.0, 25'000}}}},
  };
  p.fallback = {{{1.0, 0.5, 1'000'000}, {1.25, 1.0, 500'000}, {1.5, 2.0, 250'000}}};
  return p;
}

absl::StatusOr<LabelCondition> parse_condition(std::string_view text) {
  const auto fail = [text](std::string_view why, std::string_view what) {
    return absl::InvalidArgumentError(
        std::string("label condition '").append(text).append("': ").append(why).append(what));
  };
  const std::vector<std::string_view> parts = words(text);
  if (parts.size() != 3) return fail("expected `feature op value`", "");
  LabelCondition c;
  const auto it = std::find(kFeatureNames.begin(), kFeatureNames.end(), parts[0]);
  if (it == kFeatureNames.end()) return fail("unknown feature ", parts[0]);
  c.feature = static_cast<Feature>(it - kFeatureNames.begin());
  if (parts[1] == "<")
    c.op = CompareOp::kLess;
  else if (parts[1] == "<=")
    c.op = CompareOp::kLessEqual;
  else if (parts[1] == ">")
    c.op = CompareOp::kGreater;
  else if (parts[1] == ">=")
    c.op = CompareOp::kGreaterEqual;
  else
    return fail("unknown operator ", parts[1]);
  const char* end = parts[2].data() + parts[2].size();
  const auto [ptr, ec] = std::from_chars(parts[2].data(), end, c.value);
  if (ec != std::errc() || ptr != end || !std::isfinite(c.value)) return fail("bad number ", parts[2]);
  return c;
}

absl::StatusOr<LabelRule> parse_rule(std::string_view label, std::string_view conditions) {
  LabelRule rule;
  const std::vector<std::string_view> label_words = words(label);
  if (label_words.size() != 1) return absl::InvalidArgumentError("label rule: the label must be one word");
  rule.label = std::string(label_words[0]);
  if (words(conditions).empty()) return rule;
  std::size_t pos = 0;
  while (true) {
    const std::size_t next = conditions.find(" and ", pos);
    auto c =
        parse_condition(conditions.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (!c.ok()) return c.status();
    rule.all_of.push_back(*c);
    if (next == std::string_view::npos) break;
    pos = next + 5;
  }
  return rule;
}

std::string format_condition(const LabelCondition& c) {
  std::string out(feature_name(c.feature));
  out.append(" ").append(op_text(c.op)).append(" ");
  char buf[32];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, c.value);
  out.append(buf, ptr);
  return out;
}

std::string match_label(const LabelRules& rules, const FeatureVector& centroid_raw, std::string_view previous_base) {
  for (const auto& r : rules.rules) {
    const double h = (!previous_base.empty() && r.label == previous_base) ? rules.hysteresis : 0.0;
    if (rule_matches(r, centroid_raw, h)) return r.label;
  }
  return rules.fallback;
}

std::vector<SegmentLabel> assign_labels(const LabelRules& rules, std::span<const FeatureVector> centroids_raw,
                                        std::span<const SegmentLabel> previous) {
  const std::size_t n = centroids_raw.size();
  std::vector<SegmentLabel> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view prev = i < previous.size() ? std::string_view(previous[i].base) : "";
    out[i].base = match_label(rules, centroids_raw[i], prev);
  }
  const auto taken = [&out](std::string_view label) {
    for (const auto& l : out)
      if (l.unique == label) return true;
    return false;
  };
  // Keep: same base as before and the previous unique label still free.
  for (std::size_t i = 0; i < n && i < previous.size(); ++i)
    if (!previous[i].unique.empty() && previous[i].base == out[i].base && !taken(previous[i].unique))
      out[i].unique = previous[i].unique;
  // The rest, in order of segment id: the first free of base, base-2, base-3, ...
  for (std::size_t i = 0; i < n; ++i) {
    if (!out[i].unique.empty()) continue;
    std::string candidate = out[i].base;
    for (int suffix = 2; taken(candidate); ++suffix) candidate = out[i].base + "-" + std::to_string(suffix);
    out[i].unique = std::move(candidate);
  }
  return out;
}

const RegimePolicies& policies_for(const PolicyRules& rules, std::string_view base_label) {
  for (const auto& r : rules.rules)
    if (r.label == base_label) return r.policies;
  return rules.fallback;
}

double dynamic_margin_cap_for(const PolicyRules& rules, std::string_view base_label) {
  for (const auto& r : rules.rules)
    if (r.label == base_label) return r.dynamic_margin_cap;
  return rules.fallback_dynamic_margin_cap;
}

SegmentPolicy policy_for(const PolicyRules& rules, std::string_view base_label) {
  return policies_for(rules, base_label)[static_cast<std::size_t>(Regime::kCalm)];
}

}  // namespace segmentd
