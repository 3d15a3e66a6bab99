#include "core/instrument_registry.h"
#include "protocol/venues/registry.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace segmentd {
namespace {

TEST_CASE("resolve gives one dense id per venue and symbol", "[instrument_registry]") {
  InstrumentRegistry reg{parse_symbol};
  auto a = reg.resolve(Venue::kDeribit, "BTC-PERPETUAL");
  auto b = reg.resolve(Venue::kDeribit, "BTC-27DEC24-50000-C");
  auto a2 = reg.resolve(Venue::kDeribit, "BTC-PERPETUAL");
  auto other_venue = reg.resolve(Venue::kNative, "BTC-PERPETUAL");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a2.ok());
  REQUIRE(other_venue.ok());
  CHECK(*a == 0);
  CHECK(*b == 1);
  CHECK(*a2 == *a);
  CHECK(*other_venue == 2);
  CHECK(reg.size() == 3);

  const Instrument& perp = reg.get(*a);
  CHECK(perp.symbol == "BTC-PERPETUAL");
  CHECK(perp.kind == InstrumentKind::kPerpetual);
  CHECK(perp.contract_value == 10.0);
  CHECK(perp.inverse);
  CHECK(reg.get(*other_venue).venue == Venue::kNative);
  CHECK_FALSE(reg.get(*other_venue).inverse);
}

TEST_CASE("resolve reports bad symbols and does not register them", "[instrument_registry]") {
  InstrumentRegistry reg{parse_symbol};
  auto bad = reg.resolve(Venue::kDeribit, "BTC-32DEC24");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("BTC-32DEC24"));
  CHECK(reg.size() == 0);
}

TEST_CASE("underlyings are interned in first-seen order", "[instrument_registry]") {
  InstrumentRegistry reg{parse_symbol};
  auto eth = reg.resolve(Venue::kOkx, "ETH-USDT-SWAP");
  auto btc = reg.resolve(Venue::kDeribit, "BTC-PERPETUAL");
  auto btc_opt = reg.resolve(Venue::kBinance, "BTC-220930-18000-C");
  REQUIRE(eth.ok());
  REQUIRE(btc.ok());
  REQUIRE(btc_opt.ok());
  CHECK(reg.underlying_of(*eth) == 0);
  CHECK(reg.underlying_of(*btc) == 1);
  CHECK(reg.underlying_of(*btc_opt) == 1);
  CHECK(reg.underlying_name(0) == "ETH");
  CHECK(reg.underlying_name(1) == "BTC");
  CHECK(reg.underlying_id("BTC") == 1);
  CHECK(reg.underlying_id("SOL") == 2);  // interned on first sight, also outside resolve()
  CHECK(reg.underlying_name(2) == "SOL");
  auto sol = reg.resolve(Venue::kHyperliquid, "SOL");
  REQUIRE(sol.ok());
  CHECK(reg.underlying_of(*sol) == 2);
}

