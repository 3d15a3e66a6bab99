#include "protocol/venues/hyperliquid/symbols.h"

#include "protocol/venues/symbol_grammar.h"

namespace segmentd {
namespace {

using namespace symbol_grammar;  // NOLINT(google-build-using-namespace): the grammar's toolkit

// ---------------------------------------------------------------------------------------------
// Hyperliquid: BTC (perp), @107 (spot pair index), PURR/USDC (spot).

}  // namespace

absl::StatusOr<Instrument> parse_hyperliquid_symbol(std::string_view s) {
  if (starts_with(s, "@")) {
    if (s.size() > 10 || !all_digits(s.substr(1))) return fail("spot index is not @ followed by digits");
    return make(s, "USDC", InstrumentKind::kSpot);
  }
  if (const std::size_t slash = s.find('/'); slash != std::string_view::npos) {
    const std::string_view base = s.substr(0, slash);
    const std::string_view quote = s.substr(slash + 1);
    if (!is_hl_asset(base) || !is_quote(quote)) return fail("spot pair is not BASE/QUOTE");
    return make(base, quote, InstrumentKind::kSpot);
  }
  if (!is_hl_asset(s)) return fail("perp name is not letters and digits");
  return make(s, "USD", InstrumentKind::kPerpetual);
}

}  // namespace segmentd
