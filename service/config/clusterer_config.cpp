#include "service/config/clusterer_config.h"

#include <algorithm>

#include "core/str_cat.h"

namespace segmentd {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000LL;
constexpr std::int64_t kDay = 86400 * kSecond;

void read_policy(ConfigSection& s, SegmentPolicy* p) {
  s.number("margin_multiplier", &p->margin_multiplier, 0.01, 100);
  s.number("quote_width_bps", &p->quote_width_bps, 0, 10'000);
  s.number("max_order_notional_usd", &p->max_order_notional_usd, 0, 1e15);
}

//! A policy table: the calm values at its top level, then optional `stressed` and `extreme`
//! sub-tables (market regimes, core/market_regime.h); a key a regime does not set keeps the milder
//! regime's value, so a table with neither keeps its calm policy in every regime.
void read_policies(ConfigSection& s, RegimePolicies* p) {
  constexpr auto kCalm = static_cast<std::size_t>(Regime::kCalm);
  read_policy(s, &(*p)[kCalm]);
  for (std::size_t r = kCalm + 1; r < kRegimeCount; ++r) {
    const char* name = to_string(static_cast<Regime>(r));
    (*p)[r] = (*p)[r - 1];
    ConfigSection rs(s.table(name), str_cat(s.path(), ".", name), s.errors());
    read_policy(rs, &(*p)[r]);
  }
}

}  // namespace

void read_clusterer(ConfigSection& root, ClustererConfig* c) {
  ConfigSection s(root.table("clusterer"), "clusterer", root.errors());
  s.integer("k", &c->k, 1, 256);
  std::int64_t batch_size = static_cast<std::int64_t>(c->batch_size);
  s.integer("batch_size", &batch_size, 1, 1 << 22);
  c->batch_size = static_cast<std::size_t>(batch_size);
  s.duration_ns("batch_interval", &c->batch_interval_ns, 1'000'000, 3600 * kSecond);
  std::int64_t min_accounts = static_cast<std::int64_t>(c->min_accounts);
  s.integer("min_accounts", &min_accounts, 1, 100'000'000);
  c->min_accounts = static_cast<std::size_t>(min_accounts);
  std::int64_t min_fills = c->min_fills;
  s.integer("min_fills", &min_fills, 1, 1'000'000);
  c->min_fills = static_cast<std::uint32_t>(min_fills);
  s.duration_ns("half_life", &c->half_life_ns, 0, 365 * kDay);
  s.duration_ns("scaler_half_life", &c->scaler_half_life_ns, kSecond, 365 * kDay);
  s.number("rescale_tolerance", &c->rescale_tolerance, 0, 10);
  s.number("reseed_ratio", &c->reseed_ratio, 0, 1);
  s.duration_ns("vote_horizon", &c->vote_horizon_ns, 0, 365 * kDay);
  s.duration_ns("restart_interval", &c->restart_interval_ns, 0, 365 * kDay);
  s.number("restart_gain", &c->restart_gain, 0, 0.99);
  s.integer("seeds", &c->seeds, 1, 64);
  s.integer("warmup_iterations", &c->warmup_iterations, 1, 10'000);
  std::int64_t sample = static_cast<std::int64_t>(c->sample_size);
  s.integer("sample_size", &sample, 16, 1 << 22);
  c->sample_size = static_cast<std::size_t>(sample);
  s.duration_ns("sample_ttl", &c->sample_ttl_ns, 0, 365 * kDay);
  std::int64_t seed = static_cast<std::int64_t>(c->seed);
  s.integer("seed", &seed, 0, INT64_MAX);
  c->seed = static_cast<std::uint64_t>(seed);
  s.duration_ns("publish_interval", &c->publish_interval_ns, 0, 3600 * kSecond);
  s.duration_ns("quality_interval", &c->quality_interval_ns, kSecond / 10, 3600 * kSecond);
  std::int64_t sil = static_cast<std::int64_t>(c->silhouette_points);
  s.integer("silhouette_points", &sil, 2, 100'000);
  c->silhouette_points = static_cast<std::size_t>(sil);
  s.number("hysteresis_margin", &c->assigner.hysteresis_margin, 0, 0.99);
  s.duration_ns("min_dwell", &c->assigner.min_dwell_ns, 0, 365 * kDay);

  // [clusterer.weights]: feature name → weight (0 switches a feature off).
  if (const toml::table* w = s.table("weights")) {
    ConfigSection ws(w, "clusterer.weights", root.errors());
    for (int i = 0; i < kFeatureCount; ++i) ws.number(kFeatureNames[i], &c->feature_weights[i], 0, 100);
  }

  // [[clusterer.labels]]: ordered; first match wins. Given at all, they replace the defaults.
  auto label_tables = s.tables("labels");
  if (!label_tables.empty()) {
    LabelRules rules;
    rules.fallback = c->labels.fallback;
    rules.hysteresis = c->labels.hysteresis;
    for (const toml::table* t : label_tables) {
      ConfigSection ls(t, "clusterer.labels[]", root.errors());
      std::string label, when;
      ls.string("label", &label, false);
      ls.string("when", &when);
      if (!ls.has("label")) {
        ls.error("label", "is required");
        continue;
      }
      auto rule = parse_rule(label, when);
      if (!rule.ok())
        ls.error(ls.has("when") ? "when" : "label", std::string(rule.status().message()));
      else
        rules.rules.push_back(*std::move(rule));
    }
    c->labels = std::move(rules);
  }
  s.string("fallback_label", &c->labels.fallback, false);
  s.number("label_hysteresis", &c->labels.hysteresis, 0, 1);

  // [[clusterer.policies]]: label → policy. Given at all, they replace the defaults.
  auto policy_tables = s.tables("policies");
  if (!policy_tables.empty()) {
    PolicyRules rules;
    rules.fallback = c->policies.fallback;
    for (const toml::table* t : policy_tables) {
      ConfigSection ps(t, "clusterer.policies[]", root.errors());
      PolicyRule r;
      ps.string("label", &r.label, false);
      if (!ps.has("label")) ps.error("label", "is required");
      read_policies(ps, &r.policies);
      ps.number("dynamic_margin_cap", &r.dynamic_margin_cap, 0, 100);
      rules.rules.push_back(std::move(r));
    }
    c->policies = std::move(rules);
  }
  if (const toml::table* f = s.table("fallback_policy")) {
    ConfigSection fs(f, "clusterer.fallback_policy", root.errors());
    read_policies(fs, &c->policies.fallback);
    fs.number("dynamic_margin_cap", &c->policies.fallback_dynamic_margin_cap, 0, 100);
  }
  if (auto st = validate(*c); !st.ok()) s.error("k", std::string(st.message()));
}

}  // namespace segmentd