TEST_CASE("the longest matching contract override wins, per venue", "[instrument_registry]") {
  InstrumentRegistry reg(parse_symbol,
                         {
                             // Neither the first nor the last match but the longest: SOL-USDT-SWAP gets 1.
                             {Venue::kOkx, "SOL-USDT", 2.0, false},
                             {Venue::kOkx, "SOL-USDT-SWAP", 1.0, false},
                             {Venue::kOkx, "SOL-", 5.0, false},
                             {Venue::kOkx, "DOGE-USDT-SWAP", 1000.0, false},
                             {Venue::kBinance, "DOGE", 7.0, true},  // other venue: never applies to OKX symbols
                             {Venue::kDeribit, "BTC-", 20.0, true},
                         });
  auto doge = reg.resolve(Venue::kOkx, "DOGE-USDT-SWAP");
  auto sol_swap = reg.resolve(Venue::kOkx, "SOL-USDT-SWAP");
  auto sol_usd = reg.resolve(Venue::kOkx, "SOL-USD-SWAP");
  auto btc_okx = reg.resolve(Venue::kOkx, "BTC-USDT-SWAP");
  auto btc_deribit = reg.resolve(Venue::kDeribit, "BTC-PERPETUAL");
  auto eth_deribit = reg.resolve(Venue::kDeribit, "ETH-PERPETUAL");
  REQUIRE(doge.ok());
  REQUIRE(sol_swap.ok());
  REQUIRE(sol_usd.ok());
  REQUIRE(btc_okx.ok());
  REQUIRE(btc_deribit.ok());
  REQUIRE(eth_deribit.ok());
  CHECK(reg.get(*doge).contract_value == 1000.0);
  CHECK_FALSE(reg.get(*doge).inverse);
  CHECK(reg.get(*sol_swap).contract_value == 1.0);  // "SOL-USDT-SWAP" beats "SOL-USDT" and "SOL-"
  CHECK(reg.get(*sol_usd).contract_value == 5.0);   // only "SOL-" matches
  CHECK_FALSE(reg.get(*sol_usd).inverse);           // the override sets inverse too
  CHECK(reg.get(*btc_okx).contract_value == 0.01);  // no override: parsed default
  CHECK(reg.get(*btc_deribit).contract_value == 20.0);
  CHECK(reg.get(*eth_deribit).contract_value == 1.0);
  CHECK(reg.get(*eth_deribit).inverse);
  // Overrides touch the contract spec only.
  CHECK(reg.get(*sol_usd).kind == InstrumentKind::kPerpetual);
  CHECK(reg.get(*sol_usd).base == "SOL");
}

// Tagged [tsan]: the registry's lock is a std::mutex, which TSan sees.
TEST_CASE("concurrent resolves agree on ids", "[instrument_registry][tsan]") {
  InstrumentRegistry reg{parse_symbol};
  const std::vector<std::string> symbols = {"BTC-PERPETUAL",      "ETH-PERPETUAL",       "BTC-27DEC24",
                                            "ETH-27DEC24",        "BTC-27DEC24-50000-C", "BTC-27DEC24-60000-P",
                                            "ETH_USDC-PERPETUAL", "SOL_USDC-PERPETUAL"};
  constexpr int kThreads = 4;
  constexpr InstrumentId kUnset = std::numeric_limits<InstrumentId>::max();
  // seen[t][i]: the id thread t got for symbols[i]; every round of a thread must get the same one.
  std::vector<std::vector<InstrumentId>> seen(kThreads, std::vector<InstrumentId>(symbols.size(), kUnset));
  std::vector<int> disagreements(kThreads, 0);
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        for (std::size_t k = 0; k < symbols.size(); ++k) {
          const std::size_t i = (k + static_cast<std::size_t>(t)) % symbols.size();
          auto id = reg.resolve(Venue::kDeribit, symbols[i]);
          if (!id.ok()) {
            ++failures[t];
            continue;
          }
          if (seen[t][i] == kUnset) seen[t][i] = *id;
          if (seen[t][i] != *id) ++disagreements[t];
          if (reg.get(*id).symbol != symbols[i]) ++disagreements[t];
          (void)reg.underlying_name(reg.underlying_of(*id)).size();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(reg.size() == symbols.size());
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    CHECK(failures[t] == 0);
    CHECK(disagreements[t] == 0);
  }
  std::vector<InstrumentId> ids;
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    auto id = reg.resolve(Venue::kDeribit, symbols[i]);
    REQUIRE(id.ok());
    CHECK(reg.get(*id).symbol == symbols[i]);
    for (int t = 0; t < kThreads; ++t) CHECK(seen[t][i] == *id);  // every thread got this id
    ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());  // distinct symbols, distinct ids
  std::vector<std::string> names;
  for (std::size_t u = 0; u < 3; ++u) names.push_back(reg.underlying_name(static_cast<UnderlyingId>(u)));
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"BTC", "ETH", "SOL"});
}

}  // namespace
}  // namespace segmentd
