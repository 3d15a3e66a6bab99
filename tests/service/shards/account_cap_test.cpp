// The cap on accounts (issue 17 item 7: shards.max_accounts, on_max_accounts = "refuse"): a shard
// holding its share refuses the fills of new accounts — not applied, not published, not readable,
// counted and warned about once — while the accounts it holds keep getting theirs; with shard
// threads running, the count is read from another thread without a race.

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/price_tape.h"
#include "service/base/log.h"
#include "service/shards/account_shard.h"
#include "service/shards/shard_set.h"

using namespace segmentd;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'735'000'000LL * kSec;

Fill cap_fill(AccountId acct, std::int64_t t, std::uint64_t id) {
  Fill f;
  f.recv_ns = t;
  f.account = acct;
  f.instrument = 1;
  f.kind = InstrumentKind::kPerpetual;
  f.side = id % 2 == 0 ? Side::kBuy : Side::kSell;
  f.qty = 1.0;
  f.price = 100.0;
  f.notional_usd = 100.0;
  f.trade_id = id;
  return f;
}

}  // namespace

TEST_CASE("account cap: each shard's share is ceil(max_accounts / shards), 0 is no cap", "[account_cap]") {
  CHECK(per_shard_max_accounts(0, 4) == 0);
  CHECK(per_shard_max_accounts(10, 1) == 10);
  CHECK(per_shard_max_accounts(10, 3) == 4);
  CHECK(per_shard_max_accounts(12, 3) == 4);
  CHECK(per_shard_max_accounts(1, 8) == 1);
  CHECK(per_shard_max_accounts(1'000'000, 2) == 500'000);
}

TEST_CASE("account cap: a full shard refuses new accounts' fills, counted, and keeps serving its own",
          "[account_cap]") {
  std::vector<std::string> lines;
  std::mutex lines_mu;
  Logger::Sink previous = default_logger().set_sink([&](std::string_view line) {
    std::lock_guard<std::mutex> lock(lines_mu);
    lines.emplace_back(line);
  });
  PriceTape tape(16, 4, 1);
  std::vector<AccountId> published;
  AccountShardOptions o;
  o.tape = &tape;
  o.max_accounts = 2;
  o.on_batch = [&](int, std::span<const TouchedAccount> b) {
    for (const TouchedAccount& t : b) published.push_back(t.account);
  };
  AccountShard shard(0, o);
  shard.on_fill(cap_fill(10, kT0, 1));
  shard.on_fill(cap_fill(11, kT0 + 1, 2));
  shard.on_burst_end();
  CHECK(shard.refused_fills() == 0);

  // Account 12 is new and the shard is full: both its fills are refused (one alone, one in a run
  // between fills of accounts held).
  shard.on_fill(cap_fill(12, kT0 + 2, 3));
  const std::vector<Fill> run{cap_fill(10, kT0 + 3, 4), cap_fill(12, kT0 + 4, 5), cap_fill(11, kT0 + 5, 6)};
  shard.on_fills(run);
  published.clear();
  shard.on_burst_end();
  CHECK(shard.refused_fills() == 2);
  CHECK(shard.fills_seen() == 4);
  CHECK(shard.store().size() == 2);
  CHECK(published == std::vector<AccountId>{10, 11});
  CHECK_FALSE(shard.snapshot(12).has_value());
  REQUIRE(shard.snapshot(10).has_value());
  CHECK(shard.snapshot(10)->fills == 2);
  CHECK(shard.snapshot(11)->fills == 2);

  // One warning, at the first refusal, not one per refused fill.
  shard.on_fill(cap_fill(13, kT0 + 6, 7));
  CHECK(shard.refused_fills() == 3);
  default_logger().set_sink(previous);
  int warnings = 0;
  for (const std::string& l : lines)
    if (l.find("account cap reached") != std::string::npos) ++warnings;
  CHECK(warnings == 1);
}

TEST_CASE("account cap: running shards hold at most their share, refusals read from another thread [tsan]",
          "[account_cap][tsan]") {
  constexpr int kProducers = 2, kShards = 3, kPerProducer = 20000;
  constexpr std::uint64_t kMaxAccounts = 10;  // 4 a shard
  constexpr AccountId kAccounts = 300;
  PriceTape tape(16, 4, kProducers);
  ShardSetConfig sc;
  sc.shards = kShards;
  sc.producers = kProducers;
  sc.ring_capacity = 1024;
  std::vector<std::unique_ptr<ShardHandler>> handlers;
  for (int s = 0; s < kShards; ++s) {
    AccountShardOptions o;
    o.tape = &tape;
    o.max_accounts = per_shard_max_accounts(kMaxAccounts, kShards);
    handlers.push_back(std::make_unique<AccountShard>(s, std::move(o)));
  }
  ShardSet shards(sc, std::move(handlers));
  shards.start();
  // A scraper, as the metrics probe reads the counts.
  std::atomic<bool> stop_reading{false};
  std::uint64_t last_seen = 0;
  std::thread scraper([&] {
    while (!stop_reading.load()) {
      std::uint64_t total = 0;
      for (int s = 0; s < kShards; ++s) total += static_cast<const AccountShard&>(shards.handler(s)).refused_fills();
      last_seen = total;
    }
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(p) + 5);
      for (int i = 0; i < kPerProducer; ++i) {
        Fill f = cap_fill(static_cast<AccountId>(rng() % kAccounts), kT0 + i, static_cast<std::uint64_t>(i));
        shards.push(p, f);
      }
    });
  }
  for (auto& t : producers) t.join();
  shards.stop();
  stop_reading.store(true);
  scraper.join();

  std::uint64_t applied = 0, refused = 0, processed = 0;
  for (int s = 0; s < kShards; ++s) {
    const auto& h = static_cast<const AccountShard&>(shards.handler(s));
    CHECK(h.store().size() == per_shard_max_accounts(kMaxAccounts, kShards));  // 100 accounts routed to each
    applied += h.fills_seen();
    refused += h.refused_fills();
    processed += shards.processed(s);
    // Every fill of an account held was applied: the held accounts' fill counts add up.
    std::uint64_t held_fills = 0;
    h.for_each_account([&](const AccountSnapshot& a) { held_fills += a.fills; });
    CHECK(held_fills == h.fills_seen());
  }
  CHECK(processed == std::uint64_t{kProducers} * kPerProducer);
  CHECK(applied + refused == processed);
  CHECK(refused > 0);
  CHECK(last_seen <= refused);
}
