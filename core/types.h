#pragma once
// Small vocabulary enums shared by every level. Names are the lower-case strings used on the
// wire (native NDJSON format, publisher messages, config), see to_string/parse_* below.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace segmentd {

using AccountId = std::uint32_t;     //!< dense id from AccountInterner, 0..N-1
using InstrumentId = std::uint32_t;  //!< dense id from InstrumentRegistry
using UnderlyingId = std::uint16_t;  //!< dense id of an underlying asset (BTC, ETH, ...)
using SegmentId = std::uint32_t;     //!< never reused; kNoSegment before assignment

inline constexpr SegmentId kNoSegment = 0;

enum class Venue : std::uint8_t { kNative = 0, kDeribit, kBinance, kOkx, kBybit, kHyperliquid };
inline constexpr int kVenueCount = 6;

enum class Side : std::uint8_t { kBuy = 0, kSell };
enum class Liquidity : std::uint8_t { kUnknown = 0, kMaker, kTaker };
enum class InstrumentKind : std::uint8_t { kSpot = 0, kPerpetual, kFuture, kOption };
enum class OptionType : std::uint8_t { kNone = 0, kCall, kPut };
//! The market's stress regime (core/market_regime.h): what a segment's policy depends on.
enum class Regime : std::uint8_t { kCalm = 0, kStressed = 1, kExtreme = 2 };
inline constexpr std::size_t kRegimeCount = 3;

std::string_view to_string(Venue v);
std::string_view to_string(Side s);
std::string_view to_string(Liquidity l);
std::string_view to_string(InstrumentKind k);
std::string_view to_string(OptionType t);
const char* to_string(Regime r);  //!< "calm", "stressed", "extreme"

std::optional<Venue> parse_venue(std::string_view s);
std::optional<Side> parse_side(std::string_view s);
std::optional<Liquidity> parse_liquidity(std::string_view s);

//! +1 for a buy, -1 for a sell.
constexpr double sign(Side s) { return s == Side::kBuy ? 1.0 : -1.0; }

}  // namespace segmentd
