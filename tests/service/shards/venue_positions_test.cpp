// Venue positions in a shard (core/position_reconciler.h): the book takes the venue's word, a fill
// the venue already counted moves nothing, a complete snapshot closes what it does not list, and
// the disagreement between the fills and the venue is counted.

#include <catch2/catch.hpp>

#include <cmath>
#include <optional>
#include <vector>

#include "service/shards/account_shard.h"

using namespace segmentd;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'735'000'000LL * kSec;
constexpr AccountId kAcct = 7;
constexpr InstrumentId kBtcPerp = 1;
constexpr InstrumentId kEthPerp = 2;
constexpr InstrumentId kBtcSpot = 3;
constexpr InstrumentId kOtherVenuePerp = 4;

Fill fill(std::int64_t venue_t, InstrumentId inst, Side side, double qty, double px) {
  Fill f;
  f.recv_ns = venue_t + 5'000'000;  // received 5 ms after the venue's time
  f.venue_ns = venue_t;
  f.account = kAcct;
  f.instrument = inst;
  f.venue = Venue::kBinance;
  f.kind = inst == kBtcSpot ? InstrumentKind::kSpot : InstrumentKind::kPerpetual;
  f.side = side;
  f.qty = qty;
  f.price = px;
  f.underlying_price = px;
  f.notional_usd = qty * px;
  f.trade_id = static_cast<std::uint64_t>(venue_t) ^ inst;
  return f;
}

Fill position(std::int64_t venue_t, InstrumentId inst, double qty, double px) {
  Fill r;
  r.record = RecordKind::kPosition;
  r.recv_ns = venue_t + 5'000'000;
  r.venue_ns = venue_t;
  r.account = kAcct;
  r.instrument = inst;
  r.venue = Venue::kBinance;
  r.kind = InstrumentKind::kPerpetual;
  r.qty = qty;
  r.underlying_price = px;
  r.mark_price = px;
  return r;
}

Fill snapshot_end(std::int64_t venue_t, Venue venue = Venue::kBinance) {
  Fill r;
  r.record = RecordKind::kPositionsEnd;
  r.recv_ns = venue_t + 5'000'000;
  r.venue_ns = venue_t;
  r.account = kAcct;
  r.venue = venue;
  return r;
}

struct Harness {
  PriceTape tape{16, 4, 1};
  std::optional<AccountShard> shard;
  Harness() {
    AccountShardOptions o;
    o.tape = &tape;
    o.instrument_of = [](InstrumentId id) {
      if (id == kBtcSpot) return InstrumentScope{Venue::kBinance, InstrumentKind::kSpot, false};
      if (id == kOtherVenuePerp) return InstrumentScope{Venue::kOkx, InstrumentKind::kPerpetual, false};
      return InstrumentScope{Venue::kBinance, InstrumentKind::kPerpetual, false};
    };
    shard.emplace(0, std::move(o));
  }
  void push(const Fill& f) {
    shard->on_fill(f);
    shard->on_burst_end();
  }
  //! The account's position on `inst` (0 when none is open).
  double qty(InstrumentId inst) const {
    const auto slot = shard->store().find(kAcct);
    if (!slot) return 0.0;
    for (const Position& p : shard->store().positions(*slot))
      if (p.instrument == inst) return p.qty;
    return 0.0;
  }
  double exposure() const { return std::expm1(shard->snapshot(kAcct)->fast[index(Feature::kExposure)]); }
  ReconcileStats stats() const { return shard->reconcile_stats(); }
};

}  // namespace

