#pragma once
// The trader archetypes the simulator draws accounts from, and the few numbers that set each
// one's behaviour. README.md describes every archetype on the 16 features of core/features.md; the
// behaviour itself is written out in simulator.cpp (one function per archetype).

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace fillsim {

enum class Archetype : std::uint8_t {
  kMarketMaker = 0,
  kVolArb,         //!< delta-neutral vol / basis trader
  kWhale,          //!< directional whale
  kOptionLottery,  //!< retail buyer of short-dated far-OTM options
  kHftScalper,
  kPremiumSeller,  //!< option premium seller (strangles, partly hedged)
  kPerpGambler,    //!< retail perpetual gambler
  kHedger,         //!< institutional hedger of a spot book
};
inline constexpr int kArchetypeCount = 8;

//! snake_case names used in the ground truth CSV and on the command line.
std::string_view to_string(Archetype a);
std::optional<Archetype> parse_archetype(std::string_view s);

struct ArchetypeParams {
  double activity;       //!< relative fill rate of one account (the population shares the total rate)
  double ticket_usd;     //!< median ticket, USD notional (options: underlying notional)
  double ticket_sigma;   //!< log-space spread of one ticket around the account's median
  double account_sigma;  //!< log-space spread of the account's median around ticket_usd
  double maker_prob;     //!< probability that a primary fill is passive (hedges have their own)
};

const ArchetypeParams& params(Archetype a);

//! Default population shares (sum 1).
std::array<double, kArchetypeCount> default_mix();

}  // namespace fillsim
