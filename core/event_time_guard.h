#pragma once
// Event time from outside is not trusted blindly. Every decayed feature, every markout tick and
// the clusterer's clock follow the fills' timestamps (event time); one fill stamped an hour or a
// century ahead would move all of them there at once, and every later, correct fill would look
// hours old (the model then decays to nothing and stops). An EventTimeGuard stands at each
// source's entry and refuses such a fill before it reaches anything.
//
// The rule, per source:
//   - the source's watermark is the newest event time it has accepted;
//   - a fill up to max_ahead ahead of the reference is accepted (the watermark follows it), where
//     the reference is the watermark, or — before the source's first accepted fill — the wall
//     clock for a live source (nothing for a file: its first fill sets the watermark);
//   - a fill further ahead is refused, and counts as a candidate for a jump;
//   - a jump is confirmed by the stream itself: jump_confirm consecutive candidates, each within
//     max_ahead of the newest one before it, with no accepted fill between them. The watermark
//     then moves to the newest candidate, and the fill that confirms it is accepted (the ones
//     before it were refused and counted). A feed that resumes after a day's outage is followed
//     after jump_confirm fills; a lone bad timestamp in a normal stream never is.
//   - a fill older than the watermark is accepted: late fills keep their documented treatment
//     (core/features.md, "late fill").
//
// A guard is used by one thread (its source's); it is a value (copy it to keep a state).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

namespace segmentd {

struct EventTimeGuardOptions {
  std::int64_t max_ahead_ns = 15LL * 60 * 1'000'000'000;  //!< [event_time] max_ahead
  std::uint32_t jump_confirm = 32;                        //!< [event_time] jump_confirm; ≥ 1
};

class EventTimeGuard {
 public:
  static constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();

  enum class Verdict : std::uint8_t {
    kAccept,  //!< within max_ahead of the reference (or late)
    kRefuse,  //!< too far ahead: not to be used
    kJump,    //!< accepted: it confirms a jump, the watermark moved to it
  };

  explicit EventTimeGuard(EventTimeGuardOptions options = {}) : options_(options) {}

  //! The fill's event time t_ns; wall_ns is the wall clock for a live source, kNone for a file.
  Verdict check(std::int64_t t_ns, std::int64_t wall_ns = kNone);

  //! Newest accepted event time, kNone before the first.
  std::int64_t watermark() const { return watermark_; }
  //! How far ahead of the reference the last refused fill was (for the log line).
  std::int64_t last_refused_ahead_ns() const { return last_ahead_ns_; }
  std::uint32_t pending_candidates() const { return candidates_; }
  const EventTimeGuardOptions& options() const { return options_; }

  //! The state a checkpoint keeps (a replay resumed from it decides as the whole run would).
  struct State {
    std::int64_t watermark = kNone;
    std::int64_t candidate_ns = kNone;
    std::uint32_t candidates = 0;
  };
  //! A State's bytes in a source's resume position: watermark, candidate time (i64), candidates (u32).
  static constexpr std::size_t kStateBytes = 2 * sizeof(std::int64_t) + sizeof(std::uint32_t);
  static void encode(const State& s, char* out) {
    std::memcpy(out, &s.watermark, sizeof(s.watermark));
    std::memcpy(out + 8, &s.candidate_ns, sizeof(s.candidate_ns));
    std::memcpy(out + 16, &s.candidates, sizeof(s.candidates));
  }
  static State decode(const char* in) {
    State s;
    std::memcpy(&s.watermark, in, sizeof(s.watermark));
    std::memcpy(&s.candidate_ns, in + 8, sizeof(s.candidate_ns));
    std::memcpy(&s.candidates, in + 16, sizeof(s.candidates));
    return s;
  }
  State state() const { return {watermark_, candidate_ns_, candidates_}; }
  void restore(const State& s) {
    watermark_ = s.watermark;
    candidate_ns_ = s.candidate_ns;
    candidates_ = s.candidates;
  }

 private:
  EventTimeGuardOptions options_;
  std::int64_t watermark_ = kNone;
  std::int64_t candidate_ns_ = kNone;  //!< newest candidate of the jump being confirmed
  std::uint32_t candidates_ = 0;
  std::int64_t last_ahead_ns_ = 0;
};

}  // namespace segmentd
