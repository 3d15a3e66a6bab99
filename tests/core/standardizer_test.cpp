#include "core/standardizer.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/rng.h"

using namespace segmentd;

namespace {
constexpr std::int64_t kHour = 3600LL * 1'000'000'000LL;
FeatureVector all(double v) { return StandardizerConfig::filled(v); }
}  // namespace

TEST_CASE("without forgetting the moments are the plain sample mean and variance", "[standardizer]") {
  StandardizerConfig cfg;
  cfg.half_life_ns = 0;
  Standardizer s(cfg);
  s.decay_to(0);
  const double xs[] = {1.0, 2.0, 4.0, 7.0};
  for (double x : xs) s.add(all(x));
  // mean 3.5, unbiased variance = ((2.5² + 1.5² + 0.5² + 3.5²) / 3) = 7.0
  CHECK(s.mean()[0] == Approx(3.5));
  CHECK(s.stddev()[5] == Approx(std::sqrt(7.0)));
  s.decay_to(100 * kHour);
  CHECK(s.weight() == Approx(4.0));
}

TEST_CASE("forgetting halves old weight per half-life and follows a shift", "[standardizer]") {
  StandardizerConfig cfg;
  cfg.half_life_ns = kHour;
  Standardizer s(cfg);
  s.decay_to(0);
  for (int i = 0; i < 1000; ++i) s.add(all(0.0));
  s.decay_to(kHour);
  CHECK(s.weight() == Approx(500.0));
  s.decay_to(kHour / 2);  // event time never runs backwards
  CHECK(s.weight() == Approx(500.0));
  for (int h = 1; h <= 6; ++h) {
    s.decay_to(h * kHour);
    for (int i = 0; i < 1000; ++i) s.add(all(10.0));
  }
  // After six half-lives the old regime holds ~1/2^6 of the weight relative to the new one.
  CHECK(s.mean()[0] > 9.9);
}

TEST_CASE("freeze floors the stddev and carries the weights, and scale and unscale invert", "[standardizer]") {
  StandardizerConfig cfg;
  cfg.weight = all(1.0);
  cfg.weight[3] = 0.0;
  cfg.weight[4] = 2.0;
  Standardizer s(cfg);
  s.decay_to(0);
  Rng rng(7);
  for (int i = 0; i < 500; ++i) {
    FeatureVector v = all(0.0);
    v[0] = rng.normal() * 3.0 + 1.0;
    v[4] = rng.normal();
    s.add(v);  // v[1..] constant apart from 0 and 4
  }
  const Scaler sc = s.freeze();
  CHECK(sc.stddev[1] == Approx(1e-2));  // floored
  CHECK(sc.stddev[0] == Approx(3.0).epsilon(0.1));
  CHECK(sc.weight[4] == 2.0);
  FeatureVector raw = all(0.5);
  raw[0] = 4.0;
  const FeatureVector z = scale(sc, raw);
  CHECK(z[3] == 0.0);
  const FeatureVector back = unscale(sc, z, all(-1.0));
  CHECK(back[0] == Approx(4.0));
  CHECK(back[4] == Approx(0.5));
  CHECK(back[3] == -1.0);  // weight 0: taken from the fallback
}

TEST_CASE("scaler_drifted reacts to mean and stddev changes beyond the tolerance", "[standardizer]") {
  Scaler a;
  a.mean = all(0.0);
  a.stddev = all(1.0);
  a.weight = all(1.0);
  Scaler b = a;
  CHECK_FALSE(scaler_drifted(a, b, 0.05));
  b.stddev[2] = 1.04;
  CHECK_FALSE(scaler_drifted(a, b, 0.05));
  b.stddev[2] = 1.06;
  CHECK(scaler_drifted(a, b, 0.05));
  b = a;
  b.mean[7] = 0.1;
  CHECK(scaler_drifted(a, b, 0.05));
  a.weight[7] = b.weight[7] = 0.0;  // switched-off features do not count
  CHECK_FALSE(scaler_drifted(a, b, 0.05));
}

TEST_CASE("merging a batch's moments equals adding its vectors one by one", "[standardizer]") {
  StandardizerConfig cfg;
  cfg.half_life_ns = kHour;
  Standardizer one(cfg), merged(cfg);
  Rng rng(11);
  std::int64_t now = 0;
  for (int b = 0; b < 5; ++b) {
    now += kHour / 3;
    one.decay_to(now);
    merged.decay_to(now);
    std::vector<FeatureVector> batch(200);
    FeatureVector mean{}, m2{};
    for (auto& v : batch) {
      for (int j = 0; j < kFeatureCount; ++j) v[j] = rng.normal() * (j + 1) + b;
      one.add(v);
      for (int j = 0; j < kFeatureCount; ++j) mean[j] += v[j] / 200.0;
    }
    for (const auto& v : batch)
      for (int j = 0; j < kFeatureCount; ++j) m2[j] += (v[j] - mean[j]) * (v[j] - mean[j]);
    merged.merge(200.0, mean, m2);
  }
  CHECK(merged.weight() == Approx(one.weight()));
  for (int j = 0; j < kFeatureCount; ++j) {
    CHECK(merged.mean()[j] == Approx(one.mean()[j]).margin(1e-9));
    CHECK(merged.stddev()[j] == Approx(one.stddev()[j]).epsilon(1e-9));
  }
}
