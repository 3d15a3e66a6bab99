#include "service/net/backoff.h"

#include <algorithm>
#include <cmath>

namespace segmentd {

Backoff::Backoff(BackoffConfig config, std::uint64_t seed) : config_(config), rng_(seed) {}

std::int64_t Backoff::next_delay_ns() {
  const double ceiling = std::min(static_cast<double>(config_.max_ns),
                                  static_cast<double>(config_.initial_ns) * std::pow(config_.factor, attempt_));
  if (attempt_ < 62) ++attempt_;  // keeps pow() finite however long the venue stays away
  const double floor = std::min(ceiling, static_cast<double>(config_.initial_ns) / 2);
  std::uniform_real_distribution<double> pick(floor, ceiling);
  return static_cast<std::int64_t>(pick(rng_));
}

}  // namespace segmentd
