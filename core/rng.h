#pragma once
// A small deterministic random number generator (xoshiro256**, seeded through splitmix64) for the
// clusterer. std::uniform_*_distribution is not used anywhere in the clusterer: its output differs
// between standard libraries, and replay must give byte-identical models everywhere.
//
// Not thread-safe; each owner keeps its own generator. The state is plain data so it can be
// checkpointed with the clusterer.

#include <array>
#include <cmath>
#include <cstdint>

namespace segmentd {

//! One step of splitmix64: a good 64-bit mixer, used for seeding and for stable per-key hashes.
constexpr std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

//! Stateless mix of a key with a seed: the same (key, seed) gives the same value on every machine.
constexpr std::uint64_t mix64(std::uint64_t key, std::uint64_t seed) {
  std::uint64_t x = key ^ (seed * 0xD1B54A32D192ED03ULL);
  return splitmix64(x);
}

class Rng {
 public:
  using State = std::array<std::uint64_t, 4>;

  explicit Rng(std::uint64_t seed = 1) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& w : s_) w = splitmix64(x);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  //! Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  //! Uniform integer in [0, n) (n > 0); Lemire's multiply-shift, bias < n / 2^64.
  std::uint64_t below(std::uint64_t n) {
    __extension__ typedef unsigned __int128 U128;
    return static_cast<std::uint64_t>((static_cast<U128>(next()) * n) >> 64);
  }

  //! Standard normal (Box-Muller; one value per call, simplicity over speed).
  double normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  const State& state() const { return s_; }
  void set_state(const State& s) { s_ = s; }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  State s_{};
};

}  // namespace segmentd
