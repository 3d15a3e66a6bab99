// The store's layout and access paths: apply_burst (with its look-ahead) must leave exactly the
// state apply() one fill at a time leaves, across block boundaries and for accounts created
// inside the look-ahead window; features(slot, now) decays an idle account to now without
// changing it; the SPSC ring hands a wrapped burst out as two spans in order.

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <deque>
#include <random>
#include <vector>

#include "core/account_store.h"
#include "core/price_tape.h"
#include "service/shards/spsc_ring.h"

using namespace segmentd;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kHour = 3600 * kSec;
constexpr std::int64_t kDay = 86400 * kSec;
constexpr std::int64_t kT0 = 1'735'000'000LL * kSec;
const double kLn2 = std::log(2.0);

double feat(const FeatureVector& v, Feature f) { return v[static_cast<std::size_t>(index(f))]; }

//! A perpetual fill of qty at price (notional qty × price).
Fill perp_fill(AccountId acct, std::int64_t t, Side side, double qty, double price) {
  Fill f;
  f.recv_ns = t;
  f.account = acct;
  f.instrument = 1;
  f.kind = InstrumentKind::kPerpetual;
  f.side = side;
  f.qty = qty;
  f.price = price;
  f.notional_usd = qty * price;
  return f;
}

Fill random_fill(std::mt19937_64& rng, AccountId acct, std::int64_t t) {
  Fill f;
  f.recv_ns = t;
  f.account = acct;
  f.side = rng() % 2 ? Side::kBuy : Side::kSell;
  f.liquidity = rng() % 2 ? Liquidity::kMaker : Liquidity::kTaker;
  f.qty = 0.01 + static_cast<double>(rng() % 100) / 10.0;
  f.underlying = static_cast<UnderlyingId>(rng() % 6);
  if (rng() % 4 == 0) {
    f.kind = InstrumentKind::kOption;
    f.instrument = static_cast<InstrumentId>(10 + rng() % 12);
    f.option_type = rng() % 2 ? OptionType::kCall : OptionType::kPut;
    f.underlying_price = 40000.0 + static_cast<double>(rng() % 20000);
    f.strike = 30000.0 + 5000.0 * static_cast<double>(rng() % 8);
    f.expiry_ns = t + static_cast<std::int64_t>(rng() % (2 * kDay));
    f.iv = rng() % 4 ? 0.3 + static_cast<double>(rng() % 100) / 100.0 : kNaN;
    f.price = 0.05;
    f.notional_usd = f.qty * f.underlying_price;
  } else {
    f.kind = rng() % 2 ? InstrumentKind::kPerpetual : InstrumentKind::kSpot;
    f.instrument = static_cast<InstrumentId>(rng() % 10);
    f.price = 40000.0 + static_cast<double>(rng() % 20000);
    f.notional_usd = f.qty * f.price;
  }
  return f;
}

// Field by field: padding bytes are not part of the state.
void require_same_account(const AccountStore& a, const AccountStore& b, AccountStore::Slot s) {
  const AccountCore& ca = a.core(s);
  const AccountCore& cb = b.core(s);
  REQUIRE(ca.account == cb.account);
  REQUIRE(ca.positions == cb.positions);
  REQUIRE(ca.markout_head == cb.markout_head);
  REQUIRE(ca.markout_count == cb.markout_count);
  REQUIRE(ca.flags == cb.flags);
  REQUIRE(ca.last_ns == cb.last_ns);
  REQUIRE(ca.fills == cb.fills);
  REQUIRE(ca.notional_usd == cb.notional_usd);
  REQUIRE(std::memcmp(&ca.sums, &cb.sums, sizeof(DecayedSums)) == 0);  // doubles only
  REQUIRE(ca.underlying_count == cb.underlying_count);
  for (int i = 0; i < kTrackedUnderlyings; ++i) {
    REQUIRE(ca.underlyings[i] == cb.underlyings[i]);
    REQUIRE(ca.underlying_notional[i] == cb.underlying_notional[i]);
  }
  const auto pa = a.positions(s), pb = b.positions(s);
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    REQUIRE(pa[i].instrument == pb[i].instrument);
    REQUIRE(pa[i].expiry_ns == pb[i].expiry_ns);
    REQUIRE(pa[i].qty == pb[i].qty);
    REQUIRE(pa[i].delta_usd_per_unit == pb[i].delta_usd_per_unit);
    REQUIRE(pa[i].vega_per_unit == pb[i].vega_per_unit);
    REQUIRE(pa[i].has_greeks == pb[i].has_greeks);
  }
  const auto ma = a.pending_markouts(s), mb = b.pending_markouts(s);
  REQUIRE(ma.size() == mb.size());
  for (std::size_t i = 0; i < ma.size(); ++i) {
    REQUIRE(ma[i].instrument == mb[i].instrument);
    REQUIRE(ma[i].due_ns == mb[i].due_ns);
    REQUIRE(ma[i].a == mb[i].a);
    REQUIRE(ma[i].b == mb[i].b);
    REQUIRE(ma[i].w == mb[i].w);
  }
  REQUIRE(a.features(s) == b.features(s));
}

}  // namespace

