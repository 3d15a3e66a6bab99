#pragma once
// Test helper: a population of accounts drawn from planted Gaussian blobs in feature space, fed
// to the clusterer as batches. Deterministic (own Rng).

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/clusterer.h"
#include "core/rng.h"

namespace segmentd::testing {

inline constexpr std::int64_t kSec = 1'000'000'000LL;

struct BlobWorld {
  BlobWorld(int k, int accounts, double stddev, std::uint64_t seed) : rng(seed), stddev(stddev) {
    centres.resize(k);
    for (auto& c : centres)
      for (auto& x : c) x = -10.0 + 20.0 * rng.uniform();
    truth.resize(accounts);
    for (auto& t : truth) t = static_cast<int>(rng.below(k));
    order.resize(accounts);
    for (int i = 0; i < accounts; ++i) order[i] = static_cast<AccountId>(i);
  }

  FeatureVector draw(AccountId a) {
    FeatureVector v = centres[truth[a]];
    for (auto& x : v) x += stddev * rng.normal();
    return v;
  }

  //! The next `n` accounts of a shuffled round over all accounts whose blob is active.
  std::vector<BatchItem> batch(std::size_t n) {
    std::vector<BatchItem> out;
    out.reserve(n);
    std::size_t guard = 0;
    while (out.size() < n && guard++ < 4 * order.size()) {
      if (cursor == order.size()) {
        for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
        cursor = 0;
      }
      const AccountId a = order[cursor++];
      if (!active(truth[a])) continue;
      out.push_back({a, 100, draw(a)});
    }
    return out;
  }

  bool active(int blob) const { return std::find(silent.begin(), silent.end(), blob) == silent.end(); }

  Rng rng;
  double stddev;
  std::vector<FeatureVector> centres;
  std::vector<int> truth;  //!< blob of each account
  std::vector<AccountId> order;
  std::size_t cursor = 0;
  std::vector<int> silent;  //!< blobs whose accounts stopped trading
};

//! Nearest segment id of every account (fresh draw), against `model`.
inline std::vector<std::int64_t> nearest_of_all(BlobWorld& w, const Model& model) {
  std::vector<std::int64_t> out(w.truth.size());
  for (std::size_t a = 0; a < w.truth.size(); ++a) {
    const AssignDecision d = assign(model, AssignerConfig{0.0, 0}, static_cast<AccountId>(a),
                                    w.draw(static_cast<AccountId>(a)), kNoSegment, 0, 0);
    out[a] = d.segment;
  }
  return out;
}

//! Every field of a model as bytes (doubles bitwise): equal strings mean identical models.
inline std::string model_bytes(const Model& m) {
  std::string b;
  auto put = [&](const void* p, std::size_t n) { b.append(static_cast<const char*>(p), n); };
  auto num = [&](auto v) { put(&v, sizeof v); };
  auto vec = [&](const FeatureVector& v) { put(v.data(), sizeof(double) * v.size()); };
  auto str = [&](const std::string& s) {
    num(s.size());
    b += s;
  };
  num(m.version);
  num(m.ts_ns);
  num(m.scaler_version);
  vec(m.scaler.mean);
  vec(m.scaler.stddev);
  vec(m.scaler.weight);
  for (const auto& s : m.segments) {
    num(s.id);
    str(s.label);
    str(s.base_label);
    vec(s.centroid);
    vec(s.centroid_raw);
    num(s.weight);
    num(s.size);
    num(s.policy.margin_multiplier);
    num(s.policy.quote_width_bps);
    num(s.stressed_policy.margin_multiplier);
    num(s.extreme_policy.quote_width_bps);
    num(s.policy.max_order_notional_usd);
  }
  for (const auto& e : m.events) {
    num(e.kind);
    num(e.segment);
    num(e.parent);
    str(e.label);
    str(e.previous_label);
    str(e.why);
  }
  num(m.quality.inertia);
  num(m.quality.silhouette);
  num(m.quality.churn_per_hour);
  num(m.quality.centroid_drift);
  num(m.quality.adjusted_rand);
  return b;
}

}  // namespace segmentd::testing
