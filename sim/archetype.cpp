#include "sim/archetype.h"

namespace fillsim {
namespace {

constexpr std::string_view kNames[kArchetypeCount] = {
    "market_maker", "vol_arb", "whale", "option_lottery", "hft_scalper", "premium_seller", "perp_gambler", "hedger",
};

// activity, ticket_usd, ticket_sigma, account_sigma, maker_prob. Activities span three orders of
// magnitude so that trade_rate separates the fast (HFT, MM), medium and slow archetypes.
constexpr ArchetypeParams kParams[kArchetypeCount] = {
    {40.0, 25'000, 0.5, 0.3, 0.92},    // market maker
    {5.0, 150'000, 0.4, 0.3, 0.50},    // vol / basis
    {1.5, 1'500'000, 0.5, 0.4, 0.10},  // whale
    {1.0, 12'000, 0.5, 0.3, 0.05},     // option lottery (0.1..1 BTC of far-OTM options)
    {100.0, 15'000, 0.4, 0.3, 0.35},   // HFT scalper
    {3.0, 80'000, 0.4, 0.3, 0.65},     // premium seller
    {2.0, 3'000, 0.8, 0.5, 0.10},      // perp gambler
    {0.4, 800'000, 0.4, 0.3, 0.45},    // institutional hedger
};

}  // namespace

std::string_view to_string(Archetype a) { return kNames[static_cast<int>(a)]; }

std::optional<Archetype> parse_archetype(std::string_view s) {
  for (int i = 0; i < kArchetypeCount; ++i) {
    if (kNames[i] == s) return static_cast<Archetype>(i);
  }
  return std::nullopt;
}

const ArchetypeParams& params(Archetype a) { return kParams[static_cast<int>(a)]; }

std::array<double, kArchetypeCount> default_mix() {
  // Retail is the bulk of a venue's accounts; the professional archetypes are fewer but trade more.
  return {0.08, 0.10, 0.07, 0.20, 0.08, 0.10, 0.27, 0.10};
}

}  // namespace fillsim