TEST_CASE("apply_burst leaves exactly the state of apply() fill by fill", "[account_store]") {
  std::mt19937_64 rng(3);
  FeatureParams p;
  p.max_positions = 5;  // odd bounds: records padded to whole lines
  p.markout_slots = 3;
  AccountStore one(p), burst(p);
  PriceTape tape(64, 8, 1);
  std::int64_t t = kT0;
  std::vector<Fill> fills;
  std::vector<AccountStore::Slot> slots_one, slots_burst;
  std::vector<AccountStore::Slot> resolved_one, resolved_burst;
  AccountId next_new = 0;
  // Bursts until the store spans more than one block.
  for (int round = 0; next_new <= AccountStore::kBlockAccounts + 2000; ++round) {
    fills.clear();
    const std::size_t n = 1 + rng() % 300;
    for (std::size_t i = 0; i < n; ++i) {
      t += static_cast<std::int64_t>(rng() % (2 * kSec));
      AccountId acct;
      const auto pick = rng() % 10;
      if (pick < 4 || next_new == 0) {
        acct = next_new++;  // new account
      } else if (pick < 6 && !fills.empty()) {
        acct = fills[fills.size() - 1 - rng() % std::min<std::size_t>(fills.size(), 12)].account;  // within look-ahead
      } else {
        acct = static_cast<AccountId>(rng() % next_new);
      }
      Fill f = random_fill(rng, acct, t - static_cast<std::int64_t>(rng() % 3 == 0 ? rng() % (3 * kSec) : 0));
      tape.record(0, f);
      fills.push_back(f);
    }
    for (const Fill& f : fills) slots_one.push_back(one.apply(f));
    burst.apply_burst(fills, [&](AccountStore::Slot s, const Fill& f) {
      slots_burst.push_back(s);
      CHECK(burst.core(s).account == f.account);
    });
    one.resolve_markouts(t, tape, [&](AccountStore::Slot s) { resolved_one.push_back(s); });
    burst.resolve_markouts(t, tape, [&](AccountStore::Slot s) { resolved_burst.push_back(s); });
  }
  REQUIRE(next_new > AccountStore::kBlockAccounts);
  REQUIRE(slots_one == slots_burst);
  REQUIRE(resolved_one == resolved_burst);
  REQUIRE(one.size() == burst.size());
  for (AccountStore::Slot s = 0; s < one.size(); ++s) {
    require_same_account(one, burst, s);
    REQUIRE(one.find(one.core(s).account) == std::optional<AccountStore::Slot>(s));
  }
  CHECK(one.stats().late_fills == burst.stats().late_fills);
  CHECK(one.stats().position_overflow == burst.stats().position_overflow);
  CHECK(one.stats().markouts_resolved == burst.stats().markouts_resolved);
  CHECK(one.stats().markouts_skipped == burst.stats().markouts_skipped);
  CHECK(one.bytes_per_account_state() % 64 == 0);
  int calls = 0;
  burst.apply_burst(std::span<const Fill>{}, [&](AccountStore::Slot, const Fill&) { ++calls; });
  CHECK(calls == 0);
}

