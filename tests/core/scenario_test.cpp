// Shock scenarios (core/scenario.h): the grid, Black-76 repricing against values computed apart
// (a textbook formula here, and figures computed by hand with Python's math.erf), delta-one P&L,
// the margin test per account, and sums per segment equal to the sum over accounts, merged in
// any order.

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "core/account_store.h"
#include "core/scenario.h"
#include "core/segment_exposure.h"

using namespace segmentd;

namespace {

//! Black-76 with no discounting, written apart from core/black76.cpp.
double textbook(bool call, double f, double k, double t, double s) {
  const auto n = [](double x) { return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))); };
  const double d1 = (std::log(f / k) + s * s * t / 2.0) / (s * std::sqrt(t));
  const double d2 = d1 - s * std::sqrt(t);
  return call ? f * n(d1) - k * n(d2) : k * n(-d2) - f * n(-d1);
}

std::size_t find(const std::vector<Shock>& shocks, double price, double vol) {
  for (std::size_t i = 0; i < shocks.size(); ++i)
    if (shocks[i].price == price && shocks[i].vol_points == vol) return i;
  FAIL("no shock " << price << " / " << vol);
  return 0;
}

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

TEST_CASE("scenarios: the default grid is every move and every shift and every pair with names", "[scenario]") {
  const std::vector<Shock> grid = shock_grid(ScenarioParams{});
  CHECK(grid.size() == 7 * 5 - 1);  // (6 moves + none) × (4 shifts + none), without the unshocked
  for (const Shock& s : grid) CHECK((s.price != 0.0 || s.vol_points != 0.0));
  CHECK(grid.front().price == -0.20);
  CHECK(grid.front().vol_points == -25);
  CHECK(shock_name(grid.front()) == "spot-20%/vol-25");
  CHECK(shock_name(Shock{-0.05, 0}) == "spot-5%");
  CHECK(shock_name(Shock{0.1, 0}) == "spot+10%");
  CHECK(shock_name(Shock{0, 25}) == "vol+25");
  ScenarioParams p;
  p.price_moves = {0.1, -0.1, 0.1};
  p.vol_shifts = {};
  CHECK(shock_grid(p).size() == 2);  // duplicates once, no vol shift at all
}

