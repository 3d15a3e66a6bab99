#pragma once
// The simulated market: BTC and ETH index prices as correlated geometric Brownian motions with
// jumps on a 100 ms event-time grid, futures at a contango basis, a perpetual at a small premium,
// and an implied-vol surface (term structure, skew and smile) for the option chains.
//
// The path is generated ahead of the event time (kLookahead): informed archetypes read the
// near future, which is how their flow becomes toxic (positive markout) the way it is on a real
// venue. Owned by one Simulator; not thread-safe.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "sim/sim_rng.h"

namespace fillsim {

struct UnderlyingSpec {
  std::string name;             //!< "BTC", "ETH"
  double spot = 0;              //!< index at the start, USD
  double vol = 0;               //!< annualised diffusion vol of the index
  double jumps_per_hour = 0;    //!< Poisson rate of jumps
  double jump_sd = 0;           //!< log-size standard deviation of a jump
  double basis = 0;             //!< annualised contango of futures over the index
  double perp_premium = 0;      //!< perpetual over the index, as a fraction
  double atm_vol_long = 0;      //!< implied ATM vol at long tenors
  double atm_vol_short = 0;     //!< implied ATM vol for expiries within days
  double skew = 0;              //!< d iv / d ln(K/F), relative (negative: puts richer)
  double smile = 0;             //!< curvature in ln(K/F)^2, relative
  double strike_step_near = 0;  //!< listed strike spacing near the money (|ln K/F| < 0.15), USD
  double strike_step_far = 0;   //!< listed strike spacing further out
  double ticks_per_usd = 0;     //!< perp/future price grid: 2 = 0.5 USD tick
  double option_lot = 0;        //!< option quantity step in base units
};

//! A scheduled market event (issue 22, item 5): what makes the service's market regime switch,
//! and its policies follow, in the tests and on the console.
struct MarketEvent {
  enum class Kind : std::uint8_t {
    kCrash,          //!< every index falls by `size` (0.15 = 15 %) over the duration, diffusion vol ×2,
                     //!< implied vols × (1 + 3 × size) until twice the duration has passed
    kVolSpike,       //!< diffusion and implied vols × `size` over the duration
    kLiquidityHole,  //!< the fill rate falls to `size` of itself over the duration
  };
  Kind kind = Kind::kCrash;
  double at_s = 0;        //!< seconds of event time after the start
  double duration_s = 0;  //!< > 0
  double size = 0;
};

//! Parses "crash@45m:0.15/5m,vol_spike@2h:3/20m,liquidity_hole@3h:0.1/10m": kind@start:size/duration
//! (durations as 90s, 45m, 2h or plain seconds). "" = none. Sizes: crash in (0, 0.9], vol_spike
//! in [1, 20], liquidity_hole in (0, 1].
absl::StatusOr<std::vector<MarketEvent>> parse_market_events(std::string_view text);

class Market {
 public:
  static constexpr int kUnderlyings = 2;                         //!< 0 = BTC, 1 = ETH
  static constexpr std::int64_t kStepNs = 100'000'000;           //!< 100 ms grid
  static constexpr std::int64_t kLookaheadNs = 150'000'000'000;  //!< how far ahead prices are known
  static constexpr double kCorrelation = 0.8;                    //!< BTC/ETH diffusion correlation

  Market(std::uint64_t seed, std::int64_t start_ns, std::vector<MarketEvent> events = {});

  const UnderlyingSpec& spec(int u) const { return specs_[u]; }

  //! Generates the path up to ts + kLookahead. Event time must not go back by more than the ring.
  void advance_to(std::int64_t ts_ns);
  //! Index price at ts; ts must lie in [current - ~100 s, current + kLookahead] (asserted).
  double index(int u, std::int64_t ts_ns) const;
  double perpetual(int u, std::int64_t ts_ns) const { return index(u, ts_ns) * (1.0 + specs_[u].perp_premium); }
  //! Future / option forward of an expiry.
  double forward(int u, std::int64_t expiry_ns, std::int64_t ts_ns) const;
  //! Implied vol (fraction) at log-moneyness k = ln(K/F) and time to expiry in years, at event
  //! time ts (a crash or a vol spike raises it; 0 = the calm surface).
  double implied_vol(int u, double k, double years, std::int64_t ts_ns = 0) const;
  //! The share of the configured fill rate at ts: below 1 in a liquidity hole.
  double liquidity(std::int64_t ts_ns) const;
  //! Listed strike nearest to F·exp(k).
  double strike_for(int u, double forward, double k) const;

  std::int64_t start_ns() const { return start_ns_; }

 private:
  static constexpr std::size_t kRing = 4096;  // 409.6 s of path; > lookahead + the back window
  void step();

  //! Of the events active at ts: the diffusion vol multiplier, the log drift per step, the implied
  //! vol multiplier.
  struct Stress {
    double vol = 1.0, drift = 0.0, iv = 1.0, liquidity = 1.0;
  };
  Stress stress(std::int64_t ts_ns) const;

  std::array<UnderlyingSpec, kUnderlyings> specs_;
  std::vector<MarketEvent> events_;
  Rng rng_;
  std::int64_t start_ns_;
  std::int64_t generated_ = -1;  //!< last generated grid index
  std::array<double, kUnderlyings> log_price_{};
  std::vector<std::array<double, kUnderlyings>> ring_;  //!< index prices by grid index % kRing
};

}  // namespace fillsim