TEST_CASE("features(slot, now) decays an idle account to now and changes nothing", "[account_store][features]") {
  FeatureParams p;
  p.half_life_ns = kHour;
  AccountStore store(p);
  const Fill f = perp_fill(9, kT0, Side::kBuy, 1.0, 50000.0);
  const auto slot = store.apply(f);
  const FeatureVector at_fill = store.features(slot);
  CHECK(store.features(slot, kT0) == at_fill);
  CHECK(store.features(slot, kT0 - kSec) == at_fill);  // never back in time

  // One half-life idle: the fill weighs 1/2; the 50,000 USD position was held the whole time.
  const FeatureVector later = store.features(slot, kT0 + kHour);
  CHECK(feat(later, Feature::kTradeRate) == Approx(std::log1p(0.5 * kLn2)));
  CHECK(feat(later, Feature::kNotionalRate) == Approx(std::log1p(25000.0 * kLn2)));
  CHECK(feat(later, Feature::kTicketSize) == Approx(feat(at_fill, Feature::kTicketSize)));
  CHECK(feat(later, Feature::kTurnover) == Approx(std::log1p(25000.0 * kLn2 / 50000.0)));
  CHECK(feat(later, Feature::kExposure) == Approx(std::log1p(50000.0)));
  CHECK(feat(later, Feature::kPerpShare) == Approx(1.0));
  // Read-only: the stored state is still as of the fill.
  CHECK(store.core(slot).last_ns == kT0);
  CHECK(store.features(slot) == at_fill);

  // The same as what the next fill sees first: a fill at kT0 + 1 h, read at that time, differs
  // from the decayed read only by the fill itself (one more fill, 50,000 USD more notional).
  Fill g = f;
  g.recv_ns = kT0 + kHour;
  g.side = Side::kSell;  // closes the position
  store.apply(g);
  const FeatureVector after = store.features(slot);
  CHECK(feat(after, Feature::kTradeRate) == Approx(std::log1p(1.5 * kLn2)));
  CHECK(feat(after, Feature::kTurnover) == Approx(std::log1p(75000.0 * kLn2 / 50000.0)));

  // An option that expires while the account is idle drops out of the exposure read later.
  Fill o;
  o.recv_ns = kT0 + kHour;
  o.account = 10;
  o.instrument = 20;
  o.kind = InstrumentKind::kOption;
  o.option_type = OptionType::kCall;
  o.side = Side::kBuy;
  o.qty = 1.0;
  o.price = 0.05;
  o.underlying_price = 50000.0;
  o.notional_usd = 50000.0;
  o.strike = 50000.0;
  o.expiry_ns = kT0 + 2 * kHour;
  o.iv = 0.5;
  const auto os = store.apply(o);
  CHECK(feat(store.features(os, kT0 + 90 * 60 * kSec), Feature::kExposure) > 0.0);
  CHECK(feat(store.features(os, kT0 + 3 * kHour), Feature::kExposure) == 0.0);
  CHECK(store.positions(os).size() == 1u);
}