TEST_CASE("scenarios: options are repriced with Black-76 and delta-one linearly", "[scenario]") {
  const std::vector<Shock> grid = shock_grid(ScenarioParams{});
  Revaluation table(grid);
  // A BTC call: F 100,000, K 110,000, a quarter, 60 % vol.
  table.set_option(1, true, 100'000, 110'000, 0.25, 0.60, 0.01);
  // An ETH put: F 3,000, K 2,800, 30 days, 70 %.
  const double month = 30.0 / 365.25;
  table.set_option(2, false, 3'000, 2'800, month, 0.70, 0.01);
  table.set_linear(3, 3'000);
  table.set_option(4, true, 100'000, 110'000, 0.0, 0.60, 0.01);  // expired: no row
  REQUIRE(table.row(1) != nullptr);
  REQUIRE(table.row(4) == nullptr);
  CHECK(table.row(99) == nullptr);
  CHECK(table.instruments() == 3);

  const std::size_t crash_vol_up = find(grid, -0.10, 25);
  // Computed by hand (Python, math.erf): C(90,000, 85 %) − C(100,000, 60 %).
  CHECK(table.row(1)[crash_vol_up] == Approx(493.94293053783986).epsilon(1e-9));
  CHECK(
      table.row(1)[crash_vol_up] ==
      Approx(textbook(true, 90'000, 110'000, 0.25, 0.85) - textbook(true, 100'000, 110'000, 0.25, 0.60)).epsilon(1e-9));
  // The put in a 20 % fall, vol unchanged, and in a vol fall of 25 points alone.
  CHECK(table.row(2)[find(grid, -0.20, 0)] == Approx(320.65328588948364).epsilon(1e-9));
  CHECK(table.row(2)[find(grid, 0, -25)] == Approx(-75.32169913041184).epsilon(1e-9));
  // Every shock against the textbook formula.
  for (std::size_t s = 0; s < grid.size(); ++s) {
    const double vol = std::max(0.70 + grid[s].vol_points / 100.0, 0.01);
    CHECK(table.row(2)[s] == Approx(textbook(false, 3'000 * (1 + grid[s].price), 2'800, month, vol) -
                                    textbook(false, 3'000, 2'800, month, 0.70))
                                 .margin(1e-9));
    CHECK(table.row(3)[s] == Approx(3'000 * grid[s].price));  // delta-one: the index × the move
  }
  // Dollar gamma per unit (Γ·F²/100, Γ = φ(d1) / (F σ √T)) and notional per unit.
  const std::size_t n = grid.size();
  const double d1 = (std::log(100'000.0 / 110'000.0) + 0.6 * 0.6 * 0.25 / 2) / (0.6 * 0.5);
  const double gamma = std::exp(-d1 * d1 / 2) / std::sqrt(2 * M_PI) / (100'000.0 * 0.6 * 0.5);
  CHECK(table.row(1)[n] == Approx(gamma * 100'000.0 * 100'000.0 / 100.0).epsilon(1e-9));
  CHECK(table.row(1)[n + 1] == 100'000.0);
  CHECK(table.row(3)[n] == 0.0);
  CHECK(table.row(3)[n + 1] == 3'000.0);
  // A vol shift below the floor is floored, not negative.
  Revaluation low({Shock{0, -25}});
  low.set_option(5, true, 100'000, 100'000, 0.25, 0.2, 0.05);
  CHECK(low.row(5)[0] ==
        Approx(textbook(true, 100'000, 100'000, 0.25, 0.05) - textbook(true, 100'000, 100'000, 0.25, 0.2)));
}

TEST_CASE("scenarios: an account's loss against its margin per segment with expired and unpriced positions",
          "[scenario]") {
  auto setup = std::make_shared<ScenarioSetup>(std::vector<Shock>{{-0.10, 0}, {0.10, 0}});
  setup->table.set_linear(1, 100);  // ±10 per unit
  setup->base_margin_rate = 0.05;
  setup->margin_multiplier[7] = 2.0;  // segment 7: margin = 0.05 × 2 × gross
  setup->fallback_multiplier = 1.0;
  setup->as_of_ns = 1000;
  ScenarioScan scan(setup);
  // Long 10 units (gross 1,000 USD, margin 100): −100 in the fall = not over its margin.
  scan.add_account(7, 4, std::vector<Position>{pos(1, 10.0, 100.0)});
  // Long 20 and an expired position (left out): gross 2,000, margin 200, loses 200: not over.
  scan.add_account(7, 5, std::vector<Position>{pos(1, 20.0, 100.0), pos(1, 50.0, 100.0, 0.0, 900)});
  // Long 30 with no margin relief in segment 9 (fallback 1.0): gross 3,000, margin 150, loses 300.
  scan.add_account(9, 1, std::vector<Position>{pos(1, 30.0, 100.0)});
  // Short 5 of an instrument with no row: first order in its greeks (delta −500 USD, vega 2 per vol).
  scan.add_account(9, 2, std::vector<Position>{pos(2, -5.0, 100.0, 2.0)});
  scan.add_account(9, 3, std::vector<Position>{});  // no position: counts nowhere
  CHECK(scan.positions_repriced() == 3);
  CHECK(scan.positions_approximated() == 1);
  const SegmentScenarioSums& a = scan.segments().at(7);
  CHECK(a.accounts == 2);
  CHECK(a.gross_delta_usd == 3'000.0);
  CHECK(a.margin_usd == Approx(300.0));
  CHECK(a.pnl_usd[0] == Approx(-300.0));
  CHECK(a.pnl_usd[1] == Approx(300.0));
  CHECK(a.over_margin[0] == 0);
  CHECK(a.worst_account_usd[0] == Approx(-200.0));
  CHECK(a.open_notional_usd == Approx(3'000.0));  // 30 units at 100, the expired one left out
  CHECK(a.net_gamma_usd == 0.0);                  // delta-one
  CHECK(a.worst_account_usd[1] == 0.0);
  const SegmentScenarioSums& b = scan.segments().at(9);
  CHECK(b.accounts == 2);
  CHECK(b.pnl_usd[0] == Approx(-300.0 + 50.0));           // the short gains 500 × 10 %
  CHECK(b.open_notional_usd == Approx(3'000.0 + 500.0));  // unpriced: |its delta|
  CHECK(b.pnl_usd[1] == Approx(300.0 - 50.0));
  CHECK(b.over_margin[0] == 1);  // the long 30: −300 > 150
  CHECK(b.liquidation_usd[0] == Approx(3'000.0));
  CHECK(b.over_margin[1] == 1);  // the short loses 50 against a margin of 25
  CHECK(b.liquidation_usd[1] == Approx(500.0));
  CHECK(b.worst_account_usd[1] == Approx(-50.0));
}

TEST_CASE("scenarios: a margin a venue stated replaces the estimate, times the policy", "[scenario]") {
  VenueMarginBoard board;
  board.record(1, Venue::kHyperliquid, 120.0);
  board.record(1, Venue::kDeribit, 30.0);  // two venues: their sum
  board.record(2, Venue::kDeribit, 500.0);
  board.record(2, Venue::kDeribit, kNaN);  // the next snapshot stated none: cleared
  board.record(3'000'000, Venue::kBybit, 7.0);
  CHECK(board.margin(1) == 150.0);
  CHECK_FALSE(board.margin(2));
  CHECK(board.margin(3'000'000) == 7.0);
  CHECK_FALSE(board.margin(4));
  CHECK_FALSE(board.margin(5'000'000));  // a block never written

  auto setup = std::make_shared<ScenarioSetup>(std::vector<Shock>{{-0.10, 0}});
  setup->table.set_linear(1, 100);
  setup->base_margin_rate = 0.05;
  setup->margin_multiplier[7] = 2.0;
  setup->venue_margins = &board;
  ScenarioScan scan(setup);
  // Account 1: long 10 (gross 1,000; estimate 0.05 × 2 × 1,000 = 100) with 150 stated: margin
  // 300, the fall's −100 is not over it.
  scan.add_account(7, 1, std::vector<Position>{pos(1, 10.0, 100.0)});
  // Account 2: nothing stated: the estimate, 0.05 × 2 × 3,000 = 300 against a loss of 300.
  scan.add_account(7, 2, std::vector<Position>{pos(1, 30.0, 100.0)});
  // Account 3'000'000: 7 stated × 2 = 14 against a loss of 100: over.
  scan.add_account(7, 3'000'000, std::vector<Position>{pos(1, 10.0, 100.0)});
  const SegmentScenarioSums& a = scan.segments().at(7);
  CHECK(a.venue_margin_accounts == 2);
  CHECK(a.margin_usd == Approx(300.0 + 300.0 + 14.0));
  CHECK(a.over_margin[0] == 1);
  CHECK(a.liquidation_usd[0] == Approx(1'000.0));
}

TEST_CASE("scenarios: a segment's sums are the sums over its accounts merged in any order", "[scenario]") {
  const std::vector<Shock> grid = shock_grid(ScenarioParams{});
  auto setup = std::make_shared<ScenarioSetup>(grid);
  for (InstrumentId i = 0; i < 6; ++i) setup->table.set_linear(i, 100.0 * (i + 1));
  for (InstrumentId i = 6; i < 12; ++i)
    setup->table.set_option(i, i % 2 == 0, 50'000, 40'000 + 2'000.0 * i, 0.1 + 0.05 * i, 0.5, 0.01);
  setup->margin_multiplier = {{1, 0.8}, {2, 1.5}};
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> qty(-3.0, 3.0);
  struct Account {
    SegmentId segment;
    std::vector<Position> positions;
  };
  std::vector<Account> accounts;
  for (int a = 0; a < 300; ++a) {
    Account acc{static_cast<SegmentId>(a % 3 == 0 ? kNoSegment : 1 + a % 2), {}};
    for (int k = 0; k < 1 + a % 4; ++k) {
      const auto ins = static_cast<InstrumentId>(rng() % 13);  // 12: no row
      acc.positions.push_back(pos(ins, qty(rng), 100.0, 3.0));
    }
    accounts.push_back(std::move(acc));
  }
  ScenarioScan one(setup), left(setup), right(setup);
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    one.add_account(accounts[i].segment, static_cast<AccountId>(i), accounts[i].positions);
    (i % 2 ? left : right).add_account(accounts[i].segment, static_cast<AccountId>(i), accounts[i].positions);
  }
  ScenarioScan merged(setup);
  merged.merge(right);
  merged.merge(left);
  for (const auto& [segment, s] : one.segments()) {
    // Independently: each account's P&L as Σ qty × row (or its greeks), summed.
    for (std::size_t k = 0; k < grid.size(); ++k) {
      double sum = 0;
      for (const Account& acc : accounts) {
        if (acc.segment != segment) continue;
        for (const Position& p : acc.positions) {
          const double* row = setup->table.row(p.instrument);
          sum += row != nullptr ? p.qty * row[k]
                                : p.delta_usd() * grid[k].price + p.vega_usd() * grid[k].vol_points / 100.0;
        }
      }
      CHECK(s.pnl_usd[k] == Approx(sum).epsilon(1e-9));
      CHECK(merged.segments().at(segment).pnl_usd[k] == Approx(s.pnl_usd[k]).epsilon(1e-12));
      CHECK(merged.segments().at(segment).over_margin[k] == s.over_margin[k]);
      CHECK(merged.segments().at(segment).worst_account_usd[k] == s.worst_account_usd[k]);
    }
    CHECK(merged.segments().at(segment).accounts == s.accounts);
  }
  CHECK(merged.positions_repriced() == one.positions_repriced());
}

TEST_CASE("scenarios: the store's scan revalues every account in the same pass as the exposure", "[scenario]") {
  AccountStore store{FeatureParams{}};
  Fill f;
  f.recv_ns = 1'735'000'000'000'000'000;
  f.account = 1;
  f.instrument = 5;
  f.kind = InstrumentKind::kPerpetual;
  f.side = Side::kBuy;
  f.qty = 2.0;
  f.price = 100.0;
  f.notional_usd = 200.0;
  const AccountStore::Slot a = store.apply(f);
  f.account = 2;
  f.side = Side::kSell;
  f.qty = 1.0;
  f.recv_ns += 1;
  store.apply(f);
  store.set_segment(a, 4, 0.5, f.recv_ns);
  auto setup = std::make_shared<ScenarioSetup>(std::vector<Shock>{{-0.20, 0}});
  setup->table.set_linear(5, 120.0);  // the index now
  ExposureScan exposure(f.recv_ns);
  ScenarioScan scenarios(setup);
  store.scan_exposure(exposure, &scenarios);
  CHECK(exposure.accounts_scanned() == 2);
  REQUIRE(scenarios.segments().size() == 2);
  CHECK(scenarios.segments().at(4).pnl_usd[0] == Approx(2.0 * 120.0 * -0.20));
  CHECK(scenarios.segments().at(kNoSegment).pnl_usd[0] == Approx(-1.0 * 120.0 * -0.20));
}

TEST_CASE("scenarios: a dynamic margin covers the worst loss between the policy and its cap", "[scenario]") {
  // Worst loss 300 on a gross delta of 1,000 at a base rate of 0.1: a multiplier of 3 covers it.
  CHECK(dynamic_margin_multiplier(1.2, 5.0, 300.0, 1'000.0, 0.1) == Approx(3.0));
  CHECK(dynamic_margin_multiplier(1.2, 2.0, 300.0, 1'000.0, 0.1) == 2.0);  // capped
  CHECK(dynamic_margin_multiplier(1.2, 5.0, 50.0, 1'000.0, 0.1) == 1.2);   // never under the policy
  CHECK(dynamic_margin_multiplier(1.2, 0.5, 300.0, 1'000.0, 0.1) == 1.2);  // a cap under it: the policy
  CHECK(dynamic_margin_multiplier(1.2, 5.0, 0.0, 1'000.0, 0.1) == 1.2);    // no loss
  CHECK(dynamic_margin_multiplier(1.2, 5.0, 300.0, 0.0, 0.1) == 1.2);      // holds nothing
  CHECK(dynamic_margin_multiplier(1.2, 5.0, 300.0, 1'000.0, 0.0) == 1.2);  // no base rate
}
