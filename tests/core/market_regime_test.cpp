// The market-stress regime (core/market_regime.h): a crash switches it within the detection
// window and it comes back with hysteresis; a calm market, even with its volatility moving by a
// third, never switches over two days; nothing switches during the warm-up; a gap in the prices
// is no crash.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/market_regime.h"

using namespace segmentd;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'735'000'000LL * kSec;
constexpr double kSigma = 1e-4;  // per second: ~56 % a year, a calm BTC

//! Feeds `seconds` of a random walk from `price` (one price a second), with per-second vol
//! sigma and drift per second; returns the last price.
double walk(RegimeMonitor& m, std::mt19937_64& rng, std::int64_t& t, double price, int seconds, double sigma,
            double drift = 0.0) {
  std::normal_distribution<double> z(0.0, 1.0);
  for (int i = 0; i < seconds; ++i) {
    price *= std::exp(drift + sigma * z(rng));
    t += kSec;
    m.observe(7, t, price);
  }
  return price;
}

}  // namespace

TEST_CASE("regime: a calm market does not switch in two days, vol moving by a third", "[regime]") {
  // Three more seeds over a day each first: no switch, and the vol ratio's largest hourly value
  // stays far from the stressed threshold (2).
  for (std::uint64_t seed : {21, 22, 23}) {
    RegimeMonitor other;
    std::mt19937_64 r(seed);
    std::int64_t at = kT0;
    double price = 3000.0, worst = 0.0;
    for (int hour = 0; hour < 24; ++hour) {
      price = walk(other, r, at, price, 3600, kSigma * (hour % 6 == 3 ? 1.33 : 1.0));
      worst = std::max(worst, other.states()[0].vol_ratio);
    }
    INFO("seed " << seed << ": largest hourly vol ratio " << worst);
    CHECK(other.switches() == 0);
    CHECK(worst < 1.6);
  }
  RegimeMonitor m;
  std::mt19937_64 rng(11);
  std::int64_t t = kT0;
  double p = 95000.0;
  for (int hour = 0; hour < 48; ++hour) p = walk(m, rng, t, p, 3600, kSigma * (hour % 6 == 3 ? 1.33 : 1.0));
  CHECK(m.switches() == 0);
  CHECK(m.market() == Regime::kCalm);
  const std::vector<UnderlyingRegime> s = m.states();
  REQUIRE(s.size() == 1);
  CHECK(s[0].warm);
  CHECK(s[0].samples == 48 * 3600 - 1);  // the first price is the reference; the last waits for the next
  CHECK(s[0].vol_ratio > 0.5);
  CHECK(s[0].vol_ratio < 1.6);
  CHECK(s[0].slow_vol == Approx(kSigma).epsilon(0.2));
}

TEST_CASE("regime: a crash goes stressed then extreme within the window, and back to calm with hysteresis",
          "[regime]") {
  RegimeMonitor m;
  std::mt19937_64 rng(5);
  std::int64_t t = kT0;
  double p = walk(m, rng, t, 95000.0, 2 * 3600, kSigma);
  REQUIRE(m.switches() == 0);
  const std::int64_t crash = t;
  // -12 % in two minutes (0.1 % a second), then the market goes on calmly at its new level.
  p = walk(m, rng, t, p, 120, kSigma, std::log(0.88) / 120.0);
  std::vector<RegimeEvent> events = m.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].from == Regime::kCalm);
  CHECK(events[0].to == Regime::kStressed);
  CHECK(events[0].ts_ns - crash <= 30 * kSec);  // the detection window: seconds, not minutes
  CHECK(events[1].to == Regime::kExtreme);
  CHECK(events[1].ts_ns - crash <= 120 * kSec);
  CHECK(!events[0].reason.empty());
  CHECK(m.market() == Regime::kExtreme);
  // Still extreme while the drawdown from the peak of the last hour stands.
  p = walk(m, rng, t, p, 50 * 60, kSigma);
  CHECK(m.regime(7) == Regime::kExtreme);
  p = walk(m, rng, t, p, 3 * 3600, kSigma);
  events = m.events();
  REQUIRE(events.size() >= 3);
  CHECK(events.back().to == Regime::kCalm);
  CHECK(m.market() == Regime::kCalm);
  CHECK(events.size() <= 4);  // no flapping on the way down: extreme → (stressed →) calm
  // Left extreme only after the peak left the hour's window and the dwell passed.
  CHECK(events[2].ts_ns - crash >= 3600 * kSec + m.params().min_dwell_ns);
  CHECK(events[2].reason.find("for 600 s") != std::string::npos);
}