// The book stands in for the positions on a fill's path (the decay step integrates its gross
// delta without reading a position): it must follow them through opens, flips, closes,
// evictions and expiries.
TEST_CASE("the position book follows the positions: gross delta, next expiry, greeks flags", "[account_store]") {
  std::mt19937_64 rng(11);
  FeatureParams p;
  p.max_positions = 3;    // overflow blocks are frequent
  p.overflow_blocks = 3;  // and some accounts find none: positions not tracked
  AccountStore store(p);
  std::int64_t t = kT0;
  std::size_t expired_seen = 0, closed_seen = 0;
  // The book's gross is a running sum (+|new| - |old| per fill): its rounding error grows with the
  // size of the terms summed since the book was last exact (flat), not with today's gross. So the
  // bound scales with the largest gross the account held since it was last flat: a position lost
  // or double counted is off by a whole |delta|, far beyond it.
  std::array<double, 8> peak{};
  for (int i = 0; i < 60000; ++i) {
    // Steps up to 2 h cross many of the options' expiries (up to 2 days out).
    t += static_cast<std::int64_t>(rng() % (rng() % 50 == 0 ? 2 * kHour : 20 * kSec));
    const auto acct = static_cast<AccountId>(rng() % 8);
    Fill f = random_fill(rng, acct, t);
    f.instrument %= 14;               // few instruments: positions are joined, flipped and closed often
    if (rng() % 3 == 0) f.qty = 1.0;  // equal sizes close positions exactly
    const auto before = store.find(acct) ? store.core(*store.find(acct)).positions : 0;
    const auto slot = store.apply(f);
    const PositionBook& b = store.book(slot);
    const std::vector<Position> held = store.positions(slot);
    if (held.size() < static_cast<std::size_t>(before)) (f.expiry_ns != 0 ? expired_seen : closed_seen) += 1;
    double gross = 0;
    std::int64_t next = 0;
    for (std::size_t k = 0; k < held.size(); ++k) {
      gross += std::abs(held[k].delta_usd());
      if (held[k].expiry_ns != 0 && (next == 0 || held[k].expiry_ns < next)) next = held[k].expiry_ns;
      if (held[k].expiry_ns != 0) REQUIRE(held[k].expiry_ns > t);  // expired ones dropped
      for (std::size_t j = k + 1; j < held.size(); ++j) REQUIRE(held[j].instrument != held[k].instrument);
      // Only options carry vega, and only options whose greeks came from an implied vol.
      if (held[k].vega_per_unit != 0.0) REQUIRE(held[k].has_greeks);
    }
    REQUIRE(b.gross_delta_usd >= 0.0);
    peak[acct] = std::max({peak[acct], gross, b.gross_delta_usd});
    REQUIRE(std::abs(b.gross_delta_usd - gross) <= 1e-9 * std::max(peak[acct], 1.0));
    if (held.empty()) {
      peak[acct] = 0.0;
      REQUIRE(b.gross_delta_usd == 0.0);
      REQUIRE(b.next_expiry_ns == 0);
    }
    if (next != 0) REQUIRE((b.next_expiry_ns != 0 && b.next_expiry_ns <= next));
    // The greeks flags are bits of open slots only: none beyond the slots, none of an empty one.
    const OverflowBlock* ov = store.overflow(slot);
    REQUIRE((b.greeks_mask >> p.max_positions) == 0);
    REQUIRE(static_cast<std::size_t>(std::popcount(b.greeks_mask)) +
                (ov != nullptr ? static_cast<std::size_t>(std::popcount(ov->greeks_mask)) : 0u) ==
            static_cast<std::size_t>(
                std::count_if(held.begin(), held.end(), [](const Position& x) { return x.has_greeks; })));
    // The count is the open slots', and an empty slot is zero: sums over every slot (the
    // exposure features read them so) are the sums over the open positions.
    REQUIRE(store.core(slot).positions + (ov != nullptr ? ov->positions_open : 0u) == held.size());
    double gross_all = 0;
    for (const HeldPosition& h : store.held(slot)) gross_all += std::abs(h.delta_usd());
    if (ov != nullptr)
      for (const HeldPosition& h : ov->positions) gross_all += std::abs(h.delta_usd());
    REQUIRE(std::abs(gross_all - gross) <= 1e-12 * std::max(gross, 1.0));
  }
  CHECK(store.stats().position_overflow > 0);
  CHECK(store.stats().overflow_pool_full > 0);
  CHECK(store.overflow_pool().allocated() == 3u);
  CHECK(expired_seen + closed_seen > 0);
}

