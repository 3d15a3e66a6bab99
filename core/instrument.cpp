#include "core/instrument.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

// Symbol grammars, one parser per venue. Every parser works on std::string_view with explicit
// bounds, rejects anything it does not fully understand (no partial matches, no trailing bytes)
// and reports why in a short reason; parse_symbol() adds the venue and the (escaped) symbol.
// Input is untrusted and fuzzed: no exceptions, no unchecked indexing, no unbounded numbers.
//
// Contract-value defaults (overridable per venue + symbol prefix in InstrumentRegistry):
//   Deribit  inverse futures/perps: BTC 10 USD, others 1 USD; linear (_USDC/_USDT) and options:
//            1 base unit (amounts are in the coin).
//   OKX      coin-margined (-USD-) futures/swaps: BTC 100 USD, others 10 USD; USDT-margined:
//            BTC 0.01, ETH 0.1 base (other coins have per-instrument ctVal: 1 until overridden);
//            options: BTC 0.01, ETH 0.1 base (OKX "contract multiplier").
//   Binance  COIN-M: BTC 100 USD, others 10 USD; USDⓈ-M and options: 1 base unit.
//   Bybit    inverse: 1 USD; linear, USDC futures and options: 1 base unit.
//   Hyperliquid: 1 base unit.
//   Native   quantities are already in base units (see core/fill.h): 1 base unit, never inverse.