TEST_CASE("regime: no switch during warm-up, and a gap with no prices is no crash", "[regime]") {
  RegimeMonitor m;
  std::mt19937_64 rng(9);
  std::int64_t t = kT0;
  // A crash in the first ten minutes: the slow vol is not known yet, nothing switches...
  double p = walk(m, rng, t, 95000.0, 600, kSigma);
  p = walk(m, rng, t, p, 120, kSigma, std::log(0.88) / 120.0);
  p = walk(m, rng, t, p, 1000, kSigma);
  CHECK(m.switches() == 0);
  CHECK_FALSE(m.states()[0].warm);
  // ...until the warm-up ends, when the market is still 12 % under the hour's peak: extreme, by
  // the drawdown (the vol ratio is not to be trusted: the slow vol learned the crash).
  p = walk(m, rng, t, p, 120, kSigma);
  REQUIRE(m.switches() == 1);
  CHECK(m.events()[0].to == Regime::kExtreme);
  CHECK(m.events()[0].reason.rfind("drawdown", 0) == 0);
  // The drawdown leaves the window, the dwell passes: calm again, and calm it stays.
  p = walk(m, rng, t, p, 3 * 3600, kSigma);
  REQUIRE(m.switches() == 2);
  CHECK(m.market() == Regime::kCalm);
  m.events().clear();
  // Six hours without a price, then the same price: zero returns, stepped at once.
  t += 6 * 3600 * kSec;
  m.observe(7, t, p);
  m.observe(7, t + kSec, p * 1.0001);
  CHECK(m.switches() == 2);
  CHECK(m.states()[0].samples >= 3 * 3600 + 1840 + 6 * 3600);
  // Bad prices and prices from the past are ignored.
  m.observe(7, t + 2 * kSec, -1.0);
  m.observe(7, t + 2 * kSec, std::nan(""));
  m.observe(7, kT0, 1.0);
  CHECK(m.switches() == 2);
  CHECK(m.events().empty());
  CHECK(m.regime(99) == Regime::kCalm);  // never observed
}

TEST_CASE("regime: one bad tick is dropped and counted, a real gap is confirmed by the next price", "[regime]") {
  RegimeMonitor m;
  std::mt19937_64 rng(17);
  std::int64_t t = kT0;
  double p = walk(m, rng, t, 95000.0, 2 * 3600, kSigma);
  // A fat finger: half the price for one tick, then the market where it was.
  t += kSec;
  m.observe(7, t, p * 0.5);
  p = walk(m, rng, t, p, 600, kSigma);
  CHECK(m.switches() == 0);
  CHECK(m.states()[0].outliers == 1);
  CHECK(m.states()[0].drawdown < 0.01);
  // Two different bad ticks in a row, then the market: both dropped.
  t += kSec;
  m.observe(7, t, p * 3.0);
  t += kSec;
  m.observe(7, t, p * 0.2);
  p = walk(m, rng, t, p, 60, kSigma);
  CHECK(m.switches() == 0);
  CHECK(m.states()[0].outliers == 3);
  // A real gap down of 20 %: the next price confirms it, and the regime goes extreme at once.
  const std::int64_t gap = t + kSec;
  p *= 0.8;
  p = walk(m, rng, t, p, 5, kSigma);
  REQUIRE(m.switches() >= 1);
  CHECK(m.market() == Regime::kExtreme);
  CHECK(m.events().back().ts_ns - gap <= 3 * kSec);
  CHECK(m.states()[0].outliers == 3);
}