// A position opens in the slot its instrument prefers (so a fill's position line can be fetched
// before the account's record is read); a taken slot sends it to the first free one, where it is
// still found; a closed position empties its slot for the next.
TEST_CASE("positions take their instrument's preferred slot, else the first free one", "[account_store]") {
  FeatureParams p;
  p.max_positions = 4;
  p.overflow_blocks = 0;  // the record is all there is
  AccountStore store(p);
  auto fill = [](InstrumentId instrument, std::int64_t t, Side side, double qty) {
    Fill f = perp_fill(3, t, side, qty, 100.0);
    f.instrument = instrument;
    return f;
  };
  auto qty_in = [&](AccountStore::Slot s) {
    std::vector<double> q;
    for (const HeldPosition& h : store.held(s)) q.push_back(h.qty);
    return q;
  };
  const auto slot = store.apply(fill(6, kT0, Side::kBuy, 1.0));  // 6 % 4 = slot 2
  CHECK(qty_in(slot) == std::vector<double>{0, 0, 1, 0});
  store.apply(fill(10, kT0 + 1, Side::kSell, 2.0));  // prefers 2 too: the first free is 0
  CHECK(qty_in(slot) == std::vector<double>{-2, 0, 1, 0});
  store.apply(fill(10, kT0 + 2, Side::kSell, 1.0));  // found away from its preferred slot
  store.apply(fill(7, kT0 + 3, Side::kBuy, 4.0));    // slot 3
  CHECK(qty_in(slot) == std::vector<double>{-3, 0, 1, 4});
  CHECK(store.core(slot).positions == 3);
  store.apply(fill(6, kT0 + 4, Side::kSell, 1.0));  // closes slot 2
  CHECK(qty_in(slot) == std::vector<double>{-3, 0, 0, 4});
  CHECK(store.core(slot).positions == 2);
  store.apply(fill(14, kT0 + 5, Side::kBuy, 5.0));  // prefers 2, free again
  store.apply(fill(1, kT0 + 6, Side::kBuy, 6.0));   // slot 1: all four open
  CHECK(qty_in(slot) == std::vector<double>{-3, 6, 5, 4});
  const std::vector<Position> open = store.positions(slot);
  REQUIRE(open.size() == 4u);
  CHECK(open[0].instrument == 10);
  CHECK(open[2].instrument == 14);
  // Full, and no overflow block: the newcomer (900 USD) is not tracked and evicts nothing, however
  // large; the fill that closes it later opens nothing either (no phantom short of 9).
  store.apply(fill(20, kT0 + 7, Side::kBuy, 9.0));
  CHECK(qty_in(slot) == std::vector<double>{-3, 6, 5, 4});
  CHECK(store.stats().position_overflow == 1u);
  store.apply(fill(14, kT0 + 9, Side::kSell, 5.0));  // closes slot 2: there is room again
  CHECK(qty_in(slot) == std::vector<double>{-3, 6, 0, 4});
  store.apply(fill(20, kT0 + 10, Side::kSell, 9.0));  // the untracked position's close
  CHECK(qty_in(slot) == std::vector<double>{-3, 6, 0, 4});
  CHECK(store.stats().untracked_position_fills == 1u);
  CHECK(store.book(slot).gross_delta_usd == Approx(100.0 * (3 + 6 + 4)));
}

// An account holding more positions than its record has slots (the real Hyperliquid account holds
// up to 20): the rest go to an overflow block, so every reducing fill finds its position and none
// opens an opposite one; the block goes back to the pool when its positions close.
TEST_CASE("positions past the record's slots live in an overflow block, and reducing fills find them",
          "[account_store]") {
  FeatureParams p;  // 8 slots in the record
  AccountStore store(p);
  auto fill = [](InstrumentId instrument, std::int64_t t, Side side, double qty) {
    Fill f = perp_fill(3, t, side, qty, 100.0);
    f.instrument = instrument;
    f.underlying = 0;  // one underlying: the block is for positions only
    return f;
  };
  AccountStore::Slot slot = 0;
  for (InstrumentId i = 0; i < 20; ++i) slot = store.apply(fill(i, kT0 + i, Side::kBuy, 1.0 + i));
  REQUIRE(store.positions(slot).size() == 20u);
  REQUIRE(store.overflow(slot) != nullptr);
  CHECK(store.overflow(slot)->positions_open == 12);
  CHECK(store.stats().position_overflow == 0u);
  const double gross = 100.0 * (20 * 21 / 2);
  CHECK(store.book(slot).gross_delta_usd == Approx(gross));
  CHECK(std::exp(feat(store.features(slot), Feature::kExposure)) - 1.0 == Approx(gross));
  CHECK(feat(store.features(slot), Feature::kDeltaNeutrality) == Approx(0.0).margin(1e-12));
  // Close every position: none flips, the block is released.
  for (InstrumentId i = 0; i < 20; ++i) store.apply(fill(i, kT0 + 100 + i, Side::kSell, 1.0 + i));
  CHECK(store.positions(slot).empty());
  CHECK(store.overflow(slot) == nullptr);
  CHECK(store.overflow_pool().in_use() == 0u);
  CHECK(store.book(slot).gross_delta_usd == 0.0);
  CHECK(feat(store.features(slot), Feature::kExposure) == 0.0);
}