TEST_CASE("venue positions: a record sets a position the fills never saw, and the disagreement is counted",
          "[venue_positions]") {
  Harness h;
  // The service starts late: it sees a buy of 1 BTC, but the account already held 2.
  h.push(fill(kT0, kBtcPerp, Side::kBuy, 1.0, 100'000));
  CHECK(h.qty(kBtcPerp) == 1.0);
  h.push(position(kT0 + kSec, kBtcPerp, 3.0, 100'000));
  CHECK(h.qty(kBtcPerp) == 3.0);
  CHECK(h.exposure() == Approx(300'000).epsilon(1e-9));
  // A later fill moves the venue's position on.
  h.push(fill(kT0 + 2 * kSec, kBtcPerp, Side::kSell, 0.5, 100'000));
  CHECK(h.qty(kBtcPerp) == 2.5);
  // Not compared yet: late fills of the record's moment may still explain the correction.
  CHECK(h.stats().checked == 0);
  h.shard->advance_to(kT0 + PositionReconciler::kSettleNs / 2);
  CHECK(h.stats().checked == 0);
  // Settled: the fills said 1, the venue 3: 2 BTC × 100k USD apart.
  h.shard->advance_to(kT0 + PositionReconciler::kSettleNs + 2 * kSec);
  const ReconcileStats s = h.stats();
  CHECK(s.records == 1);
  CHECK(s.checked == 1);
  CHECK(s.disagreements == 1);
  CHECK(s.disagreement_usd == Approx(200'000));
  CHECK(s.fills_covered == 0);
}

TEST_CASE("venue positions: a record that arrives before its own fill is not counted twice", "[venue_positions]") {
  // Binance sends ACCOUNT_UPDATE before the ORDER_TRADE_UPDATE of the same trade.
  Harness h;
  h.push(position(kT0, kBtcPerp, 0.4, 100'000));
  h.push(fill(kT0, kBtcPerp, Side::kBuy, 0.4, 100'000));
  CHECK(h.qty(kBtcPerp) == 0.4);
  h.push(position(kT0 + kSec, kBtcPerp, 0.1, 100'000));
  h.push(fill(kT0 + kSec, kBtcPerp, Side::kSell, 0.3, 100'000));
  CHECK(h.qty(kBtcPerp) == Approx(0.1));
  h.push(fill(kT0 + 3 * kSec, kBtcPerp, Side::kSell, 0.1, 100'000));
  CHECK(h.qty(kBtcPerp) == 0.0);
  h.shard->on_stop();  // every fill has arrived: what is unexplained is counted
  const ReconcileStats s = h.stats();
  CHECK(s.fills_covered == 2);
  CHECK(s.checked == 1);
  CHECK(s.disagreements == 0);
  CHECK(s.disagreement_usd == 0.0);
  // The fills still count as trades.
  CHECK(h.shard->snapshot(kAcct)->fills == 3);
}

TEST_CASE("venue positions: a record after its fills (one message) agrees with them", "[venue_positions]") {
  Harness h;
  h.push(fill(kT0, kEthPerp, Side::kSell, 2.0, 3'000));
  h.push(position(kT0, kEthPerp, -2.0, 3'000));
  CHECK(h.qty(kEthPerp) == -2.0);
  h.shard->advance_to(kT0 + PositionReconciler::kSettleNs + kSec);  // the moment settles with time
  CHECK(h.stats().checked == 1);
  CHECK(h.stats().disagreements == 0);
}

TEST_CASE("venue positions: a complete snapshot closes the venue's derivatives it does not list, nothing else",
          "[venue_positions]") {
  Harness h;
  h.push(fill(kT0, kBtcPerp, Side::kBuy, 1.0, 100'000));
  h.push(fill(kT0, kEthPerp, Side::kBuy, 10.0, 3'000));
  h.push(fill(kT0, kBtcSpot, Side::kBuy, 0.5, 100'000));
  Fill other = fill(kT0, kOtherVenuePerp, Side::kBuy, 1.0, 100'000);
  other.venue = Venue::kOkx;
  h.push(other);
  // The venue's snapshot: BTC perp 1.0, nothing else.
  h.shard->on_fill(position(kT0 + kSec, kBtcPerp, 1.0, 100'000));
  h.shard->on_fill(snapshot_end(kT0 + kSec));
  h.shard->on_burst_end();
  CHECK(h.qty(kBtcPerp) == 1.0);
  CHECK(h.qty(kEthPerp) == 0.0);         // closed: not listed
  CHECK(h.qty(kBtcSpot) == 0.5);         // spot is a balance: no snapshot closes it
  CHECK(h.qty(kOtherVenuePerp) == 1.0);  // another venue's
  ReconcileStats s = h.stats();
  CHECK(s.snapshots == 1);
  CHECK(s.closed_by_snapshot == 1);
  // A late fill of the snapshot's moment on an instrument it said flat is already in it.
  h.push(fill(kT0 + kSec / 2, kEthPerp, Side::kSell, 10.0, 3'000));
  CHECK(h.qty(kEthPerp) == 0.0);
  h.shard->on_stop();
  s = h.stats();
  CHECK(s.fills_covered == 1);
  // BTC agreed; ETH: the fills said 10 − 10 = 0, the venue 0: no disagreement either.
  CHECK(s.disagreements == 0);
}

TEST_CASE("venue positions: a fill gap-filled after the snapshot explains the snapshot's correction",
          "[venue_positions]") {
  // Disconnected, the account bought 1 BTC; the snapshot at reconnect says 1; then the venue's
  // next update (2, after another buy); then the gap-fill brings the missed buy, late.
  Harness h;
  h.push(position(kT0 + 10 * kSec, kBtcPerp, 1.0, 100'000));
  h.push(fill(kT0 + 11 * kSec, kBtcPerp, Side::kBuy, 1.0, 100'000));
  h.push(position(kT0 + 11 * kSec, kBtcPerp, 2.0, 100'000));
  h.push(fill(kT0 + 5 * kSec, kBtcPerp, Side::kBuy, 1.0, 100'000));  // the missed one, gap-filled
  CHECK(h.qty(kBtcPerp) == 2.0);
  h.shard->on_stop();
  CHECK(h.stats().fills_covered == 1);
  CHECK(h.stats().disagreements == 0);
  // Had it never come, the venue's 1 BTC would be unexplained.
  Harness missed;
  missed.push(position(kT0 + 10 * kSec, kBtcPerp, 1.0, 100'000));
  missed.shard->on_stop();
  CHECK(missed.stats().disagreements == 1);
  CHECK(missed.stats().disagreement_usd == Approx(100'000));
}

TEST_CASE("venue positions: an inverse contract is reconciled in USD", "[venue_positions]") {
  // 10,000 USD of an inverse perpetual bought at two prices: in coins 0.1 + 0.0909…, in USD
  // exactly 10,000 + 10,000. The venue states 20,000 USD (its coins at its mark).
  Harness h;
  h.shard.reset();
  AccountShardOptions o;
  o.tape = &h.tape;
  o.instrument_of = [](InstrumentId) { return InstrumentScope{Venue::kDeribit, InstrumentKind::kPerpetual, true}; };
  h.shard.emplace(0, std::move(o));
  auto inverse_fill = [](std::int64_t t, double usd, double px) {
    Fill f = fill(t, kBtcPerp, Side::kBuy, usd / px, px);
    f.venue = Venue::kDeribit;
    return f;
  };
  h.push(position(kT0, kBtcPerp, 0.0, 100'000));
  h.push(inverse_fill(kT0 + kSec, 10'000, 100'000));
  h.push(inverse_fill(kT0 + 2 * kSec, 10'000, 110'000));
  Fill r = position(kT0 + 2 * kSec, kBtcPerp, 20'000.0 / 105'000, 105'000);
  r.venue = Venue::kDeribit;
  h.push(r);
  h.shard->on_stop();
  CHECK(h.stats().records == 2);
  CHECK(h.stats().disagreements == 0);  // in coins they differ by 0.3 %; in USD not at all
  CHECK(h.qty(kBtcPerp) == Approx(20'000.0 / 105'000));
}

TEST_CASE("venue positions: an older record than the book's is ignored", "[venue_positions]") {
  Harness h;
  h.push(position(kT0 + 10 * kSec, kBtcPerp, 2.0, 100'000));
  h.push(position(kT0 + 5 * kSec, kBtcPerp, 7.0, 100'000));
  CHECK(h.qty(kBtcPerp) == 2.0);
  CHECK(h.stats().stale_records == 1);
  CHECK(h.stats().records == 1);
}

TEST_CASE("venue positions: a venue clock far ahead does not cover the fills after it", "[venue_positions]") {
  Harness h;
  Fill r = position(kT0, kBtcPerp, 1.0, 100'000);
  r.venue_ns = kT0 + 3600 * kSec;  // an hour ahead of its receive time: the receive time is used
  h.push(r);
  h.push(fill(kT0 + kSec, kBtcPerp, Side::kBuy, 1.0, 100'000));
  CHECK(h.qty(kBtcPerp) == 2.0);
  CHECK(h.stats().fills_covered == 0);
}

TEST_CASE("venue positions: a position record opens an account and is no trade", "[venue_positions]") {
  Harness h;
  h.push(position(kT0, kBtcPerp, -1.5, 100'000));
  const auto snap = h.shard->snapshot(kAcct);
  REQUIRE(snap);
  CHECK(snap->fills == 0);
  CHECK(snap->open_positions == 1);
  CHECK(h.qty(kBtcPerp) == -1.5);
  CHECK(h.exposure() == Approx(150'000).epsilon(1e-9));
  CHECK(h.shard->fills_seen() == 0);
}
