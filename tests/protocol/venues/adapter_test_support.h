#pragma once
// Helpers shared by the venue adapter tests: run one adapter over a message and compare Fills
// field by field. The messages come from tests/fixtures/exchanges (own_fixture()) or, as an
// optional extra layer, from ../shared/fixtures/exchanges (shared_fixture_or_skip()): see
// tests/fixtures/fixture_paths.h.

#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/account_interner.h"
#include "core/fill.h"
#include "core/instrument_registry.h"
#include "protocol/venues/registry.h"
#include "protocol/venues/trade_dedup.h"
#include "protocol/venues/venue_adapter.h"
#include "tests/fixtures/fixture_paths.h"

namespace segmentd::testing {

inline std::uint64_t trade_hash(std::string_view venue_prefixed_id) {
  return stable_hash(venue_prefixed_id.data(), venue_prefixed_id.size());
}

//! `text` with the first occurrence of `from` replaced by `to`; `from` must occur (a test that
//! alters a fixture must alter it).
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

constexpr std::int64_t kRecvNs = 1'700'000'000'000'000'000;

//! One adapter with its own interner and registry, as a session would have.
struct AdapterHarness {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  std::unique_ptr<VenueAdapter> adapter;
  std::vector<Fill> fills;
  DecodeOutcome outcome;
  ParseError error;

  explicit AdapterHarness(Venue venue, std::string account = "acct-1", const UnderlyingPrices* prices = nullptr,
                          std::vector<std::string> price_only_coins = {}) {
    AdapterContext ctx;
    ctx.accounts = &accounts;
    ctx.instruments = &instruments;
    ctx.account = std::move(account);
    ctx.prices = prices;
    ctx.price_only_coins = std::move(price_only_coins);
    adapter = make_venue_adapter(venue, std::move(ctx));
    REQUIRE(adapter != nullptr);
  }

  //! Decodes one message (fills accumulate across calls); returns decode()'s result.
  bool decode(const std::string& message) { return adapter->decode_unpadded(message, kRecvNs, fills, outcome, error); }

  //! Decodes a message that must be good and returns its outcome.
  DecodeOutcome ok(const std::string& message) {
    const bool good = decode(message);
    INFO(error.detail);
    REQUIRE(good);
    return outcome;
  }

  //! Decodes a message that must be rejected with `reason`, appending no fill.
  void rejects(const std::string& message, ParseErrorReason reason) {
    const std::size_t before = fills.size();
    INFO(message);
    REQUIRE_FALSE(decode(message));
    INFO(error.detail);
    CHECK(to_string(error.reason) == to_string(reason));
    CHECK(fills.size() == before);
    CHECK_FALSE(error.detail.empty());
  }

  const std::string& account_name(AccountId id) { return accounts.name(id); }
  const Instrument& instrument(const Fill& f) { return instruments.get(f.instrument); }
};

inline void check_close(double actual, double expected, const char* what) {
  INFO(what << ": actual " << actual << " expected " << expected);
  if (std::isnan(expected)) {
    CHECK(std::isnan(actual));
  } else {
    CHECK(actual == Approx(expected).epsilon(1e-12).margin(1e-15));
  }
}

//! The fields every fill test checks; NaN for "absent".
struct ExpectedFill {
  std::string account;
  std::string symbol;
  InstrumentKind kind = InstrumentKind::kSpot;
  Side side = Side::kBuy;
  Liquidity liquidity = Liquidity::kUnknown;
  double qty = 0;
  double price = 0;
  double notional_usd = 0;
  double fee_usd = kNaN;
  double iv = kNaN;
  double underlying_price = kNaN;
  double mark_price = kNaN;
  std::int64_t venue_ns = 0;
  std::uint64_t trade_id = 0;
};

inline void check_fill(AdapterHarness& h, const Fill& f, const ExpectedFill& e) {
  INFO("fill of " << e.symbol << " trade_id " << e.trade_id);
  CHECK(f.recv_ns == kRecvNs);
  CHECK(h.account_name(f.account) == e.account);
  CHECK(h.instrument(f).symbol == e.symbol);
  CHECK(f.kind == e.kind);
  CHECK(f.side == e.side);
  CHECK(f.liquidity == e.liquidity);
  check_close(f.qty, e.qty, "qty");
  check_close(f.price, e.price, "price");
  check_close(f.notional_usd, e.notional_usd, "notional_usd");
  check_close(f.fee_usd, e.fee_usd, "fee_usd");
  check_close(f.iv, e.iv, "iv");
  check_close(f.underlying_price, e.underlying_price, "underlying_price");
  check_close(f.mark_price, e.mark_price, "mark_price");
  CHECK(f.venue_ns == e.venue_ns);
  CHECK(f.trade_id == e.trade_id);
}

}  // namespace segmentd::testing
