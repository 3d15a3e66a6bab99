#pragma once
// What a simulation run is: population, rate, time span, seed and drift. Plain data; validate()
// says what is wrong with one.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sim/archetype.h"
#include "sim/market.h"

namespace fillsim {

//! At `at_s` seconds after the start, `share` of all accounts switch to another archetype. Each
//! account switches at most once over a run: the shares of all events add up to at most 1.
struct DriftEvent {
  double at_s = 0;
  double share = 0;
};

struct Config {
  std::uint64_t seed = 1;
  std::uint32_t accounts = 10'000;                          //!< 1 .. 10,000,000
  double rate = 10'000;                                     //!< fills per second of event time
  double duration_s = 3600;                                 //!< event-time span; 0 = unbounded
  std::int64_t start_ns = 1'730'678'400'000'000'000;        //!< 2024-11-04T00:00:00Z
  std::array<double, kArchetypeCount> mix = default_mix();  //!< population weights, normalised
  std::vector<DriftEvent> drift;
  std::vector<MarketEvent> market_events;  //!< crashes, vol spikes, liquidity holes (sim/market.h)
  std::string account_prefix = "acc";      //!< account names: prefix + 7 digits
};

absl::Status validate(const Config& config);

//! Parses "market_maker=0.1,whale=0.05,..." (archetypes not named get weight 0) or the word
//! "default". Weights must be >= 0 and not all zero.
absl::StatusOr<std::array<double, kArchetypeCount>> parse_mix(std::string_view text);

}  // namespace fillsim
