#include "core/labels.h"

#include <catch2/catch.hpp>

using namespace segmentd;

namespace {

//! A neutral centroid: matches no default rule.
FeatureVector neutral() {
  FeatureVector v{};
  v[index(Feature::kTradeRate)] = 2.0;
  v[index(Feature::kTicketSize)] = 9.5;
  v[index(Feature::kMakerRatio)] = 0.4;
  v[index(Feature::kDirectionImbalance)] = 0.45;
  v[index(Feature::kDeltaNeutrality)] = 0.5;
  v[index(Feature::kPerpShare)] = 0.4;
  v[index(Feature::kFutureShare)] = 0.3;
  v[index(Feature::kOptionShare)] = 0.3;
  v[index(Feature::kTurnover)] = 1.0;
  return v;
}

FeatureVector with(FeatureVector v, std::initializer_list<std::pair<Feature, double>> kv) {
  for (const auto& [f, x] : kv) v[index(f)] = x;
  return v;
}

}  // namespace

// Mean features of each simulator archetype, as tools/fillsim/README.md measures them
// (trade_rate … exposure; vega_bias and moneyness 0 where the archetype holds no options).
FeatureVector archetype(const std::array<double, kFeatureCount>& v) { return v; }

TEST_CASE("default rules name the derivatives archetypes", "[labels]") {
  const LabelRules r = default_label_rules();
  CHECK(match_label(r, neutral(), "") == "mixed");
  const std::vector<std::pair<std::string, FeatureVector>> cases = {
      {"market-maker",
       archetype({9.15, 19.5, 10.3, 0.90, 0.01, 0.99, 0.0, 0.47, 0.14, 0.40, 2.96, 0.06, 0.54, 3.10, 62.2, 15.9})},
      {"delta-neutral",
       archetype({7.68, 19.5, 11.9, 0.42, 0.14, 0.99, -0.06, 0.38, 0.31, 0.31, 3.79, 0.03, 0.61, 2.29, -0.2, 17.7})},
      {"directional-whale",
       archetype({5.82, 20.2, 14.4, 0.10, 0.64, 0.03, 1.0, 0.10, 0.30, 0.60, 3.46, 0.04, 0.90, 1.87, 3.86, 19.1})},
      {"retail-option-lottery",
       archetype({5.45, 15.0, 9.52, 0.05, 0.83, 0.59, 0.93, 0.95, 0.0, 0.05, 1.35, 0.16, 0.86, 1.68, -4413, 11.3})},
      {"hft-scalper",
       archetype({10.1, 20.2, 10.1, 0.35, 0.0, 0.90, 0.0, 0.0, 0.15, 0.85, 1.17, 0.0, 0.51, 5.46, 0.39, 15.1})},
      {"option-premium-seller",
       archetype({6.69, 17.8, 11.2, 0.61, 0.73, 0.98, -0.96, 0.90, 0.0, 0.10, 2.59, 0.10, 0.54, 1.79, 48.7, 15.4})},
      {"retail-perp-gambler",
       archetype({6.13, 14.5, 8.32, 0.10, 0.20, 0.07, 0.0, 0.0, 0.05, 0.95, 0.19, 0.0, 0.83, 2.97, -1.23, 12.1})},
      {"institutional-hedger",
       archetype({4.61, 18.3, 13.7, 0.45, 0.24, 0.05, 0.86, 0.30, 0.65, 0.05, 4.35, 0.12, 0.90, 1.80, -2.54, 17.0})},
  };
  for (const auto& [label, v] : cases) {
    INFO(label);
    CHECK(match_label(r, v, "") == label);
  }
}

TEST_CASE("labels are unique per model, older segments keep the plain label", "[labels]") {
  const LabelRules r = default_label_rules();
  const FeatureVector mm = with(neutral(), {{Feature::kMakerRatio, 0.9}, {Feature::kDirectionImbalance, 0.1}});
  const std::vector<FeatureVector> cs = {mm, neutral(), mm, mm};
  const auto labels = assign_labels(r, cs, {});
  REQUIRE(labels.size() == 4);
  CHECK(labels[0].unique == "market-maker");
  CHECK(labels[1].unique == "mixed");
  CHECK(labels[2].unique == "market-maker-2");
  CHECK(labels[3].unique == "market-maker-3");
  CHECK(labels[3].base == "market-maker");
}

