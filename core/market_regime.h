#pragma once
// The market's stress regime per underlying (issue 22, item 3; core/features.md, "Market
// regime"): calm, stressed or extreme, decided from the underlying's price alone, with
// hysteresis so that a calm market does not flap.
//
// The price is sampled every `sample_ns` of event time (the newest price at or before each
// sample instant; a sample with no new price repeats the last). Per sample, r = ln(P / P_prev):
//  - fast and slow variance: EWMAs of r² with half-lives fast_half_life and slow_half_life, each
//    divided by the weight its samples have so far (they start from 0); the vol ratio is
//    sqrt(fast / slow). The slow variance is frozen while the regime is not calm, and once warm
//    a return counts in it at most 4 slow standard deviations, so that a crash (its first
//    seconds included) does not teach it that crashes are normal;
//  - drawdown: 1 − P / (the highest sample within drawdown_window);
//  - stress = max(vol ratio / stressed_ratio, drawdown / stressed_drawdown) measures the stressed
//    level, and the same over the extreme thresholds the extreme level.
// A level is entered when its measure reaches 1, at once (a crash must not wait), and left
// only when the measure of the level has stayed below exit_fraction for min_dwell (hysteresis:
// two thresholds and a time). Before `warmup` of samples the slow variance is not trusted and
// the regime stays calm. Each change is an event with its reason. A price more than max_jump
// (log) from the last accepted one waits for the next price: kept when that one confirms the
// level, dropped and counted (outliers) when it does not, so that one bad tick is no crash.
//
// Not thread-safe: one owner (the service's regime loop; tests).

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/types.h"

namespace segmentd {

struct RegimeParams {
  std::int64_t sample_ns = 1'000'000'000;               //!< one return a second of event time
  std::int64_t fast_half_life_ns = 300'000'000'000;     //!< 5 min
  std::int64_t slow_half_life_ns = 86'400'000'000'000;  //!< 24 h
  std::int64_t warmup_ns = 1'800'000'000'000;           //!< 30 min of samples before any switch
  std::int64_t drawdown_window_ns = 3'600'000'000'000;  //!< the peak is the highest of the last hour
  double stressed_ratio = 2.0;                          //!< fast vol / slow vol
  double extreme_ratio = 4.0;
  double stressed_drawdown = 0.05;
  double extreme_drawdown = 0.10;
  //! A move larger than this (|log return| from the last accepted price) is held until the next
  //! price confirms the level (within max_jump / 4 of it); otherwise it is a bad tick, dropped.
  double max_jump = 0.15;
  double exit_fraction = 0.7;                   //!< leave a level when its measure < this ...
  std::int64_t min_dwell_ns = 600'000'000'000;  //!< ... for 10 min
};

struct RegimeEvent {
  UnderlyingId underlying = 0;
  Regime from = Regime::kCalm;
  Regime to = Regime::kCalm;
  std::int64_t ts_ns = 0;  //!< event time of the sample that decided it
  std::string reason;      //!< e.g. "vol ratio 4.6 >= 4", "drawdown 10.2 % >= 10 %", "calm for 600 s"
};

//! One underlying's state, as the service shows it.
struct UnderlyingRegime {
  UnderlyingId underlying = 0;
  Regime regime = Regime::kCalm;
  std::int64_t since_ns = 0;  //!< event time it entered the regime (0: never left calm)
  std::int64_t last_ns = 0;   //!< event time of the last sample
  double price = 0.0;         //!< last sampled price
  double fast_vol = 0.0;      //!< per sample: sqrt of the fast EWMA of r²
  double slow_vol = 0.0;      //!< per sample
  double vol_ratio = 0.0;     //!< fast / slow (0 during warm-up)
  double drawdown = 0.0;      //!< from the window's peak, in [0, 1)
  std::uint64_t samples = 0;
  std::uint64_t outliers = 0;  //!< jumps beyond max_jump the next price did not confirm: dropped
  bool warm = false;           //!< warm-up done: switches may happen
};

class RegimeMonitor {
 public:
  explicit RegimeMonitor(RegimeParams params = {});

  //! The underlying's newest price at event time ts_ns (non-positive or non-finite prices are
  //! ignored; times before the last sample are ignored). Samples every sample_ns up to ts_ns
  //! and appends any regime change to events().
  void observe(UnderlyingId underlying, std::int64_t ts_ns, double price);

  //! Calm for an underlying never observed.
  Regime regime(UnderlyingId underlying) const;
  //! The most stressed regime over the underlyings.
  Regime market() const;
  std::vector<UnderlyingRegime> states() const;
  //! Every change so far, oldest first (the caller may clear it once read).
  std::vector<RegimeEvent>& events() { return events_; }
  std::uint64_t switches() const { return switches_; }
  const RegimeParams& params() const { return p_; }

 private:
  struct State {
    UnderlyingRegime view;
    std::int64_t next_sample_ns = 0;              //!< next sample instant (0: no sample yet)
    double pending_price = 0.0;                   //!< newest price not sampled yet
    double fast_var = 0.0, slow_var = 0.0;        //!< EWMAs of r², started from 0
    double fast_weight = 0.0, slow_weight = 0.0;  //!< 1 − (1 − α)^samples: what they weigh so far
    std::int64_t first_ns = 0;
    std::int64_t below_since_ns = 0;  //!< the current level's measure has been < exit since (0: not below)
    std::deque<std::pair<std::int64_t, double>> peaks;  //!< monotone deque of (ts, price) over the window
    std::int64_t suspect_ns = 0;                        //!< a price held for confirmation (0: none)
    double suspect_price = 0.0;
  };
  void accept(State& s, std::int64_t ts_ns, double price);
  void sample(State& s, std::int64_t ts_ns, double price);
  void decide(State& s, std::int64_t ts_ns);

  RegimeParams p_;
  double fast_alpha_, slow_alpha_;  //!< EWMA weights of one sample
  std::unordered_map<UnderlyingId, State> states_;
  std::vector<RegimeEvent> events_;
  std::uint64_t switches_ = 0;
};

}  // namespace segmentd
