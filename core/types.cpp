#include "core/types.h"

namespace segmentd {

std::string_view to_string(Venue v) {
  switch (v) {
    case Venue::kNative: return "native";
    case Venue::kDeribit: return "deribit";
    case Venue::kBinance: return "binance";
    case Venue::kOkx: return "okx";
    case Venue::kBybit: return "bybit";
    case Venue::kHyperliquid: return "hyperliquid";
  }
  return "?";
}

std::string_view to_string(Side s) { return s == Side::kBuy ? "buy" : "sell"; }

std::string_view to_string(Liquidity l) {
  switch (l) {
    case Liquidity::kMaker: return "maker";
    case Liquidity::kTaker: return "taker";
    case Liquidity::kUnknown: return "unknown";
  }
  return "?";
}

std::string_view to_string(InstrumentKind k) {
  switch (k) {
    case InstrumentKind::kSpot: return "spot";
    case InstrumentKind::kPerpetual: return "perpetual";
    case InstrumentKind::kFuture: return "future";
    case InstrumentKind::kOption: return "option";
  }
  return "?";
}

const char* to_string(Regime r) {
  switch (r) {
    case Regime::kCalm: return "calm";
    case Regime::kStressed: return "stressed";
    case Regime::kExtreme: return "extreme";
  }
  return "calm";
}

std::string_view to_string(OptionType t) {
  switch (t) {
    case OptionType::kCall: return "call";
    case OptionType::kPut: return "put";
    case OptionType::kNone: return "none";
  }
  return "?";
}

std::optional<Venue> parse_venue(std::string_view s) {
  for (int i = 0; i < kVenueCount; ++i) {
    auto v = static_cast<Venue>(i);
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

std::optional<Side> parse_side(std::string_view s) {
  if (s == "buy") return Side::kBuy;
  if (s == "sell") return Side::kSell;
  return std::nullopt;
}

std::optional<Liquidity> parse_liquidity(std::string_view s) {
  if (s == "maker") return Liquidity::kMaker;
  if (s == "taker") return Liquidity::kTaker;
  if (s == "unknown") return Liquidity::kUnknown;
  return std::nullopt;
}

}  // namespace segmentd
