#include "protocol/venues/okx/symbols.h"

#include "protocol/venues/symbol_grammar.h"

namespace segmentd {
namespace {

using namespace symbol_grammar;  // NOLINT(google-build-using-namespace): the grammar's toolkit

// ---------------------------------------------------------------------------------------------
// OKX: BTC-USDT (spot), BTC-USDT-SWAP, BTC-USD-SWAP, BTC-USD-250328, BTC-USDT-250328,
// BTC-USD-250328-50000-C.

double okx_linear_ct_val(std::string_view base, std::string_view quote) {
  if (quote == "USDT" && base == "BTC") return 0.01;
  if (quote == "USDT" && base == "ETH") return 0.1;
  return 1.0;  // per-instrument on OKX; set the real value with a ContractOverride
}

}  // namespace

absl::StatusOr<Instrument> parse_okx_symbol(std::string_view s) {
  std::size_t n = 0;
  const auto parts = split(s, '-', &n);
  if (!parts || n < 2) return fail("not an OKX instId (BASE-QUOTE[-...])");
  const std::string_view base = (*parts)[0];
  const std::string_view quote = (*parts)[1];
  if (!is_asset(base)) return fail("base currency is not an asset code");
  if (!is_quote(quote)) return fail("quote currency is not a currency code");
  const bool coin_margined = quote == "USD";

  if (n == 2) return make(base, quote, InstrumentKind::kSpot);
  if (n == 3) {
    Instrument inst = make(base, quote, InstrumentKind::kPerpetual);
    if ((*parts)[2] != "SWAP") {
      auto date = parse_yymmdd((*parts)[2]);
      if (!date.ok()) return date.status();
      inst.kind = InstrumentKind::kFuture;
      inst.expiry_ns = expiry_ns(*date);
    }
    if (coin_margined) {
      set_inverse(inst, base == "BTC" ? 100.0 : 10.0);
    } else {
      inst.contract_value = okx_linear_ct_val(base, quote);
    }
    return inst;
  }
  if (n == 5) {
    // Coin-margined options (BTC-USD-...) quote the premium in the coin.
    Instrument inst = make(base, coin_margined ? base : quote, InstrumentKind::kOption);
    if (auto st = fill_option(inst, parse_yymmdd((*parts)[2]), (*parts)[3], (*parts)[4]); !st.ok()) return st;
    inst.contract_value = base == "BTC" ? 0.01 : base == "ETH" ? 0.1 : 1.0;
    return inst;
  }
  return fail("not BASE-QUOTE, BASE-QUOTE-SWAP, BASE-QUOTE-YYMMDD or BASE-QUOTE-YYMMDD-STRIKE-C/P");
}

}  // namespace segmentd
