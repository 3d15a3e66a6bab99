#pragma once
// Reconnect delays: capped exponential backoff with "full jitter" (delay drawn uniformly in
// [initial/2, min(cap, initial × factor^n)]), so that the sessions of many accounts that lost the
// same venue at once do not all come back in the same millisecond.
//
// Ownership: one per session, used from that session's strand only.

#include <cstdint>
#include <random>

namespace segmentd {

struct BackoffConfig {
  std::int64_t initial_ns = 250'000'000;  //!< first retry after about this
  std::int64_t max_ns = 30'000'000'000;   //!< never wait longer than this
  double factor = 2.0;                    //!< growth per failed attempt
};

class Backoff {
 public:
  explicit Backoff(BackoffConfig config, std::uint64_t seed = std::random_device{}());
  //! The delay before the next attempt; grows with every call until reset().
  std::int64_t next_delay_ns();
  //! After a connection that worked (authenticated and subscribed).
  void reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  BackoffConfig config_;
  std::mt19937_64 rng_;
  int attempt_ = 0;
};

}  // namespace segmentd
