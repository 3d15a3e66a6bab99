#pragma once
// Instruments: what a venue's symbol means (kind, underlying, expiry, strike, call/put) and how its
// quantities convert to base units (contract value, inverse or linear).

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/types.h"

namespace segmentd {

struct Instrument {
  Venue venue = Venue::kNative;
  std::string symbol;  //!< exactly as the venue spells it
  InstrumentKind kind = InstrumentKind::kSpot;
  std::string base;            //!< underlying asset: "BTC", "ETH", "HYPE"; "@107" for HL spot ids
  std::string quote;           //!< "USD", "USDT", "USDC", ...
  std::int64_t expiry_ns = 0;  //!< expiry instant (08:00 UTC on the expiry date); 0 if none
  double strike = 0.0;
  OptionType option_type = OptionType::kNone;
  //! Linear: base units per contract (1.0 when the venue quotes size in base units).
  //! Inverse: USD per contract (Deribit BTC futures: 10).
  double contract_value = 1.0;
  bool inverse = false;  //!< margined and settled in the base asset, sized in USD
};

//! What a venue's symbol means: an Instrument with the venue's default contract spec, or
//! InvalidArgument naming the symbol and why. The venues' grammars are wire knowledge and live in
//! protocol/ (protocol/venues/registry.h: parse_symbol); core takes one as a parameter.
using SymbolParser = absl::StatusOr<Instrument> (*)(Venue venue, std::string_view symbol);

//! Expiry instant of a calendar date, 08:00 UTC (the convention of Deribit, OKX, Binance, Bybit).
std::int64_t expiry_at_0800_utc(int year, int month, int day);

//! Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (any int64 year).
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d);

}  // namespace segmentd
