// Segment exposure (core/segment_exposure.h): sums per segment and instrument, the largest
// accounts, expired positions left out, and merges in any order giving the sums of one scan.

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "core/account_store.h"
#include "core/segment_exposure.h"

using namespace segmentd;

namespace {

Position pos(InstrumentId instrument, double qty, double delta_per_unit, double vega_per_unit = 0.0,
             std::int64_t expiry_ns = 0) {
  Position p;
  p.instrument = instrument;
  p.qty = qty;
  p.delta_usd_per_unit = delta_per_unit;
  p.vega_per_unit = vega_per_unit;
  p.expiry_ns = expiry_ns;
  return p;
}

}  // namespace

TEST_CASE("exposure: sums per segment and instrument, long and short apart", "[exposure]") {
  ExposureScan scan(1000);
  const std::vector<Position> a = {pos(1, 2.0, 100.0), pos(2, -1.0, 50.0, 3.0)};  // +200, -50 (vega -3)
  const std::vector<Position> b = {pos(1, -0.5, 100.0)};                          // -50
  const std::vector<Position> flat = {pos(1, 0.0, 100.0)};
  scan.add_account(7, 11, a);
  scan.add_account(7, 12, b);
  scan.add_account(7, 13, flat);  // no open position: counts nowhere
  scan.add_account(kNoSegment, 14, b);
  CHECK(scan.accounts_scanned() == 4);
  REQUIRE(scan.segments().size() == 2);
  const SegmentExposureSums& s = scan.segments().at(7);
  CHECK(s.accounts == 2);
  CHECK(s.positions == 3);
  CHECK(s.net_delta_usd == 100.0);
  CHECK(s.gross_delta_usd == 300.0);  // |200| + |-50| for a, |-50| for b
  CHECK(s.net_vega_usd == -3.0);
  const InstrumentExposure& one = s.by_instrument.at(1);
  CHECK(one.net_delta_usd == 150.0);
  CHECK(one.long_delta_usd == 200.0);
  CHECK(one.short_delta_usd == -50.0);
  CHECK(one.positions == 2);
  CHECK(one.long_qty == 2.0);  // open positions by their quantity's sign, base units
  CHECK(one.short_qty == 0.5);
  CHECK(s.by_instrument.at(2).long_qty == 0.0);
  CHECK(s.by_instrument.at(2).short_qty == 1.0);
  REQUIRE(s.top.size() == 2);
  CHECK(s.top[0].account == 11);
  CHECK(s.top[0].gross_delta_usd == 250.0);
  CHECK(s.top[0].net_delta_usd == 150.0);
  CHECK(s.top_share(1) == Approx(250.0 / 300.0));
  CHECK(s.top_share(5) == 1.0);
  CHECK(scan.segments().at(kNoSegment).accounts == 1);
}

TEST_CASE("exposure: positions expired by the scan's time are left out", "[exposure]") {
  ExposureScan scan(1000);
  scan.add_account(1, 1, std::vector<Position>{pos(1, 1.0, 10.0, 0.0, 999), pos(2, 1.0, 10.0, 0.0, 1000)});
  CHECK(scan.segments().empty());
  scan.add_account(1, 2, std::vector<Position>{pos(1, 1.0, 10.0, 0.0, 1001)});
  CHECK(scan.segments().at(1).net_delta_usd == 10.0);
}

TEST_CASE("exposure: merged shard scans equal one scan, the top list included", "[exposure]") {
  std::mt19937_64 rng(42);
  struct Account {
    SegmentId segment;
    AccountId id;
    std::vector<Position> positions;
  };
  std::vector<Account> accounts;
  for (AccountId id = 0; id < 500; ++id) {
    Account a{static_cast<SegmentId>(rng() % 4), id, {}};
    const int n = static_cast<int>(rng() % 4);
    for (int k = 0; k < n; ++k)
      a.positions.push_back(pos(static_cast<InstrumentId>(rng() % 9), static_cast<double>(rng() % 200) - 100.0,
                                static_cast<double>(1 + rng() % 50)));
    accounts.push_back(std::move(a));
  }
  ExposureScan one;
  for (const Account& a : accounts) one.add_account(a.segment, a.id, a.positions);
  ExposureScan shard[3];
  for (const Account& a : accounts) shard[a.id % 3].add_account(a.segment, a.id, a.positions);
  ExposureScan merged;
  for (int k : {2, 0, 1}) merged.merge(shard[k]);
  CHECK(merged.accounts_scanned() == one.accounts_scanned());
  REQUIRE(merged.segments().size() == one.segments().size());
  for (const auto& [segment, s] : one.segments()) {
    const SegmentExposureSums& m = merged.segments().at(segment);
    CHECK(m.accounts == s.accounts);
    CHECK(m.positions == s.positions);
    CHECK(m.gross_delta_usd == Approx(s.gross_delta_usd).epsilon(1e-12));
    CHECK(m.net_delta_usd == Approx(s.net_delta_usd).epsilon(1e-12));
    REQUIRE(m.top.size() == ExposureScan::kTopAccounts);
    for (std::size_t i = 0; i < m.top.size(); ++i) {
      CHECK(m.top[i].account == s.top[i].account);
      CHECK(m.top[i].gross_delta_usd == s.top[i].gross_delta_usd);
    }
    CHECK(std::is_sorted(m.top.begin(), m.top.end(), [](const AccountExposure& a, const AccountExposure& b) {
      return a.gross_delta_usd > b.gross_delta_usd;
    }));
    for (const auto& [instrument, e] : s.by_instrument) {
      CHECK(m.by_instrument.at(instrument).net_delta_usd == Approx(e.net_delta_usd).epsilon(1e-12));
      CHECK(m.by_instrument.at(instrument).positions == e.positions);
    }
  }
}

TEST_CASE("exposure: the store's scan reads every account's segment and open positions", "[exposure]") {
  AccountStore store{FeatureParams{}};
  auto fill = [](AccountId account, InstrumentId instrument, Side side, double qty, double price, std::int64_t t) {
    Fill f;
    f.recv_ns = t;
    f.account = account;
    f.instrument = instrument;
    f.kind = InstrumentKind::kPerpetual;
    f.side = side;
    f.qty = qty;
    f.price = price;
    f.notional_usd = qty * price;
    return f;
  };
  const std::int64_t t0 = 1'735'000'000'000'000'000;
  const AccountStore::Slot a = store.apply(fill(1, 5, Side::kBuy, 2.0, 100.0, t0));
  store.apply(fill(1, 6, Side::kSell, 1.0, 30.0, t0 + 1));
  const AccountStore::Slot b = store.apply(fill(2, 5, Side::kSell, 3.0, 110.0, t0 + 2));
  store.apply(fill(3, 5, Side::kBuy, 1.0, 100.0, t0 + 3));
  store.apply(fill(3, 5, Side::kSell, 1.0, 100.0, t0 + 4));  // flat again
  store.set_segment(a, 4, 0.5, t0);
  store.set_segment(b, 4, 0.5, t0);
  ExposureScan scan(t0 + 10);
  store.scan_exposure(scan);
  CHECK(scan.accounts_scanned() == 3);
  REQUIRE(scan.segments().size() == 1);
  const SegmentExposureSums& s = scan.segments().at(4);
  CHECK(s.accounts == 2);
  CHECK(s.net_delta_usd == Approx(200.0 - 30.0 - 330.0));
  CHECK(s.gross_delta_usd == Approx(200.0 + 30.0 + 330.0));
  CHECK(s.top[0].account == 2);
}
