#pragma once
// Feature vector v1 (core/features.md): 16 behavioural features per account, in raw (original)
// units. The clusterer standardizes them; labels and reasons are written in raw units.

#include <array>
#include <string_view>

namespace segmentd {

enum class Feature : int {
  kTradeRate = 0,       //!< log1p(fills per hour)
  kNotionalRate,        //!< log1p(USD notional per hour)
  kTicketSize,          //!< log1p(notional / fills)
  kMakerRatio,          //!< maker notional / notional, [0, 1]
  kDirectionImbalance,  //!< |buy − sell notional| / notional, [0, 1]
  kDeltaNeutrality,     //!< 1 − |net delta USD| / gross delta USD of open positions, [0, 1]
  kVegaBias,            //!< net vega / gross vega of open positions, [−1, 1]
  kOptionShare,         //!< option notional / notional, [0, 1]
  kFutureShare,         //!< dated-future notional / notional, [0, 1]
  kPerpShare,           //!< perpetual notional / notional, [0, 1]
  kTenor,               //!< log1p(notional-weighted days to expiry)
  kMoneyness,           //!< notional-weighted |ln(K/F)| of option fills
  kConcentration,       //!< Herfindahl index of notional across underlyings, (0, 1]
  kTurnover,            //!< log1p(notional per hour / mean gross position USD)
  kMarkoutBps,          //!< notional-weighted side·(P(t+h) − P_fill)/P_fill in bps
  kExposure,            //!< log1p(gross delta USD of open positions)
};

inline constexpr int kFeatureCount = 16;
using FeatureVector = std::array<double, kFeatureCount>;

inline constexpr std::array<std::string_view, kFeatureCount> kFeatureNames = {
    "trade_rate",          "notional_rate",    "ticket_size", "maker_ratio",
    "direction_imbalance", "delta_neutrality", "vega_bias",   "option_share",
    "future_share",        "perp_share",       "tenor",       "moneyness",
    "concentration",       "turnover",         "markout_bps", "exposure"};

constexpr std::string_view feature_name(Feature f) { return kFeatureNames[static_cast<int>(f)]; }
constexpr int index(Feature f) { return static_cast<int>(f); }

}  // namespace segmentd
