#include "protocol/venues/deribit/symbols.h"

#include "protocol/venues/symbol_grammar.h"

namespace segmentd {
namespace {

using namespace symbol_grammar;  // NOLINT(google-build-using-namespace): the grammar's toolkit

// ---------------------------------------------------------------------------------------------
// Deribit: BTC-PERPETUAL, BTC-27DEC24, BTC-27DEC24-50000-C, BTC_USDC-PERPETUAL,
// XRP_USDC-30MAY25-2d2-C, spot BTC_USDC.

}  // namespace

absl::StatusOr<Instrument> parse_deribit_symbol(std::string_view s) {
  std::size_t n = 0;
  const auto parts = split(s, '-', &n);
  if (!parts) return fail("too many '-' fields for Deribit");
  const std::string_view head = (*parts)[0];
  const std::size_t underscore = head.find('_');
  const bool linear = underscore != std::string_view::npos;
  const std::string_view base = head.substr(0, underscore);
  const std::string_view quote = linear ? head.substr(underscore + 1) : std::string_view();
  if (!is_asset(base)) return fail("base currency is not an asset code");
  if (linear && !is_quote(quote)) return fail("quote currency after '_' is not a currency code");

  if (n == 1) {
    if (!linear) return fail("a bare currency is not a Deribit instrument");
    // Spot pairs quote in a handful of currencies; anything else ("BTCUSD_PERP") is not Deribit.
    if (quote != "USDC" && quote != "USDT" && quote != "EURR" && quote != "BTC" && quote != "ETH")
      return fail("spot quote currency is not USDC, USDT, EURR, BTC or ETH");
    return make(base, quote, InstrumentKind::kSpot);
  }
  if (linear && quote != "USDC" && quote != "USDT") return fail("Deribit linear derivatives settle in USDC or USDT");
  if (n == 2) {
    Instrument inst = make(base, linear ? quote : "USD", InstrumentKind::kPerpetual);
    if ((*parts)[1] != "PERPETUAL") {
      auto date = parse_dmmmyy((*parts)[1]);
      if (!date.ok()) return date.status();
      inst.kind = InstrumentKind::kFuture;
      inst.expiry_ns = expiry_ns(*date);
    }
    if (!linear) set_inverse(inst, base == "BTC" ? 10.0 : 1.0);
    return inst;
  }
  if (n == 4) {
    // Options are sized in the coin; premium is in the coin (inverse-style) or in USDC.
    Instrument inst = make(base, linear ? quote : base, InstrumentKind::kOption);
    if (auto st = fill_option(inst, parse_dmmmyy((*parts)[1]), (*parts)[2], (*parts)[3]); !st.ok()) return st;
    return inst;
  }
  return fail("not BASE-PERPETUAL, BASE-DMMMYY or BASE-DMMMYY-STRIKE-C/P");
}

}  // namespace segmentd
