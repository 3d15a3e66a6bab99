#include "core/event_time_guard.h"

#include <algorithm>

namespace segmentd {
namespace {

//! a − b without overflow (event times span the whole int64 range in hostile input).
std::int64_t ahead_of(std::int64_t a, std::int64_t b) {
  std::int64_t d;
  if (__builtin_sub_overflow(a, b, &d))
    return a > b ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  return d;
}

}  // namespace

EventTimeGuard::Verdict EventTimeGuard::check(std::int64_t t_ns, std::int64_t wall_ns) {
  const std::int64_t ref = watermark_ != kNone ? watermark_ : wall_ns;
  if (ref == kNone || ahead_of(t_ns, ref) <= options_.max_ahead_ns) {
    candidates_ = 0;
    candidate_ns_ = kNone;
    watermark_ = watermark_ == kNone ? t_ns : std::max(watermark_, t_ns);
    return Verdict::kAccept;
  }
  last_ahead_ns_ = ahead_of(t_ns, ref);
  if (candidates_ > 0 && ahead_of(t_ns, candidate_ns_) <= options_.max_ahead_ns &&
      ahead_of(candidate_ns_, t_ns) <= options_.max_ahead_ns) {
    ++candidates_;
    candidate_ns_ = std::max(candidate_ns_, t_ns);
  } else {
    candidates_ = 1;
    candidate_ns_ = t_ns;
  }
  if (candidates_ < std::max<std::uint32_t>(options_.jump_confirm, 1)) return Verdict::kRefuse;
  watermark_ = candidate_ns_;
  candidates_ = 0;
  candidate_ns_ = kNone;
  return Verdict::kJump;
}

}  // namespace segmentd
