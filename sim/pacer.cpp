#include "sim/pacer.h"

#include <algorithm>
#include <thread>

namespace fillsim {

Pacer::Pacer(std::int64_t event_start_ns, double speed)
    : wall_start_(std::chrono::steady_clock::now()), event_start_ns_(event_start_ns), speed_(speed > 0 ? speed : 1.0) {}

std::int64_t Pacer::wait_ns(std::int64_t event_ns) const {
  auto due = wall_start_ + std::chrono::nanoseconds(
                               static_cast<std::int64_t>(static_cast<double>(event_ns - event_start_ns_) / speed_));
  return std::chrono::duration_cast<std::chrono::nanoseconds>(due - std::chrono::steady_clock::now()).count();
}

bool Pacer::wait_until(std::int64_t event_ns, const std::atomic<bool>* stop) const {
  constexpr std::int64_t kSlice = 50'000'000;
  for (;;) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) return false;
    std::int64_t left = wait_ns(event_ns);
    if (left <= 0) return true;
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min(left, kSlice)));
  }
}

}  // namespace fillsim
