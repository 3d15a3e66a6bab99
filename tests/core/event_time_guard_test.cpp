#include "core/event_time_guard.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

using namespace segmentd;
using Verdict = EventTimeGuard::Verdict;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'733'011'200 * kSec;  // 2024-12-01 00:00 UTC

EventTimeGuardOptions options(std::uint32_t confirm = 4) {
  EventTimeGuardOptions o;
  o.max_ahead_ns = 15 * 60 * kSec;
  o.jump_confirm = confirm;
  return o;
}

}  // namespace

TEST_CASE("event time guard: a lone fill far ahead is refused and never moves the watermark", "[event_time]") {
  // The timestamps of the hostile-input report: +1 h, +1 day, year 2030, year 2200, and the int64 edge.
  for (const std::int64_t bad : {kT0 + 3600 * kSec, kT0 + 86400 * kSec, std::int64_t{1'893'456'000} * kSec,
                                 std::numeric_limits<std::int64_t>::max()}) {
    EventTimeGuard g(options());
    REQUIRE(g.check(kT0) == Verdict::kAccept);
    REQUIRE(g.check(kT0 + kSec) == Verdict::kAccept);
    CHECK(g.check(bad) == Verdict::kRefuse);
    CHECK(g.watermark() == kT0 + kSec);
    CHECK(g.last_refused_ahead_ns() > g.options().max_ahead_ns);
    // The stream goes on: accepted, and the watermark follows it, not the bad fill.
    CHECK(g.check(kT0 + 2 * kSec) == Verdict::kAccept);
    CHECK(g.watermark() == kT0 + 2 * kSec);
    CHECK(g.pending_candidates() == 0);
  }
}

TEST_CASE("event time guard: +5 min is within the bound, late fills are accepted", "[event_time]") {
  EventTimeGuard g(options());
  REQUIRE(g.check(kT0) == Verdict::kAccept);
  CHECK(g.check(kT0 + 5 * 60 * kSec) == Verdict::kAccept);
  CHECK(g.watermark() == kT0 + 5 * 60 * kSec);
  // Late (and 1970) fills are the features' business (core/features.md), not the guard's.
  CHECK(g.check(kT0) == Verdict::kAccept);
  CHECK(g.check(0) == Verdict::kAccept);
  CHECK(g.check(std::numeric_limits<std::int64_t>::min()) == Verdict::kAccept);
  CHECK(g.watermark() == kT0 + 5 * 60 * kSec);
  // Exactly max_ahead is in; one nanosecond more is out.
  CHECK(g.check(g.watermark() + g.options().max_ahead_ns) == Verdict::kAccept);
  CHECK(g.check(g.watermark() + g.options().max_ahead_ns + 1) == Verdict::kRefuse);
}

TEST_CASE("event time guard: a stream that jumps forward is followed once the jump is confirmed", "[event_time]") {
  EventTimeGuard g(options(4));
  REQUIRE(g.check(kT0) == Verdict::kAccept);
  const std::int64_t resumed = kT0 + 86400 * kSec;  // the feed comes back a day later
  CHECK(g.check(resumed) == Verdict::kRefuse);
  CHECK(g.check(resumed + kSec) == Verdict::kRefuse);
  CHECK(g.check(resumed + 2 * kSec) == Verdict::kRefuse);
  CHECK(g.pending_candidates() == 3);
  CHECK(g.watermark() == kT0);
  CHECK(g.check(resumed + 3 * kSec) == Verdict::kJump);
  CHECK(g.watermark() == resumed + 3 * kSec);
  CHECK(g.check(resumed + 4 * kSec) == Verdict::kAccept);
}

TEST_CASE("event time guard: candidates that disagree, or a normal fill between them, confirm nothing",
          "[event_time]") {
  EventTimeGuard g(options(3));
  REQUIRE(g.check(kT0) == Verdict::kAccept);
  // Three far-future fills, each far from the one before: no two agree on a new time.
  CHECK(g.check(kT0 + 3600 * kSec) == Verdict::kRefuse);
  CHECK(g.check(kT0 + 86400 * kSec) == Verdict::kRefuse);
  CHECK(g.check(kT0 + 10 * 86400 * kSec) == Verdict::kRefuse);
  CHECK(g.pending_candidates() == 1);
  CHECK(g.watermark() == kT0);
  // Two agreeing ones, then the normal stream: the count starts over.
  CHECK(g.check(kT0 + 3600 * kSec) == Verdict::kRefuse);
  CHECK(g.check(kT0 + 3601 * kSec) == Verdict::kRefuse);
  CHECK(g.check(kT0 + kSec) == Verdict::kAccept);
  CHECK(g.pending_candidates() == 0);
  CHECK(g.check(kT0 + 3602 * kSec) == Verdict::kRefuse);
  CHECK(g.watermark() == kT0 + kSec);
}

TEST_CASE("event time guard: before its first fill a live source is measured against the wall clock", "[event_time]") {
  const std::int64_t wall = kT0;
  EventTimeGuard live(options());
  CHECK(live.check(wall + 3600 * kSec, wall) == Verdict::kRefuse);  // a feed's first fill an hour ahead
  CHECK(live.watermark() == EventTimeGuard::kNone);
  CHECK(live.check(wall - 3600 * kSec, wall) == Verdict::kAccept);  // a backfill from an hour ago is fine
  CHECK(live.watermark() == wall - 3600 * kSec);
  // From then on its own watermark is the reference (a simulator faster than real time is followed).
  CHECK(live.check(wall - 3000 * kSec, wall) == Verdict::kAccept);
  // A file has no wall clock: its first fill sets the watermark, whatever it is.
  EventTimeGuard file(options());
  CHECK(file.check(std::int64_t{7'258'118'400} * kSec) == Verdict::kAccept);  // 2200-01-01
}

TEST_CASE("event time guard: its state restores to the same decisions", "[event_time]") {
  EventTimeGuard a(options(3));
  a.check(kT0);
  a.check(kT0 + 86400 * kSec);
  a.check(kT0 + 86401 * kSec);
  EventTimeGuard b(options(3));
  b.restore(a.state());
  CHECK(b.watermark() == a.watermark());
  CHECK(b.pending_candidates() == 2);
  CHECK(a.check(kT0 + 86402 * kSec) == Verdict::kJump);
  CHECK(b.check(kT0 + 86402 * kSec) == Verdict::kJump);
  CHECK(a.watermark() == b.watermark());
}
