#include "protocol/venues/binance/symbols.h"

#include "protocol/venues/symbol_grammar.h"

namespace segmentd {
namespace {

using namespace symbol_grammar;  // NOLINT(google-build-using-namespace): the grammar's toolkit

// ---------------------------------------------------------------------------------------------
// Binance: BTCUSDT (USDⓈ-M perp), BTCUSDT_250328, BTCUSD_PERP, BTCUSD_250328 (COIN-M),
// BTC-220930-18000-C (options).

}  // namespace

absl::StatusOr<Instrument> parse_binance_symbol(std::string_view s) {
  if (s.find('-') != std::string_view::npos) {
    std::size_t n = 0;
    const auto parts = split(s, '-', &n);
    if (!parts || n != 4) return fail("Binance option is not BASE-YYMMDD-STRIKE-C/P");
    if (!is_asset((*parts)[0])) return fail("base currency is not an asset code");
    Instrument inst = make((*parts)[0], "USDT", InstrumentKind::kOption);
    if (auto st = fill_option(inst, parse_yymmdd((*parts)[1]), (*parts)[2], (*parts)[3]); !st.ok()) return st;
    return inst;
  }
  const std::size_t underscore = s.find('_');
  const std::string_view pair_text = s.substr(0, underscore);
  const auto pair = split_pair(pair_text);
  if (!pair) return fail("no known quote suffix (USDT, USDC, FDUSD, BUSD, USD) after a base asset");
  const auto [base, quote] = *pair;
  const bool coin_m = quote == "USD";
  Instrument inst = make(base, quote, InstrumentKind::kPerpetual);
  if (underscore != std::string_view::npos) {
    const std::string_view suffix = s.substr(underscore + 1);
    if (suffix != "PERP") {
      auto date = parse_yymmdd(suffix);
      if (!date.ok()) return date.status();
      inst.kind = InstrumentKind::kFuture;
      inst.expiry_ns = expiry_ns(*date);
    }
  } else if (coin_m) {
    return fail("COIN-M symbols end in _PERP or _YYMMDD");
  }
  if (coin_m) set_inverse(inst, base == "BTC" ? 100.0 : 10.0);
  return inst;
}

}  // namespace segmentd
