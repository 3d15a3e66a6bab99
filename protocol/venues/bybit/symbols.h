#pragma once
// Bybit symbol grammar: what a Bybit symbol means (kind, underlying, expiry, strike, call/put)
// and its default contract spec (protocol/venues/symbol_grammar.h lists every venue's defaults).

#include <string_view>

#include "absl/status/statusor.h"
#include "core/instrument.h"

namespace segmentd {

//! Bybit spells a spot pair and the perpetual of the same coins alike (BTCUSDT); only the
//! execution's "category" tells them apart. The registry knows the spot pair as this prefix
//! followed by Bybit's symbol ("spot:BTCUSDT"): an Instrument of kind spot whose symbol is
//! Bybit's own ("BTCUSDT"). The bare symbol stays the perpetual (or future, or option).
inline constexpr std::string_view kBybitSpotPrefix = "spot:";

//! Parses a Bybit symbol, or kBybitSpotPrefix + a spot pair quoted in USDT or USDC;
//! InvalidArgument with a short reason when it is not one. The venue is set by parse_symbol()
//! (protocol/venues/registry.h), and the symbol too, except for a spot pair (set here to Bybit's
//! spelling, without the prefix).
absl::StatusOr<Instrument> parse_bybit_symbol(std::string_view symbol);

}  // namespace segmentd
