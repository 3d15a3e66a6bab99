#pragma once
// The venues, side by side: the adapter of each (make_venue_adapter) and the symbol grammar of
// each (parse_symbol). Everything venue-specific lives in protocol/venues/<venue>/; this file is
// the one place that knows them all.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/instrument.h"
#include "protocol/venues/venue_adapter.h"

namespace segmentd {

//! The adapter of a venue; nullptr for Venue::kNative (the native format has its own parser).
std::unique_ptr<VenueAdapter> make_venue_adapter(Venue venue, AdapterContext context);

//! Parses a venue symbol into an Instrument with the venue's default contract spec. A native
//! symbol may use any venue's naming (quantities in native records are already base units).
//! Instrument::symbol is `symbol`, except for a registry-only form that names what the venue
//! spells ambiguously: Bybit's "spot:BTCUSDT" is the spot pair "BTCUSDT" (bybit/symbols.h).
//! Returns InvalidArgument naming the venue, the (escaped) symbol and why; never throws.
//! A SymbolParser (core/instrument.h): InstrumentRegistry takes it.
absl::StatusOr<Instrument> parse_symbol(Venue venue, std::string_view symbol);

//! The symbol that names `ins` in a native line, so that parse_symbol gives it back:
//! Instrument::symbol, except for a spot pair that the venue spells like another instrument
//! (Bybit's spot "BTCUSDT" is written "spot:BTCUSDT", the bare name being the perpetual).
std::string native_symbol(const Instrument& ins);

//! Parses a symbol in any venue's naming (the first grammar that accepts it, Hyperliquid's bare
//! names last), with the native contract spec: 1 base unit, never inverse.
absl::StatusOr<Instrument> parse_native_symbol(std::string_view symbol);

}  // namespace segmentd
