#pragma once
// A plain, undecayed estimate of the 16 features of core/features.md per account, computed from the
// simulator's own fills with the simulator's fair prices. It is how the simulator checks itself
// (tests, `fillsim --stats`, the ranges in README.md) and is deliberately independent of the
// service's feature code: it holds every open position in a hash map, so it is meant for
// populations of up to ~100k accounts.

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sim/simulator.h"

namespace fillsim {

inline constexpr int kFeatureCount = 16;
inline constexpr const std::array<std::string_view, kFeatureCount> kFeatureNames = {
    "trade_rate",          "notional_rate",    "ticket_size", "maker_ratio",
    "direction_imbalance", "delta_neutrality", "vega_bias",   "option_share",
    "future_share",        "perp_share",       "tenor",       "moneyness",
    "concentration",       "turnover",         "markout_bps", "exposure",
};

struct FeatureSummary {
  std::uint32_t accounts = 0;  //!< accounts with at least min_fills
  std::uint64_t fills = 0;
  std::array<double, kFeatureCount> mean{};
  std::array<double, kFeatureCount> p10{};
  std::array<double, kFeatureCount> p90{};
};

class FeatureProbe {
 public:
  explicit FeatureProbe(const Simulator& sim);
  //! Feeds one fill (in the order next() gave them).
  void add(const SimFill& f);
  //! Features of one account at the end of what was fed; NaN where undefined (no options, ...).
  std::array<double, kFeatureCount> features(std::uint32_t account) const;
  std::uint64_t fills(std::uint32_t account) const { return acc_[account].fills; }
  //! Per archetype (the account's archetype at the end of the run), accounts with >= min_fills.
  std::array<FeatureSummary, kArchetypeCount> summarize(std::uint64_t min_fills) const;

 private:
  struct Acc {
    std::uint64_t fills = 0;
    double notional = 0, maker = 0, buy = 0, sell = 0, option = 0, future = 0, perp = 0;
    double tenor_days = 0;  //!< Σ notional × days to expiry
    double moneyness = 0;   //!< Σ option notional × |ln K/F|
    double by_underlying[Market::kUnderlyings] = {0, 0};
    double markout = 0;         //!< Σ notional × markout bps
    double gross_position = 0;  //!< current Σ |position| USD
    double gross_sum = 0;       //!< Σ over fills of gross_position (for the mean)
  };
  struct BookGreeks {
    double net_delta = 0, gross_delta = 0, net_vega = 0, gross_vega = 0;
  };
  void book_greeks(std::uint32_t only, std::vector<BookGreeks>* out) const;
  std::array<double, kFeatureCount> features(std::uint32_t account, const BookGreeks& g) const;

  const Simulator& sim_;
  std::vector<Acc> acc_;
  absl::flat_hash_map<std::uint64_t, double> position_;  //!< (account << 32 | instrument) -> signed qty
  std::int64_t first_ns_ = 0;
  std::int64_t last_ns_ = 0;
};

}  // namespace fillsim
