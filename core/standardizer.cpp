#include "core/standardizer.h"

#include <algorithm>
#include <cmath>

namespace segmentd {

Standardizer::Standardizer(StandardizerConfig config) : config_(config) {}

Standardizer::Standardizer(StandardizerConfig config, const StandardizerState& state) : config_(config), s_(state) {}

void Standardizer::decay_to(std::int64_t now_ns) {
  if (!s_.started) {
    s_.ts_ns = now_ns;
    s_.started = true;
    return;
  }
  if (now_ns <= s_.ts_ns) return;
  if (config_.half_life_ns > 0) {
    const double a = std::exp2(-static_cast<double>(now_ns - s_.ts_ns) / static_cast<double>(config_.half_life_ns));
    s_.weight *= a;
    for (auto& m : s_.m2) m *= a;
  }
  s_.ts_ns = now_ns;
}

void Standardizer::add(const FeatureVector& raw, double w) {
  if (w <= 0.0) return;
  const double total = s_.weight + w;
  const double r = w / total;
  for (int j = 0; j < kFeatureCount; ++j) {
    const double delta = raw[j] - s_.mean[j];
    s_.mean[j] += r * delta;
    s_.m2[j] += w * delta * (raw[j] - s_.mean[j]);
  }
  s_.weight = total;
}

void Standardizer::merge(double n, const FeatureVector& mean, const FeatureVector& m2) {
  if (n <= 0.0) return;
  const double total = s_.weight + n;
  const double r = n / total;
  const double cross = s_.weight * r;  // W·n / (W + n)
  for (int j = 0; j < kFeatureCount; ++j) {
    const double delta = mean[j] - s_.mean[j];
    s_.mean[j] += r * delta;
    s_.m2[j] += m2[j] + delta * delta * cross;
  }
  s_.weight = total;
}

FeatureVector Standardizer::stddev() const {
  FeatureVector sd{};
  // Reliability-weight correction: with decayed unit weights the effective sample size is about
  // the weight itself, so W − 1 is the usual unbiased denominator (guarded for tiny weights).
  const double denom = s_.weight > 2.0 ? s_.weight - 1.0 : std::max(s_.weight, 1e-12);
  for (int j = 0; j < kFeatureCount; ++j) {
    const double var = std::max(0.0, s_.m2[j] / denom);
    sd[j] = std::max(std::sqrt(var), config_.min_stddev[j]);
  }
  return sd;
}

Scaler Standardizer::freeze() const {
  Scaler s;
  s.mean = s_.mean;
  s.stddev = stddev();
  s.weight = config_.weight;
  return s;
}

FeatureVector scale_factors(const Scaler& s) {
  FeatureVector f;
  for (int j = 0; j < kFeatureCount; ++j) f[j] = s.weight[j] / s.stddev[j];
  return f;
}

FeatureVector scale(const Scaler& s, const FeatureVector& raw) { return scale(s.mean, scale_factors(s), raw); }

FeatureVector unscale(const Scaler& s, const FeatureVector& scaled, const FeatureVector& fallback) {
  FeatureVector out;
  for (int j = 0; j < kFeatureCount; ++j)
    out[j] = s.weight[j] != 0.0 ? s.mean[j] + scaled[j] / s.weight[j] * s.stddev[j] : fallback[j];
  return out;
}

bool scaler_drifted(const Scaler& frozen, const Scaler& fresh, double tolerance) {
  for (int j = 0; j < kFeatureCount; ++j) {
    if (frozen.weight[j] == 0.0 && fresh.weight[j] == 0.0) continue;
    if (frozen.weight[j] != fresh.weight[j]) return true;
    if (std::abs(fresh.stddev[j] / frozen.stddev[j] - 1.0) > tolerance) return true;
    if (std::abs(fresh.mean[j] - frozen.mean[j]) / frozen.stddev[j] > tolerance) return true;
  }
  return false;
}

}  // namespace segmentd