TEST_CASE("the position book recovers from a position whose delta overflowed", "[account_store]") {
  AccountStore store(FeatureParams{});
  const Fill f = perp_fill(1, kT0, Side::kBuy, 2.0, 50000.0);
  const auto slot = store.apply(f);
  Fill huge = f;
  huge.instrument = 2;
  huge.qty = 1e300;
  huge.price = 1e300;
  huge.underlying_price = 1e300;  // qty × F overflows to inf
  huge.notional_usd = kNaN;
  huge.recv_ns = kT0 + kSec;
  store.apply(huge);
  CHECK(std::isinf(store.book(slot).gross_delta_usd));
  huge.side = Side::kSell;  // closes it: the running sum would be inf − inf
  huge.recv_ns = kT0 + 2 * kSec;
  store.apply(huge);
  REQUIRE(store.positions(slot).size() == 1u);
  CHECK(store.book(slot).gross_delta_usd == Approx(100000.0));
}

TEST_CASE("spsc ring: pop_spans hands a wrapped burst out as two spans, in order", "[spsc_ring]") {
  SpscRing<int> ring(8);
  int v = 0;
  for (int i = 0; i < 6; ++i) REQUIRE(ring.try_push(v++));
  std::vector<int> got;
  std::vector<std::size_t> sizes;
  auto take = [&](std::span<const int> s) {
    sizes.push_back(s.size());
    got.insert(got.end(), s.begin(), s.end());
  };
  CHECK(ring.pop_spans(4, take) == 4);
  CHECK(ring.pop_spans(100, take) == 2);
  for (int i = 0; i < 5; ++i) REQUIRE(ring.try_push(v++));  // slots 6, 7, 0, 1, 2
  CHECK(ring.pop_spans(100, take) == 5);
  CHECK(ring.pop_spans(100, take) == 0);
  CHECK(sizes == std::vector<std::size_t>{4, 2, 2, 3});
  CHECK(got == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  CHECK(ring.size() == 0u);
}

namespace {

//! The pending markouts of one account as a plain queue of groups (core/features.md): a fill
//! joins the newest group on its instrument within markout_coalesce, else opens a new one when
//! fewer than markout_slots are pending; groups resolve oldest first once due.
struct QueueModel {
  std::deque<PendingMarkout> groups;
  double num = 0, den = 0;  //!< the resolved markouts' sums, decayed as the account's clock moves
  std::int64_t last_ns = 0;
};

}  // namespace

TEST_CASE("markouts: the newest in the core and the older in the ring behave as one queue", "[account_store]") {
  for (int slots : {1, 2, 3, 8}) {
    CAPTURE(slots);
    std::mt19937_64 rng(static_cast<std::uint64_t>(slots));
    FeatureParams p;
    p.markout_slots = slots;
    p.markout_coalesce_ns = kSec;
    p.markout_horizon_ns = 10 * kSec;
    AccountStore store(p);
    PriceTape tape(64, 8, 1);
    std::vector<QueueModel> model(40);
    AccountStats want;
    std::int64_t t = kT0;
    for (int i = 0; i < 20000; ++i) {
      t += static_cast<std::int64_t>(rng() % (kSec / 2));
      const auto acct = static_cast<AccountId>(rng() % model.size());
      Fill f;
      f.recv_ns = t - (rng() % 8 == 0 ? static_cast<std::int64_t>(rng() % (2 * kSec)) : 0);  // some late
      f.account = acct;
      f.instrument = static_cast<InstrumentId>(rng() % 3);
      f.kind = InstrumentKind::kPerpetual;
      f.side = rng() % 2 ? Side::kBuy : Side::kSell;
      f.qty = 0.5 + static_cast<double>(rng() % 10);
      f.price = 100.0 + static_cast<double>(rng() % 10);
      f.notional_usd = f.qty * f.price;
      tape.record(0, f);
      store.apply(f);

      QueueModel& m = model[acct];
      if (m.last_ns != 0 && f.recv_ns > m.last_ns) {
        const double d = decay_factor(f.recv_ns - m.last_ns, p.half_life_ns);
        m.num *= d;
        m.den *= d;
      }
      m.last_ns = std::max(m.last_ns, f.recv_ns);
      const double sn = sign(f.side) * f.notional_usd;
      PendingMarkout* newest = m.groups.empty() ? nullptr : &m.groups.back();
      const std::int64_t start = newest ? newest->due_ns - p.markout_horizon_ns : 0;
      if (newest && newest->instrument == f.instrument && f.recv_ns >= start &&
          f.recv_ns - start <= p.markout_coalesce_ns) {
        newest->a += sn / f.price;
        newest->b += sn;
        newest->w += f.notional_usd;
      } else if (static_cast<int>(m.groups.size()) >= slots) {
        ++want.markouts_skipped;
      } else {
        m.groups.push_back({f.recv_ns + p.markout_horizon_ns, sn / f.price, sn, f.notional_usd, f.instrument});
      }

      if (i % 37 == 0) {
        std::vector<AccountId> got_resolved, want_resolved;
        std::size_t want_pending = 0;
        store.resolve_markouts(t, tape, [&](AccountStore::Slot s) { got_resolved.push_back(store.core(s).account); });
        for (AccountId id = 0; id < model.size(); ++id) {
          const auto slot = store.find(id);
          if (!slot) continue;
          const AccountStore::Slot s = *slot;
          QueueModel& q = model[id];
          int n = 0;
          while (!q.groups.empty() && q.groups.front().due_ns <= t) {
            const PendingMarkout& g = q.groups.front();
            const double px = tape.instrument(g.instrument)->price;
            const double w = decay_factor(q.last_ns - (g.due_ns - p.markout_horizon_ns), p.half_life_ns);
            q.num += w * (px * g.a - g.b);
            q.den += w * g.w;
            q.groups.pop_front();
            ++n;
          }
          want.markouts_resolved += static_cast<std::uint64_t>(n);
          if (n > 0) want_resolved.push_back(id);
          // Skipped or visited, every account keeps exactly the markouts not yet due.
          REQUIRE(store.core(s).markout_count == q.groups.size());
          if (!q.groups.empty()) ++want_pending;
        }
        REQUIRE(store.pending_accounts() == want_pending);
        std::sort(got_resolved.begin(), got_resolved.end());
        REQUIRE(got_resolved == want_resolved);
      }
    }
    REQUIRE(store.stats().markouts_skipped == want.markouts_skipped);
    REQUIRE(store.stats().markouts_resolved == want.markouts_resolved);
    REQUIRE(want.markouts_resolved > 1000);
    for (AccountStore::Slot s = 0; s < store.size(); ++s) {
      const QueueModel& q = model[store.core(s).account];
      const std::vector<PendingMarkout> pending = store.pending_markouts(s);
      REQUIRE(pending.size() == q.groups.size());
      REQUIRE(store.core(s).markout_count == q.groups.size());
      for (std::size_t k = 0; k < pending.size(); ++k) {
        REQUIRE(pending[k].due_ns == q.groups[k].due_ns);
        REQUIRE(pending[k].instrument == q.groups[k].instrument);
        REQUIRE(pending[k].a == q.groups[k].a);
        REQUIRE(pending[k].b == q.groups[k].b);
        REQUIRE(pending[k].w == q.groups[k].w);
      }
      // To rounding: the compiler may fuse multiply-adds differently here than in the store.
      REQUIRE(store.core(s).sums.markout_num == Approx(q.num).epsilon(1e-12));
      REQUIRE(store.core(s).sums.markout_den == Approx(q.den).epsilon(1e-12));
    }
  }
}

TEST_CASE("account store: a capped store refuses new accounts' fills and keeps applying its own",
          "[account_store][max_accounts]") {
  // issue 17 item 7: without a cap every new account grows the store for good.
  AccountStore store(FeatureParams{});
  store.set_max_accounts(3);
  for (AccountId a = 0; a < 3; ++a)
    CHECK(store.apply(perp_fill(a, kT0 + a, Side::kBuy, 1.0, 100.0)) != AccountStore::kNoSlot);
  CHECK(store.size() == 3);
  CHECK(store.refused_fills() == 0);

  // The fourth account (and its second fill) is refused: not stored, counted.
  CHECK(store.apply(perp_fill(7, kT0 + 10, Side::kBuy, 1.0, 100.0)) == AccountStore::kNoSlot);
  CHECK(store.apply(perp_fill(7, kT0 + 11, Side::kSell, 1.0, 100.0)) == AccountStore::kNoSlot);
  CHECK(store.size() == 3);
  CHECK_FALSE(store.find(7).has_value());
  CHECK(store.refused_fills() == 2);

  // The accounts held still take fills, one at a time and in bursts, and the burst skips the
  // refused fills without calling back for them.
  const AccountStore::Slot s1 = store.apply(perp_fill(1, kT0 + 20, Side::kBuy, 2.0, 100.0));
  REQUIRE(s1 != AccountStore::kNoSlot);
  CHECK(store.core(s1).fills == 2);
  std::vector<Fill> burst;
  for (int i = 0; i < 24; ++i)
    burst.push_back(perp_fill(static_cast<AccountId>(i % 6), kT0 + 30 + i, Side::kBuy, 1.0, 100.0));
  std::vector<AccountId> applied;
  store.apply_burst(burst, [&](AccountStore::Slot slot, const Fill& f) {
    CHECK(store.core(slot).account == f.account);
    applied.push_back(f.account);
  });
  CHECK(applied.size() == 12);  // accounts 0, 1, 2: four fills each
  CHECK(std::all_of(applied.begin(), applied.end(), [](AccountId a) { return a < 3; }));
  CHECK(store.size() == 3);
  CHECK(store.refused_fills() == 2 + 12);
  CHECK(store.core(*store.find(0)).fills == 5);
  CHECK(store.core(*store.find(1)).fills == 6);
  CHECK(store.core(*store.find(2)).fills == 5);

  // 0 lifts the cap: the refused account is created at its next fill.
  store.set_max_accounts(0);
  CHECK(store.apply(perp_fill(7, kT0 + 100, Side::kBuy, 1.0, 100.0)) != AccountStore::kNoSlot);
  CHECK(store.size() == 4);
  CHECK(store.core(*store.find(7)).fills == 1);
}

TEST_CASE("account store: a checkpoint of more accounts than the cap loads whole", "[account_store][max_accounts]") {
  AccountStore full(FeatureParams{});
  for (AccountId a = 0; a < 5; ++a) full.apply(perp_fill(a, kT0 + a, Side::kBuy, 1.0, 100.0));
  ByteWriter w;
  full.save(w);
  const std::string bytes(w.view());
  AccountStore capped(FeatureParams{});
  capped.set_max_accounts(2);
  ByteReader r(bytes, "SHRD");
  REQUIRE(capped.load(r).ok());
  CHECK(capped.size() == 5);
  CHECK(capped.apply(perp_fill(4, kT0 + 50, Side::kBuy, 1.0, 100.0)) != AccountStore::kNoSlot);
  CHECK(capped.apply(perp_fill(9, kT0 + 51, Side::kBuy, 1.0, 100.0)) == AccountStore::kNoSlot);
  CHECK(capped.refused_fills() == 1);
}
