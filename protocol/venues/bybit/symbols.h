#pragma once
// Bybit symbol grammar: what a Bybit symbol means (kind, underlying, expiry, strike, call/put)
// and its default contract spec (protocol/venues/symbol_grammar.h lists every venue's defaults).

#include <string_view>

#include "absl/status/statusor.h"
#include "core/instrument.h"

namespace segmentd {

//! Parses a Bybit symbol; InvalidArgument with a short reason when it is not one. The venue and
//! the symbol itself are set by parse_symbol() (protocol/venues/registry.h).
absl::StatusOr<Instrument> parse_bybit_symbol(std::string_view symbol);

}  // namespace segmentd
