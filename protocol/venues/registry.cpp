#include "protocol/venues/registry.h"

#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "protocol/venues/binance/adapter.h"
#include "protocol/venues/binance/symbols.h"
#include "protocol/venues/bybit/adapter.h"
#include "protocol/venues/bybit/symbols.h"
#include "protocol/venues/deribit/adapter.h"
#include "protocol/venues/deribit/symbols.h"
#include "protocol/venues/hyperliquid/adapter.h"
#include "protocol/venues/hyperliquid/symbols.h"
#include "protocol/venues/okx/adapter.h"
#include "protocol/venues/okx/symbols.h"
#include "protocol/venues/symbol_grammar.h"

namespace segmentd {

using namespace symbol_grammar;  // NOLINT(google-build-using-namespace): the grammar's toolkit

std::unique_ptr<VenueAdapter> make_venue_adapter(Venue venue, AdapterContext context) {
  switch (venue) {
    case Venue::kDeribit: return make_deribit_adapter(std::move(context));
    case Venue::kBinance: return make_binance_adapter(std::move(context));
    case Venue::kOkx: return make_okx_adapter(std::move(context));
    case Venue::kBybit: return make_bybit_adapter(std::move(context));
    case Venue::kHyperliquid: return make_hyperliquid_adapter(std::move(context));
    case Venue::kNative: return nullptr;
  }
  return nullptr;
}

absl::StatusOr<Instrument> parse_native_symbol(std::string_view s) {
  // A native file may use any venue's naming; quantities in it are already in base units.
  // Hyperliquid's bare names accept any alphanumeric word, so they go last; Bybit goes before
  // them so that "BTCUSD" and "BTCUSDH25" keep BTC as their underlying.
  std::string reasons;
  for (auto [name, parser] : {std::pair{"deribit", &parse_deribit_symbol}, std::pair{"okx", &parse_okx_symbol},
                              std::pair{"binance", &parse_binance_symbol}, std::pair{"bybit", &parse_bybit_symbol},
                              std::pair{"hyperliquid", &parse_hyperliquid_symbol}}) {
    Parsed p = parser(s);
    if (p.ok()) {
      p->contract_value = 1.0;
      p->inverse = false;
      return p;
    }
    absl::StrAppend(&reasons, reasons.empty() ? "" : "; ", name, ": ", p.status().message());
  }
  return fail(absl::StrCat("matches no venue's naming (", reasons, ")"));
}

absl::StatusOr<Instrument> parse_symbol(Venue venue, std::string_view symbol) {
  Parsed parsed = fail("empty symbol");
  if (symbol.size() > kMaxSymbolBytes) {
    parsed = fail("symbol longer than 64 bytes");
  } else if (!symbol.empty()) {
    switch (venue) {
      case Venue::kNative: parsed = parse_native_symbol(symbol); break;
      case Venue::kDeribit: parsed = parse_deribit_symbol(symbol); break;
      case Venue::kOkx: parsed = parse_okx_symbol(symbol); break;
      case Venue::kBinance: parsed = parse_binance_symbol(symbol); break;
      case Venue::kBybit: parsed = parse_bybit_symbol(symbol); break;
      case Venue::kHyperliquid: parsed = parse_hyperliquid_symbol(symbol); break;
      default: parsed = fail("unknown venue"); break;
    }
  }
  if (!parsed.ok()) {
    const std::string_view shown = symbol.substr(0, kMaxSymbolBytes);
    return absl::InvalidArgumentError(
        absl::StrCat(av(to_string(venue)), " symbol \"", absl::CHexEscape(av(shown)),
                     symbol.size() > shown.size() ? "...\": " : "\": ", parsed.status().message()));
  }
  parsed->venue = venue;
  // A grammar sets the symbol only for a form of its own that the venue spells otherwise (Bybit's
  // "spot:BTCUSDT" is the spot pair Bybit calls "BTCUSDT").
  if (parsed->symbol.empty()) parsed->symbol = std::string(symbol);
  return parsed;
}

std::string native_symbol(const Instrument& ins) {
  if (ins.kind == InstrumentKind::kSpot && (ins.venue == Venue::kBybit || ins.venue == Venue::kNative)) {
    auto bare = parse_symbol(ins.venue, ins.symbol);
    if (!bare.ok() || bare->kind != InstrumentKind::kSpot) return std::string(kBybitSpotPrefix) + ins.symbol;
  }
  return ins.symbol;
}

}  // namespace segmentd