namespace segmentd {
namespace {

constexpr std::size_t kMaxSymbolBytes = 64;  //!< longer than any real symbol; bounds error text
constexpr std::size_t kMaxAssetBytes = 20;   //!< "1000000MOG" is 10; leaves room, bounds junk
constexpr std::size_t kMaxParts = 6;
constexpr std::int64_t kNsPerSecond = 1'000'000'000;

using Parsed = absl::StatusOr<Instrument>;

absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status fail(std::string_view reason) { return absl::InvalidArgumentError(av(reason)); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

//! Venue asset codes: upper-case letters and digits ("BTC", "1000PEPE"), at least one letter.
bool is_asset(std::string_view s) {
  if (s.empty() || s.size() > kMaxAssetBytes) return false;
  bool letter = false;
  for (char c : s) {
    if (is_upper(c)) {
      letter = true;
    } else if (!is_digit(c)) {
      return false;
    }
  }
  return letter;
}

//! Quote currencies are letters only ("USDT", "EUR"), which keeps "BTC-32DEC24" from reading as
//! an OKX spot pair.
bool is_quote(std::string_view s) {
  if (s.size() < 2 || s.size() > 10) return false;
  for (char c : s)
    if (!is_upper(c)) return false;
  return true;
}

//! Hyperliquid perp names also use lower case ("kPEPE").
bool is_hl_asset(std::string_view s) {
  if (s.empty() || s.size() > kMaxAssetBytes) return false;
  bool letter = false;
  for (char c : s) {
    if (is_upper(c) || is_lower(c)) {
      letter = true;
    } else if (!is_digit(c)) {
      return false;
    }
  }
  return letter;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

//! Splits on `sep`; nullopt when there are more than kMaxParts fields.
std::optional<std::array<std::string_view, kMaxParts>> split(std::string_view s, char sep, std::size_t* n) {
  std::array<std::string_view, kMaxParts> parts{};
  *n = 0;
  std::size_t start = 0;
  while (true) {
    if (*n == kMaxParts) return std::nullopt;
    const std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts[(*n)++] = s.substr(start);
      return parts;
    }
    parts[(*n)++] = s.substr(start, pos - start);
    start = pos + 1;
  }
}

//! Parses 1..max_digits ASCII digits (no sign, no blanks); nullopt otherwise.
std::optional<int> parse_small_uint(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits || !all_digits(s)) return std::nullopt;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

//! Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. Counts in 400-year eras
//! that start on March 1st, so the leap day is the last day of its "year" and month lengths from
//! March on follow the fixed pattern 31,30,31,30,31 (153 days per 5 months).
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) {
  if (m <= 2) y -= 1;  // January and February belong to the previous March-based year
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;                        // [0, 399]
  const std::int64_t march_month = m > 2 ? m - 3 : m + 9;                // [0, 11], 0 = March
  const std::int64_t day_of_year = (153 * march_month + 2) / 5 + d - 1;  // [0, 365]
  const std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  constexpr std::int64_t kEraOf1970 = 719468;  // days from 0000-03-01 to 1970-01-01
  return era * 146097 + day_of_era - kEraOf1970;
}

struct Date {
  int year = 0;
  int month = 0;
  int day = 0;
};

absl::StatusOr<Date> make_date(int year, int month, int day) {
  if (month < 1 || month > 12) return fail("month out of range");
  if (day < 1 || day > days_in_month(year, month)) return fail("day out of range for the month");
  return Date{year, month, day};
}

std::optional<int> month_from_name(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                              "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (s == kNames[i]) return static_cast<int>(i) + 1;
  return std::nullopt;
}

//! Deribit / Bybit: D{1,2}MMMYY, e.g. "27DEC24", "5JAN24".
absl::StatusOr<Date> parse_dmmmyy(std::string_view s) {
  std::size_t digits = 0;
  while (digits < s.size() && is_digit(s[digits])) ++digits;
  if (digits < 1 || digits > 2 || s.size() != digits + 5) return fail("expiry is not DMMMYY (e.g. 27DEC24)");
  const auto day = parse_small_uint(s.substr(0, digits), 2);
  const auto month = month_from_name(s.substr(digits, 3));
  const auto year = parse_small_uint(s.substr(digits + 3, 2), 2);
  if (!month) return fail("unknown month in expiry");
  if (!day || !year) return fail("expiry is not DMMMYY (e.g. 27DEC24)");
  return make_date(2000 + *year, *month, *day);
}

//! OKX / Binance: YYMMDD, e.g. "250328".
absl::StatusOr<Date> parse_yymmdd(std::string_view s) {
  if (s.size() != 6 || !all_digits(s)) return fail("expiry is not YYMMDD (e.g. 250328)");
  return make_date(2000 + *parse_small_uint(s.substr(0, 2), 2), *parse_small_uint(s.substr(2, 2), 2),
                   *parse_small_uint(s.substr(4, 2), 2));
}

//! Strike: digits with an optional decimal part after '.' or Deribit's 'd' ("2d2" = 2.2).
absl::StatusOr<double> parse_strike(std::string_view s) {
  constexpr std::size_t kMaxIntDigits = 12;  // 1e12: far above any strike, far below overflow
  constexpr std::size_t kMaxFracDigits = 10;
  const std::size_t sep = s.find_first_of(".d");
  const std::string_view int_part = s.substr(0, sep);
  const std::string_view frac_part = sep == std::string_view::npos ? std::string_view() : s.substr(sep + 1);
  if (!all_digits(int_part) || (sep != std::string_view::npos && !all_digits(frac_part)))
    return fail("strike is not a decimal number");
  if (int_part.size() > kMaxIntDigits || frac_part.size() > kMaxFracDigits) return fail("strike out of range");
  std::string text(int_part);
  if (!frac_part.empty()) absl::StrAppend(&text, ".", av(frac_part));
  double v = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
    return fail("strike is not a decimal number");
  if (!(v > 0.0)) return fail("strike must be positive");
  return v;
}

absl::StatusOr<OptionType> parse_option_type(std::string_view s) {
  if (s == "C") return OptionType::kCall;
  if (s == "P") return OptionType::kPut;
  return fail("option type is not C or P");
}

std::int64_t expiry_ns(const Date& d) { return expiry_at_0800_utc(d.year, d.month, d.day); }

//! Fills expiry, strike and option type from the date, strike and C/P fields of an option.
absl::Status fill_option(Instrument& inst, absl::StatusOr<Date> date, std::string_view strike, std::string_view cp) {
  if (!date.ok()) return date.status();
  auto k = parse_strike(strike);
  if (!k.ok()) return k.status();
  auto type = parse_option_type(cp);
  if (!type.ok()) return type.status();
  inst.kind = InstrumentKind::kOption;
  inst.expiry_ns = expiry_ns(*date);
  inst.strike = *k;
  inst.option_type = *type;
  return absl::OkStatus();
}

//! Splits a concatenated pair ("BTCUSDT") at a known quote suffix. "FDUSD" and "BUSD" are tried
//! before "USD", which they end with.
std::optional<std::pair<std::string_view, std::string_view>> split_pair(std::string_view s) {
  static constexpr std::array<std::string_view, 5> kQuotes = {"FDUSD", "USDT", "USDC", "BUSD", "USD"};
  for (std::string_view q : kQuotes) {
    if (ends_with(s, q) && s.size() > q.size()) {
      const std::string_view base = s.substr(0, s.size() - q.size());
      if (is_asset(base)) return std::make_pair(base, q);
    }
  }
  return std::nullopt;
}

Instrument make(std::string_view base, std::string_view quote, InstrumentKind kind) {
  Instrument inst;
  inst.base = std::string(base);
  inst.quote = std::string(quote);
  inst.kind = kind;
  return inst;
}

void set_inverse(Instrument& inst, double usd_per_contract) {
  inst.inverse = true;
  inst.contract_value = usd_per_contract;
}

// ---------------------------------------------------------------------------------------------
// Deribit: BTC-PERPETUAL, BTC-27DEC24, BTC-27DEC24-50000-C, BTC_USDC-PERPETUAL,
// XRP_USDC-30MAY25-2d2-C, spot BTC_USDC.

Parsed parse_deribit(std::string_view s) {
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

// ---------------------------------------------------------------------------------------------
// OKX: BTC-USDT (spot), BTC-USDT-SWAP, BTC-USD-SWAP, BTC-USD-250328, BTC-USDT-250328,
// BTC-USD-250328-50000-C.

double okx_linear_ct_val(std::string_view base, std::string_view quote) {
  if (quote == "USDT" && base == "BTC") return 0.01;
  if (quote == "USDT" && base == "ETH") return 0.1;
  return 1.0;  // per-instrument on OKX; set the real value with a ContractOverride
}

Parsed parse_okx(std::string_view s) {
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

// ---------------------------------------------------------------------------------------------
// Binance: BTCUSDT (USDⓈ-M perp), BTCUSDT_250328, BTCUSD_PERP, BTCUSD_250328 (COIN-M),
// BTC-220930-18000-C (options).

Parsed parse_binance(std::string_view s) {
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

// ---------------------------------------------------------------------------------------------
// Bybit: BTCUSDT, BTCUSDC, BTCPERP (linear perps), BTCUSD (inverse perp), BTCUSDH25 (inverse
// future), BTC-26DEC25 (USDC future), BTCUSDT-26DEC25 (USDT future), BTC-30DEC22-18000-C[-USDT].

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

Parsed parse_bybit(std::string_view s) {
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

// ---------------------------------------------------------------------------------------------
// Hyperliquid: BTC (perp), @107 (spot pair index), PURR/USDC (spot).

Parsed parse_hyperliquid(std::string_view s) {
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

Parsed parse_native(std::string_view s) {
  // A native file may use any venue's naming; quantities in it are already in base units.
  // Hyperliquid's bare names accept any alphanumeric word, so they go last; Bybit goes before
  // them so that "BTCUSD" and "BTCUSDH25" keep BTC as their underlying.
  std::string reasons;
  for (auto [name, parser] :
       {std::pair{"deribit", &parse_deribit}, std::pair{"okx", &parse_okx}, std::pair{"binance", &parse_binance},
        std::pair{"bybit", &parse_bybit}, std::pair{"hyperliquid", &parse_hyperliquid}}) {
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

}  // namespace

absl::StatusOr<Instrument> parse_symbol(Venue venue, std::string_view symbol) {
  Parsed parsed = fail("empty symbol");
  if (symbol.size() > kMaxSymbolBytes) {
    parsed = fail("symbol longer than 64 bytes");
  } else if (!symbol.empty()) {
    switch (venue) {
      case Venue::kNative: parsed = parse_native(symbol); break;
      case Venue::kDeribit: parsed = parse_deribit(symbol); break;
      case Venue::kOkx: parsed = parse_okx(symbol); break;
      case Venue::kBinance: parsed = parse_binance(symbol); break;
      case Venue::kBybit: parsed = parse_bybit(symbol); break;
      case Venue::kHyperliquid: parsed = parse_hyperliquid(symbol); break;
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
  parsed->symbol = std::string(symbol);
  return parsed;
}

std::int64_t expiry_at_0800_utc(int year, int month, int day) {
  constexpr std::int64_t kSecondsPerDay = 86'400;
  constexpr std::int64_t kEightHours = std::int64_t{8} * 3'600;
  const std::int64_t seconds = days_from_civil(year, month, day) * kSecondsPerDay + kEightHours;
  // Saturate outside the int64 nanosecond range (years ~1678..2262) instead of overflowing.
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / kNsPerSecond;
  if (seconds > kMaxSeconds) return std::numeric_limits<std::int64_t>::max();
  if (seconds < -kMaxSeconds) return std::numeric_limits<std::int64_t>::min();
  return seconds * kNsPerSecond;
}

}  // namespace segmentd
