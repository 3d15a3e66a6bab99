// The venues' symbol grammars (protocol/venues/<venue>/symbols.*), through parse_symbol.
#include "protocol/venues/registry.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace segmentd {
namespace {

constexpr std::int64_t kNs = 1'000'000'000;

// Epoch seconds at 08:00 UTC, worked by hand: 1970-01-01 .. 2024-01-01 is 54 years with 13 leap
// days (1972..2020), 54*365 + 13 = 19723 days. 2024-12-27 is day-of-year offset 335 + 26 = 361
// (2024 is leap), so 20084 days; 20084*86400 + 8*3600 = 1735286400. The others follow the same
// way (and agree with `date -u -d '2024-12-27 08:00' +%s`).
constexpr std::int64_t k20240105 = 1704441600;
constexpr std::int64_t k20240229 = 1709193600;
constexpr std::int64_t k20241227 = 1735286400;
constexpr std::int64_t k20220930 = 1664524800;
constexpr std::int64_t k20221230 = 1672387200;
constexpr std::int64_t k20250328 = 1743148800;
constexpr std::int64_t k20250530 = 1748592000;
constexpr std::int64_t k20251226 = 1766736000;

struct Expected {
  Venue venue;
  std::string_view symbol;
  InstrumentKind kind;
  std::string_view base;
  std::string_view quote;
  std::int64_t expiry_s;
  double strike;
  OptionType type;
  double contract_value;
  bool inverse;
};

using K = InstrumentKind;
using O = OptionType;
constexpr Venue kDeribit = Venue::kDeribit;
constexpr Venue kOkx = Venue::kOkx;
constexpr Venue kBinance = Venue::kBinance;
constexpr Venue kBybit = Venue::kBybit;
constexpr Venue kHl = Venue::kHyperliquid;
constexpr Venue kNative = Venue::kNative;

const std::vector<Expected>& good_symbols() {
  static const std::vector<Expected> table = {
      // Deribit
      {kDeribit, "BTC-27DEC24-50000-C", K::kOption, "BTC", "BTC", k20241227, 50000, O::kCall, 1, false},
      {kDeribit, "ETH-27DEC24-3000-P", K::kOption, "ETH", "ETH", k20241227, 3000, O::kPut, 1, false},
      {kDeribit, "BTC-PERPETUAL", K::kPerpetual, "BTC", "USD", 0, 0, O::kNone, 10, true},
      {kDeribit, "ETH-PERPETUAL", K::kPerpetual, "ETH", "USD", 0, 0, O::kNone, 1, true},
      {kDeribit, "BTC-27DEC24", K::kFuture, "BTC", "USD", k20241227, 0, O::kNone, 10, true},
      {kDeribit, "ETH-27DEC24", K::kFuture, "ETH", "USD", k20241227, 0, O::kNone, 1, true},
      {kDeribit, "BTC-5JAN24", K::kFuture, "BTC", "USD", k20240105, 0, O::kNone, 10, true},
      {kDeribit, "BTC-29FEB24-60000-C", K::kOption, "BTC", "BTC", k20240229, 60000, O::kCall, 1, false},
      {kDeribit, "BTC_USDC-PERPETUAL", K::kPerpetual, "BTC", "USDC", 0, 0, O::kNone, 1, false},
      {kDeribit, "ETH_USDC-27DEC24", K::kFuture, "ETH", "USDC", k20241227, 0, O::kNone, 1, false},
      {kDeribit, "XRP_USDC-30MAY25-2d2-C", K::kOption, "XRP", "USDC", k20250530, 2.2, O::kCall, 1, false},
      {kDeribit, "BTC_USDC", K::kSpot, "BTC", "USDC", 0, 0, O::kNone, 1, false},
      // OKX
      {kOkx, "BTC-USD-250328-50000-C", K::kOption, "BTC", "BTC", k20250328, 50000, O::kCall, 0.01, false},
      {kOkx, "ETH-USD-250328-3000-P", K::kOption, "ETH", "ETH", k20250328, 3000, O::kPut, 0.1, false},
      {kOkx, "BTC-USDT-SWAP", K::kPerpetual, "BTC", "USDT", 0, 0, O::kNone, 0.01, false},
      {kOkx, "ETH-USDT-SWAP", K::kPerpetual, "ETH", "USDT", 0, 0, O::kNone, 0.1, false},
      {kOkx, "BTC-USD-SWAP", K::kPerpetual, "BTC", "USD", 0, 0, O::kNone, 100, true},
      {kOkx, "ETH-USD-SWAP", K::kPerpetual, "ETH", "USD", 0, 0, O::kNone, 10, true},
      {kOkx, "BTC-USD-250328", K::kFuture, "BTC", "USD", k20250328, 0, O::kNone, 100, true},
      {kOkx, "BTC-USDT-250328", K::kFuture, "BTC", "USDT", k20250328, 0, O::kNone, 0.01, false},
      {kOkx, "BTC-USDT", K::kSpot, "BTC", "USDT", 0, 0, O::kNone, 1, false},
      // Binance
      {kBinance, "BTCUSDT", K::kPerpetual, "BTC", "USDT", 0, 0, O::kNone, 1, false},
      {kBinance, "1000PEPEUSDC", K::kPerpetual, "1000PEPE", "USDC", 0, 0, O::kNone, 1, false},
      {kBinance, "BTCFDUSD", K::kPerpetual, "BTC", "FDUSD", 0, 0, O::kNone, 1, false},
      {kBinance, "ETHBUSD", K::kPerpetual, "ETH", "BUSD", 0, 0, O::kNone, 1, false},
      {kBinance, "BTCUSDT_250328", K::kFuture, "BTC", "USDT", k20250328, 0, O::kNone, 1, false},
      {kBinance, "BTCUSD_PERP", K::kPerpetual, "BTC", "USD", 0, 0, O::kNone, 100, true},
      {kBinance, "ETHUSD_PERP", K::kPerpetual, "ETH", "USD", 0, 0, O::kNone, 10, true},
      {kBinance, "BTCUSD_250328", K::kFuture, "BTC", "USD", k20250328, 0, O::kNone, 100, true},
      {kBinance, "BTC-220930-18000-C", K::kOption, "BTC", "USDT", k20220930, 18000, O::kCall, 1, false},
      // Bybit
      {kBybit, "BTCUSDT", K::kPerpetual, "BTC", "USDT", 0, 0, O::kNone, 1, false},
      {kBybit, "BTCPERP", K::kPerpetual, "BTC", "USDC", 0, 0, O::kNone, 1, false},
      {kBybit, "BTCUSD", K::kPerpetual, "BTC", "USD", 0, 0, O::kNone, 1, true},
      {kBybit, "BTC-30DEC22-18000-C", K::kOption, "BTC", "USDC", k20221230, 18000, O::kCall, 1, false},
      {kBybit, "BTC-30DEC22-18000-C-USDT", K::kOption, "BTC", "USDT", k20221230, 18000, O::kCall, 1, false},
      {kBybit, "BTC-26DEC25", K::kFuture, "BTC", "USDC", k20251226, 0, O::kNone, 1, false},
      {kBybit, "BTCUSDT-26DEC25", K::kFuture, "BTC", "USDT", k20251226, 0, O::kNone, 1, false},
      // Inverse quarterly, last Friday of March 2025 = 28 March.
      {kBybit, "BTCUSDH25", K::kFuture, "BTC", "USD", k20250328, 0, O::kNone, 1, true},
      {kBybit, "ETHUSDZ25", K::kFuture, "ETH", "USD", k20251226, 0, O::kNone, 1, true},
      // Hyperliquid
      {kHl, "BTC", K::kPerpetual, "BTC", "USD", 0, 0, O::kNone, 1, false},
      {kHl, "kPEPE", K::kPerpetual, "kPEPE", "USD", 0, 0, O::kNone, 1, false},
      {kHl, "@107", K::kSpot, "@107", "USDC", 0, 0, O::kNone, 1, false},
      {kHl, "PURR/USDC", K::kSpot, "PURR", "USDC", 0, 0, O::kNone, 1, false},
      // Native: any venue's naming; quantities already in base units, so never inverse.
      {kNative, "BTC-27DEC24-50000-C", K::kOption, "BTC", "BTC", k20241227, 50000, O::kCall, 1, false},
      {kNative, "BTC-PERPETUAL", K::kPerpetual, "BTC", "USD", 0, 0, O::kNone, 1, false},
      {kNative, "BTC-USD-250328-50000-P", K::kOption, "BTC", "BTC", k20250328, 50000, O::kPut, 1, false},
      {kNative, "BTC-USDT-SWAP", K::kPerpetual, "BTC", "USDT", 0, 0, O::kNone, 1, false},
      {kNative, "BTC-USDT", K::kSpot, "BTC", "USDT", 0, 0, O::kNone, 1, false},
      {kNative, "BTCUSDT", K::kPerpetual, "BTC", "USDT", 0, 0, O::kNone, 1, false},
      {kNative, "BTCUSD_PERP", K::kPerpetual, "BTC", "USD", 0, 0, O::kNone, 1, false},
      {kNative, "BTC-220930-18000-C", K::kOption, "BTC", "USDT", k20220930, 18000, O::kCall, 1, false},
      {kNative, "BTCUSD", K::kPerpetual, "BTC", "USD", 0, 0, O::kNone, 1, false},  // Bybit naming
      {kNative, "BTCUSDH25", K::kFuture, "BTC", "USD", k20250328, 0, O::kNone, 1, false},
      {kNative, "ETH", K::kPerpetual, "ETH", "USD", 0, 0, O::kNone, 1, false},
      {kNative, "@107", K::kSpot, "@107", "USDC", 0, 0, O::kNone, 1, false},
      {kNative, "PURR/USDC", K::kSpot, "PURR", "USDC", 0, 0, O::kNone, 1, false},
  };
  return table;
}

TEST_CASE("expiry_at_0800_utc matches hand-computed epoch seconds", "[instrument]") {
  CHECK(expiry_at_0800_utc(1970, 1, 1) == 8 * 3600 * kNs);
  CHECK(expiry_at_0800_utc(2024, 12, 27) == k20241227 * kNs);
  CHECK(expiry_at_0800_utc(2024, 2, 29) == k20240229 * kNs);
  CHECK(expiry_at_0800_utc(2024, 3, 1) == (k20240229 + 86400) * kNs);
  CHECK(expiry_at_0800_utc(2025, 3, 28) == k20250328 * kNs);
  CHECK(expiry_at_0800_utc(2000, 3, 1) - expiry_at_0800_utc(2000, 2, 28) == 2 * 86400 * kNs);  // 2000 is leap
  CHECK(expiry_at_0800_utc(2100, 3, 1) - expiry_at_0800_utc(2100, 2, 28) == 1 * 86400 * kNs);  // 2100 is not
  CHECK(expiry_at_0800_utc(1969, 12, 31) == (8 * 3600 - 86400) * kNs);
}

TEST_CASE("parse_symbol reads every venue's naming", "[instrument]") {
  for (const Expected& e : good_symbols()) {
    INFO(to_string(e.venue) << " " << e.symbol);
    auto parsed = parse_symbol(e.venue, e.symbol);
    REQUIRE(parsed.ok());
    const Instrument& i = *parsed;
    CHECK(i.venue == e.venue);
    CHECK(i.symbol == e.symbol);
    CHECK(i.kind == e.kind);
    CHECK(i.base == e.base);
    CHECK(i.quote == e.quote);
    CHECK(i.expiry_ns == e.expiry_s * kNs);
    CHECK(i.strike == Approx(e.strike).epsilon(1e-12));
    CHECK(i.option_type == e.type);
    CHECK(i.contract_value == Approx(e.contract_value).epsilon(1e-12));
    CHECK(i.inverse == e.inverse);
  }
}

TEST_CASE("parse_symbol rejects malformed symbols with a reason naming the symbol", "[instrument]") {
  struct Bad {
    Venue venue;
    std::string_view symbol;
  };
  const std::string huge_strike = "BTC-27DEC24-" + std::string(40, '9') + "-C";
  const std::string too_long(200, 'A');
  const std::vector<Bad> bad = {
      {kDeribit, ""},
      {kDeribit, "BTC-32DEC24"},  // no 32nd of December
      {kDeribit, "BTC-29FEB23"},  // 2023 is not leap
      {kDeribit, "BTC-0DEC24"},
      {kDeribit, "BTC-27XYZ24-1-C"},    // unknown month
      {kDeribit, "BTC-27dec24-1-C"},    // months are upper case
      {kDeribit, "BTC-27DEC24-abc-C"},  // strike not a number
      {kDeribit, "BTC-27DEC24-0-C"},    // strike must be positive
      {kDeribit, "BTC-27DEC24--C"},
      {kDeribit, "BTC-27DEC24-1d-C"},
      {kDeribit, "BTC-27DEC24-1.2.3-C"},
      {kDeribit, "BTC-27DEC24-50000-X"},
      {kDeribit, "BTC-27DEC24-50000-C-"},  // trailing garbage
      {kDeribit, "BTC-27DEC24-50000-CALL"},
      {kDeribit, "BTC-PERPETUALX"},
      {kDeribit, "BTC-PERPETUAL "},
      {kDeribit, " BTC-PERPETUAL"},
      {kDeribit, "BTC-127DEC24"},  // three-digit day
      {kDeribit, "BTC-27DEC2024"},
      {kDeribit, "BTC"},
      {kDeribit, "-PERPETUAL"},
      {kDeribit, "BTC_EUR-PERPETUAL"},
      {kDeribit, huge_strike},  // huge number
      {kDeribit, "BTC-99999999999999999999DEC24"},
      {kDeribit, too_long},
      {kDeribit, "A-B-C-D-E-F-G-H"},
      {kOkx, "BTC-USD-250230"},  // no 30th of February
      {kOkx, "BTC-USD-251328"},
      {kOkx, "BTC-USD-2503281"},
      {kOkx, "BTC-USD-250328-50000-C-X"},  // trailing garbage
      {kOkx, "BTC-USD-SWAPS"},
      {kOkx, "BTC"},
      {kOkx, "BTC--SWAP"},
      {kOkx, "btc-usdt"},
      {kBinance, "BTC"},     // no quote suffix
      {kBinance, "USDT"},    // no base
      {kBinance, "BTCUSD"},  // COIN-M needs _PERP or a date
      {kBinance, "BTCUSDT_"},
      {kBinance, "BTCUSDT_2503"},
      {kBinance, "BTCUSDT_250328X"},
      {kBinance, "BTC-220931-18000-C"},
      {kBinance, "BTC-220930-18000"},
      {kBybit, "BTCEUR"},
      {kBybit, "BTCUSD-26DEC25"},  // no USD-settled dated futures
      {kBybit, "BTCUSDA25"},       // 'A' is no month code
      {kBybit, "BTC-30DEC22-18000-C-EUR"},
      {kBybit, "BTC-30DEC22-18000-C-USDT-X"},
      {kHl, "@"},
      {kHl, "@12x"},
      {kHl, "PURR/"},
      {kHl, "/USDC"},
      {kHl, "BTC-PERP"},
      {kNative, "?"},
      {kNative, "BTC-32DEC24"},
  };
  for (const Bad& b : bad) {
    INFO(to_string(b.venue) << " \"" << b.symbol << "\"");
    auto parsed = parse_symbol(b.venue, b.symbol);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    const std::string message(parsed.status().message());
    CHECK_THAT(message, Catch::Contains(std::string(b.symbol.substr(0, 20))));
    CHECK(message.size() < 600);  // bounded however long the input
  }
}

TEST_CASE("parse_symbol survives arbitrary bytes", "[instrument]") {
  // A cheap stand-in for the fuzz target: random bytes and mutations of good symbols must give
  // a status or an instrument, never a crash (run under the asan preset to catch overreads).
  std::mt19937_64 rng(42);
  using namespace std::string_literals;
  const std::string alphabet = "BTCUSDPERPETUALSWAP0123456789-_/@dDECJANCP.\0\xff"s;
  std::vector<std::string> seeds;
  for (const Expected& e : good_symbols()) seeds.emplace_back(e.symbol);
  int ok = 0;
  int broken = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      const std::size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), c); break;
        case 1:
          if (pos < s.size()) s.erase(pos, 1);
          break;
        default:
          if (pos < s.size()) s[pos] = c;
          break;
      }
    }
    for (int v = 0; v < kVenueCount; ++v) {
      auto parsed = parse_symbol(static_cast<Venue>(v), s);
      if (parsed.ok()) {
        ++ok;
        if (!(parsed->contract_value > 0.0) || parsed->strike < 0.0 || parsed->symbol != s) ++broken;
      }
    }
  }
  CHECK(ok > 0);
  CHECK(broken == 0);
}

}  // namespace
}  // namespace segmentd