TEST_CASE("a segment keeps its suffix when another one changes label", "[labels]") {
  const LabelRules r = default_label_rules();
  const FeatureVector mm = with(neutral(), {{Feature::kMakerRatio, 0.9}, {Feature::kDirectionImbalance, 0.1}});
  const FeatureVector hft = with(neutral(), {{Feature::kTurnover, 5.0}, {Feature::kOptionShare, 0.0}});
  std::vector<FeatureVector> cs = {mm, mm};
  auto labels = assign_labels(r, cs, {});
  REQUIRE(labels[1].unique == "market-maker-2");
  // The older market maker turns into a scalper: the younger keeps "market-maker-2" (no cascade).
  cs[0] = hft;
  labels = assign_labels(r, cs, labels);
  CHECK(labels[0].unique == "hft-scalper");
  CHECK(labels[1].unique == "market-maker-2");
  // A newcomer takes the first free name.
  cs.push_back(mm);
  labels = assign_labels(r, cs, labels);
  CHECK(labels[2].unique == "market-maker");
}

TEST_CASE("the previous label is sticky within the hysteresis band, priority is kept", "[labels]") {
  const LabelRules r = default_label_rules();
  // maker_ratio just under the 0.75 threshold: a new segment is not a market maker...
  const FeatureVector edge = with(neutral(), {{Feature::kMakerRatio, 0.74}, {Feature::kDirectionImbalance, 0.1}});
  CHECK(match_label(r, edge, "") == "mixed");
  // ...but one that was keeps its label inside the band (0.75 − 0.02).
  CHECK(match_label(r, edge, "market-maker") == "market-maker");
  CHECK(match_label(r, with(edge, {{Feature::kMakerRatio, 0.6}}), "market-maker") == "mixed");
  // An earlier rule that matches strictly still wins over the sticky one: a new centroid
  // matching the first rule (market-maker) strictly beats a sticky later one.
  const FeatureVector mm = with(neutral(), {{Feature::kMakerRatio, 0.9}, {Feature::kDirectionImbalance, 0.05}});
  CHECK(match_label(r, mm, "retail-perp-gambler") == "market-maker");
}

TEST_CASE("conditions and rules parse from config text", "[labels]") {
  auto c = parse_condition("maker_ratio > 0.7");
  REQUIRE(c.ok());
  CHECK(c->feature == Feature::kMakerRatio);
  CHECK(c->op == CompareOp::kGreater);
  CHECK(c->value == 0.7);
  CHECK(format_condition(*c) == "maker_ratio > 0.7");
  CHECK_FALSE(parse_condition("maker_ratio >> 0.7").ok());
  CHECK_FALSE(parse_condition("makers > 0.7").ok());
  CHECK_FALSE(parse_condition("maker_ratio > x").ok());
  CHECK_FALSE(parse_condition("maker_ratio >").ok());
  auto rule = parse_rule("market-maker", "maker_ratio > 0.7 and delta_neutrality >= 0.8");
  REQUIRE(rule.ok());
  CHECK(rule->all_of.size() == 2);
  CHECK(rule->all_of[1].op == CompareOp::kGreaterEqual);
  CHECK_FALSE(parse_rule("", "maker_ratio > 0.7").ok());
}

TEST_CASE("policy comes from the base label, unknown labels get the fallback", "[labels]") {
  const PolicyRules p = default_policy_rules();
  CHECK(policy_for(p, "option-premium-seller").margin_multiplier == 1.5);
  CHECK(policy_for(p, "hft-scalper").quote_width_bps == 3.0);
  CHECK(policy_for(p, "no-such-label").margin_multiplier == p.fallback[0].margin_multiplier);
  CHECK(&policies_for(p, "no-such-label") == &p.fallback);
  CHECK(policies_for(p, "hft-scalper")[static_cast<std::size_t>(Regime::kExtreme)].quote_width_bps == 12.0);
  for (const auto& rule : default_label_rules().rules) {
    bool found = false;
    for (const auto& pr : p.rules) found |= pr.label == rule.label;
    CHECK(found);  // every default label has a default policy
  }
  // Under stress no default loosens: margin and quote width never fall, the order cap never rises
  // (0 = no limit stays 0).
  std::vector<RegimePolicies> all;
  for (const auto& pr : p.rules) all.push_back(pr.policies);
  all.push_back(p.fallback);
  for (const RegimePolicies& r : all)
    for (std::size_t i = 1; i < kRegimeCount; ++i) {
      CHECK(r[i].margin_multiplier >= r[i - 1].margin_multiplier);
      CHECK(r[i].quote_width_bps >= r[i - 1].quote_width_bps);
      CHECK((r[i].max_order_notional_usd == 0) == (r[i - 1].max_order_notional_usd == 0));
      if (r[i].max_order_notional_usd > 0) CHECK(r[i].max_order_notional_usd <= r[i - 1].max_order_notional_usd);
    }
}
