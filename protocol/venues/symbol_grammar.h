#pragma once
// The toolkit of the venues' symbol grammars (venues/<venue>/symbols.cpp): character classes,
// bounded splitting, dates and strikes. Every function works on std::string_view with explicit
// bounds and reports why it rejects in a short reason. Input is untrusted and fuzzed: no
// exceptions, no unchecked indexing, no unbounded numbers.
//
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

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/instrument.h"

namespace segmentd::symbol_grammar {

constexpr std::size_t kMaxSymbolBytes = 64;  //!< longer than any real symbol; bounds error text
constexpr std::size_t kMaxAssetBytes = 20;   //!< "1000000MOG" is 10; leaves room, bounds junk
constexpr std::size_t kMaxParts = 6;

using Parsed = absl::StatusOr<Instrument>;

inline absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

inline absl::Status fail(std::string_view reason) { return absl::InvalidArgumentError(av(reason)); }

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

inline bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

//! Venue asset codes: upper-case letters and digits ("BTC", "1000PEPE"), at least one letter.
inline bool is_asset(std::string_view s) {
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
inline bool is_quote(std::string_view s) {
  if (s.size() < 2 || s.size() > 10) return false;
  for (char c : s)
    if (!is_upper(c)) return false;
  return true;
}

//! Hyperliquid perp names also use lower case ("kPEPE").
inline bool is_hl_asset(std::string_view s) {
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

inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
inline bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

//! Splits on `sep`; nullopt when there are more than kMaxParts fields.
inline std::optional<std::array<std::string_view, kMaxParts>> split(std::string_view s, char sep, std::size_t* n) {
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
inline std::optional<int> parse_small_uint(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits || !all_digits(s)) return std::nullopt;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

inline bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

inline int days_in_month(int y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

struct Date {
  int year = 0;
  int month = 0;
  int day = 0;
};

inline absl::StatusOr<Date> make_date(int year, int month, int day) {
  if (month < 1 || month > 12) return fail("month out of range");
  if (day < 1 || day > days_in_month(year, month)) return fail("day out of range for the month");
  return Date{year, month, day};
}

inline std::optional<int> month_from_name(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                              "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (s == kNames[i]) return static_cast<int>(i) + 1;
  return std::nullopt;
}

//! Deribit / Bybit: D{1,2}MMMYY, e.g. "27DEC24", "5JAN24".
inline absl::StatusOr<Date> parse_dmmmyy(std::string_view s) {
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
inline absl::StatusOr<Date> parse_yymmdd(std::string_view s) {
  if (s.size() != 6 || !all_digits(s)) return fail("expiry is not YYMMDD (e.g. 250328)");
  return make_date(2000 + *parse_small_uint(s.substr(0, 2), 2), *parse_small_uint(s.substr(2, 2), 2),
                   *parse_small_uint(s.substr(4, 2), 2));
}

//! Strike: digits with an optional decimal part after '.' or Deribit's 'd' ("2d2" = 2.2).
inline absl::StatusOr<double> parse_strike(std::string_view s) {
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

inline absl::StatusOr<OptionType> parse_option_type(std::string_view s) {
  if (s == "C") return OptionType::kCall;
  if (s == "P") return OptionType::kPut;
  return fail("option type is not C or P");
}

inline std::int64_t expiry_ns(const Date& d) { return expiry_at_0800_utc(d.year, d.month, d.day); }

//! Fills expiry, strike and option type from the date, strike and C/P fields of an option.
inline absl::Status fill_option(Instrument& inst, absl::StatusOr<Date> date, std::string_view strike,
                                std::string_view cp) {
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
inline std::optional<std::pair<std::string_view, std::string_view>> split_pair(std::string_view s) {
  static constexpr std::array<std::string_view, 5> kQuotes = {"FDUSD", "USDT", "USDC", "BUSD", "USD"};
  for (std::string_view q : kQuotes) {
    if (ends_with(s, q) && s.size() > q.size()) {
      const std::string_view base = s.substr(0, s.size() - q.size());
      if (is_asset(base)) return std::make_pair(base, q);
    }
  }
  return std::nullopt;
}

inline Instrument make(std::string_view base, std::string_view quote, InstrumentKind kind) {
  Instrument inst;
  inst.base = std::string(base);
  inst.quote = std::string(quote);
  inst.kind = kind;
  return inst;
}

inline void set_inverse(Instrument& inst, double usd_per_contract) {
  inst.inverse = true;
  inst.contract_value = usd_per_contract;
}

}  // namespace segmentd::symbol_grammar
