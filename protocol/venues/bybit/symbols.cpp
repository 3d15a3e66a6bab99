#include "protocol/venues/bybit/symbols.h"

#include "protocol/venues/symbol_grammar.h"

namespace segmentd {
namespace {

using namespace symbol_grammar;  // NOLINT(google-build-using-namespace): the grammar's toolkit

// ---------------------------------------------------------------------------------------------
// Bybit: BTCUSDT, BTCUSDC, BTCPERP (linear perps), BTCUSD (inverse perp), BTCUSDH25 (inverse
// future), BTC-26DEC25 (USDC future), BTCUSDT-26DEC25 (USDT future), BTC-30DEC22-18000-C[-USDT];
// spot:BTCUSDT (the spot pair BTCUSDT, see symbols.h).

//! Futures month codes F G H J K M N Q U V X Z = Jan..Dec.
std::optional<int> month_from_code(char c) {
  static constexpr std::string_view kCodes = "FGHJKMNQUVXZ";
  const std::size_t i = kCodes.find(c);
  if (i == std::string_view::npos) return std::nullopt;
  return static_cast<int>(i) + 1;
}

//! Bybit inverse futures expire on the last Friday of the contract month.
Date last_friday(int year, int month) {
  const int last = days_in_month(year, month);
  const std::int64_t days = days_from_civil(year, month, last);
  const int weekday = static_cast<int>(((days % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday (4)
  constexpr int kFriday = 5;
  return Date{year, month, last - (weekday - kFriday + 7) % 7};
}

//! The spot pair of Bybit's symbol `pair` (BTCUSDT): base + USDT or USDC.
absl::StatusOr<Instrument> parse_spot_pair(std::string_view pair) {
  const auto split = split_pair(pair);
  if (!split || (split->second != "USDT" && split->second != "USDC"))
    return fail("spot pair: not a base asset followed by USDT or USDC");
  Instrument inst = make(split->first, split->second, InstrumentKind::kSpot);
  inst.symbol = std::string(pair);  // Bybit's spelling, without the prefix
  return inst;
}

}  // namespace

absl::StatusOr<Instrument> parse_bybit_symbol(std::string_view s) {
  if (s.substr(0, kBybitSpotPrefix.size()) == kBybitSpotPrefix)
    return parse_spot_pair(s.substr(kBybitSpotPrefix.size()));
  if (s.find('-') != std::string_view::npos) {
    std::size_t n = 0;
    const auto parts = split(s, '-', &n);
    if (!parts) return fail("too many '-' fields for Bybit");
    const std::string_view head = (*parts)[0];
    if (n == 2) {
      std::string_view base = head;
      std::string_view quote = "USDC";
      if (const auto pair = split_pair(head)) {
        if (pair->second != "USDT" && pair->second != "USDC") return fail("dated futures settle in USDC or USDT");
        base = pair->first;
        quote = pair->second;
      }
      if (!is_asset(base)) return fail("base currency is not an asset code");
      Instrument inst = make(base, quote, InstrumentKind::kPerpetual);
      if ((*parts)[1] != "PERP") {
        auto date = parse_dmmmyy((*parts)[1]);
        if (!date.ok()) return date.status();
        inst.kind = InstrumentKind::kFuture;
        inst.expiry_ns = expiry_ns(*date);
      }
      return inst;
    }
    if (n == 4 || n == 5) {
      if (!is_asset(head)) return fail("base currency is not an asset code");
      std::string_view settle = "USDC";
      if (n == 5) {
        settle = (*parts)[4];
        if (settle != "USDT" && settle != "USDC") return fail("option settle currency is not USDT or USDC");
      }
      Instrument inst = make(head, settle, InstrumentKind::kOption);
      if (auto st = fill_option(inst, parse_dmmmyy((*parts)[1]), (*parts)[2], (*parts)[3]); !st.ok()) return st;
      return inst;
    }
    return fail("not BASE-DMMMYY or BASE-DMMMYY-STRIKE-C/P[-SETTLE]");
  }

  // Inverse futures: BASE + "USD" + month code + YY.
  if (s.size() >= 7 && all_digits(s.substr(s.size() - 2)) && ends_with(s.substr(0, s.size() - 3), "USD")) {
    const auto month = month_from_code(s[s.size() - 3]);
    const std::string_view base = s.substr(0, s.size() - 6);
    if (month && is_asset(base)) {
      Instrument inst = make(base, "USD", InstrumentKind::kFuture);
      inst.expiry_ns = expiry_ns(last_friday(2000 + *parse_small_uint(s.substr(s.size() - 2), 2), *month));
      set_inverse(inst, 1.0);
      return inst;
    }
  }
  if (ends_with(s, "PERP") && is_asset(s.substr(0, s.size() - 4))) {
    return make(s.substr(0, s.size() - 4), "USDC", InstrumentKind::kPerpetual);
  }
  const auto pair = split_pair(s);
  if (!pair || pair->second == "FDUSD" || pair->second == "BUSD")
    return fail("no known quote suffix (USDT, USDC, USD) after a base asset");
  Instrument inst = make(pair->first, pair->second, InstrumentKind::kPerpetual);
  if (pair->second == "USD") set_inverse(inst, 1.0);
  return inst;
}

}  // namespace segmentd
