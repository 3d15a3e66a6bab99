#pragma once
// The simulator's random numbers: the xoshiro256** stream of core/rng.h (seeded the same way,
// through splitmix64), and the few distributions the simulator needs written out here.
// std::*_distribution is not used on purpose: its algorithms differ between standard libraries,
// and the simulator promises byte-identical output for the same config and seed. (The remaining
// dependency is libm's log/exp/cos, which agree on the platforms we build on.)

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/rng.h"

namespace fillsim {

using segmentd::splitmix64;

//! Stateless hash of a few words: the same inputs give the same value on every run.
constexpr std::uint64_t mix64(std::uint64_t a, std::uint64_t b = 0, std::uint64_t c = 0) {
  std::uint64_t s = a;
  std::uint64_t h = splitmix64(s);
  s = h ^ b;
  h = splitmix64(s);
  s = h ^ c;
  return splitmix64(s);
}

//! Uniform double in [0, 1) from the top 53 bits.
constexpr double to_unit(std::uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : stream_(seed) {}

  std::uint64_t next() { return stream_.next(); }

  double uniform() { return to_unit(next()); }                                 //!< [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }  //!< [lo, hi)
  bool bernoulli(double p) { return uniform() < p; }
  //! Uniform integer in [0, n), n > 0 (multiply-shift; bias below 2^-32 for n < 2^32).
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(((next() >> 32) * n) >> 32); }
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }
  //! Standard normal by Box-Muller; the second value is cached.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = 1.0 - uniform();  // (0, 1]
    double u2 = uniform();
    double r = std::sqrt(-2.0 * std::log(u1));
    constexpr double kTwoPi = 6.283185307179586;
    spare_ = r * std::sin(kTwoPi * u2);
    has_spare_ = true;
    return r * std::cos(kTwoPi * u2);
  }
  double normal(double mean, double sd) { return mean + sd * normal(); }
  //! Log-normal with the given median and log-space standard deviation.
  double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }
  //! Index drawn with probability proportional to weights[i] (n small, weights >= 0, sum > 0).
  template <typename T, std::size_t N>
  int pick(const T (&weights)[N]) {
    double total = 0;
    for (auto w : weights) total += w;
    double u = uniform() * total;
    for (std::size_t i = 0; i < N; ++i) {
      if (u < weights[i]) return static_cast<int>(i);
      u -= weights[i];
    }
    return static_cast<int>(N - 1);
  }

 private:
  segmentd::Rng stream_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace fillsim
