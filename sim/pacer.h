#pragma once
// Live pacing: maps event time onto wall-clock time so that fills come out at the configured rate
// in real time (speed 1) or faster (speed > 1). Owned by the emitting thread.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace fillsim {

class Pacer {
 public:
  //! Event time `event_start_ns` is due now (at construction).
  explicit Pacer(std::int64_t event_start_ns, double speed = 1.0);

  //! Wall-clock ns until the fill at `event_ns` is due; <= 0 when it is due already.
  std::int64_t wait_ns(std::int64_t event_ns) const;
  //! Sleeps until `event_ns` is due; returns false early when *stop becomes true (checked every
  //! 50 ms at most).
  bool wait_until(std::int64_t event_ns, const std::atomic<bool>* stop = nullptr) const;

 private:
  std::chrono::steady_clock::time_point wall_start_;
  std::int64_t event_start_ns_;
  double speed_;
};

}  // namespace fillsim
