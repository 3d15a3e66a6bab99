#include "core/account_state.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/black76.h"
#include "core/price_tape.h"

namespace segmentd {
namespace {

constexpr double kLn2 = 0.69314718055994530942;
constexpr double kNsPerHour = 3600e9;
constexpr double kNsPerDay = 86400e9;
constexpr double kNsPerYear = 365.25 * 86400e9;

double ratio01(double num, double den) { return den > 0 ? std::clamp(num / den, 0.0, 1.0) : 0.0; }

//! The forward/underlying price of a fill in USD: the venue's when sent, else notional / qty
//! (core/features.md: notional = |qty| × underlying price, for inverse and linear contracts alike).
double forward_of(const Fill& f) {
  if (std::isfinite(f.underlying_price) && f.underlying_price > 0) return f.underlying_price;
  if (f.qty > 0 && f.notional_usd > 0) return f.notional_usd / f.qty;
  return kNaN;
}

//! The account's overflow block, or null.
OverflowBlock* overflow_of(const AccountRef& a) {
  return a.pool != nullptr && a.book->overflow != 0 ? &a.pool->at(a.book->overflow) : nullptr;
}

//! Position slots: the record's (0 .. max_positions − 1), then the overflow block's.
struct Slots {
  AccountRef a;
  OverflowBlock* ov;
  int record_slots() const { return static_cast<int>(a.positions.size()); }
  int size() const { return record_slots() + (ov != nullptr ? kOverflowPositions : 0); }
  bool in_record(int i) const { return i < record_slots(); }
  HeldPosition& pos(int i) const {
    return in_record(i) ? a.positions[static_cast<std::size_t>(i)] : ov->positions[i - record_slots()];
  }
  InstrumentId& id(int i) const {
    return in_record(i) ? a.instruments[static_cast<std::size_t>(i)] : ov->instruments[i - record_slots()];
  }
  bool greeks(int i) const {
    return in_record(i) ? ((a.book->greeks_mask >> i) & 1) != 0 : ((ov->greeks_mask >> (i - record_slots())) & 1) != 0;
  }
  void set_greeks(int i, bool on) const {
    if (in_record(i)) {
      const std::uint64_t bit = 1ULL << i;
      a.book->greeks_mask = on ? (a.book->greeks_mask | bit) : (a.book->greeks_mask & ~bit);
    } else {
      const std::uint32_t bit = 1u << (i - record_slots());
      ov->greeks_mask = on ? (ov->greeks_mask | bit) : (ov->greeks_mask & ~bit);
    }
  }
  //! The slot holding `instrument`, or −1.
  int find(InstrumentId instrument) const {
    if (const int i = find_position(a.instruments, instrument); i >= 0) return i;
    if (ov != nullptr)
      for (int k = 0; k < kOverflowPositions; ++k)
        if (ov->instruments[k] == instrument) return record_slots() + k;
    return -1;
  }
};

//! Gives the block back to the pool when it holds nothing (no position, no underlying).
void release_if_empty(AccountRef a, OverflowBlock* ov) {
  if (ov == nullptr || ov->positions_open != 0 || ov->underlying_count != 0) return;
  a.pool->release(a.book->overflow);
  a.book->overflow = 0;
}

//! The account's overflow block, taken from the pool when it has none; null when the pool is full
//! (counted) or the account has no pool.
OverflowBlock* take_overflow(AccountRef a, AccountStats* stats) {
  if (OverflowBlock* ov = overflow_of(a)) return ov;
  if (a.pool == nullptr) return nullptr;
  const std::uint32_t h = a.pool->allocate(a.core->account);
  if (h == 0) {
    ++stats->overflow_pool_full;
    return nullptr;
  }
  a.book->overflow = h;
  return &a.pool->at(h);
}

//! Empties position slot i (zeroed, so that sums over every slot skip it). The caller keeps the
//! book's gross delta; with none left it is exactly 0.
void remove_position(const Slots& sl, int i) {
  AccountCore& c = *sl.a.core;
  PositionBook& b = *sl.a.book;
  sl.pos(i) = HeldPosition{};
  sl.id(i) = kNoInstrument;
  sl.set_greeks(i, false);
  if (sl.in_record(i)) {
    --c.positions;
  } else {
    --sl.ov->positions_open;
  }
  if (c.positions == 0 && (sl.ov == nullptr || sl.ov->positions_open == 0)) {
    b.gross_delta_usd = 0.0;
    b.next_expiry_ns = 0;
  }
}

//! Makes the book's gross delta and next expiry exact from the open positions.
void rebuild_book(const Slots& sl) {
  PositionBook& b = *sl.a.book;
  b.gross_delta_usd = 0.0;
  b.next_expiry_ns = 0;
  for (int i = 0; i < sl.size(); ++i) {  // empty slots are zero
    const HeldPosition& pos = sl.pos(i);
    b.gross_delta_usd += std::abs(pos.delta_usd());
    if (pos.expiry_ns != 0 && (b.next_expiry_ns == 0 || pos.expiry_ns < b.next_expiry_ns))
      b.next_expiry_ns = pos.expiry_ns;
  }
}

//! Moves the account's sums from last_ns to t (> last_ns): decays them, integrates the gross
//! position held over (last_ns, t], and drops positions that expired in between.
void advance(const FeatureParams& p, AccountRef a, std::int64_t t) {
  AccountCore& c = *a.core;
  PositionBook& b = *a.book;
  // Per clock k: tau = ∫₀^∞ 2^(−s/hl) ds and the decay d over (last_ns, t].
  const std::int64_t hl[2] = {p.half_life_ns, p.slow_half_life_ns};
  const double tau[2] = {static_cast<double>(hl[0]) / kLn2, static_cast<double>(hl[1]) / kLn2};
  const double d[2] = {decay_factor(t - c.last_ns, hl[0]), decay_factor(t - c.last_ns, hl[1])};

  // ∫ over (last, end] of |delta| · 2^(−(t−s)/hl) ds = |delta|·tau·(2^(−(t−end)/hl) − d). When no
  // position expires by t, every end is t and the sum is the book's gross delta: the positions
  // are not read.
  const Slots sl{a, overflow_of(a)};
  double gross_time[2] = {0.0, 0.0};
  const bool expiring = b.next_expiry_ns != 0 && b.next_expiry_ns <= t;
  if (!expiring) {
    for (int k = 0; k < 2; ++k) gross_time[k] = b.gross_delta_usd * tau[k] * (1.0 - d[k]);
  } else {
    for (int i = 0; i < sl.size(); ++i) {  // empty slots are zero and never expire
      const HeldPosition& pos = sl.pos(i);
      const double g = std::abs(pos.delta_usd());
      for (int k = 0; k < 2; ++k) {
        if (pos.expiry_ns != 0 && pos.expiry_ns < t) {
          const std::int64_t end = std::max(pos.expiry_ns, c.last_ns);
          gross_time[k] += g * tau[k] * (decay_factor(t - end, hl[k]) - d[k]);
        } else {
          gross_time[k] += g * tau[k] * (1.0 - d[k]);
        }
      }
    }
  }

  DecayedSums& s = c.sums;
  DecayedSums& slow = a.slow->sums;
  scale_sums(s, d[0]);
  scale_sums(slow, d[1]);
  for (double& u : c.underlying_notional) u *= d[0];
  for (double& u : a.slow->underlying_notional) u *= d[1];
  if (sl.ov != nullptr) {
    for (int i = 0; i < sl.ov->underlying_count; ++i) {
      sl.ov->underlying_notional[i] *= d[0];
      sl.ov->slow_underlying_notional[i] *= d[1];
    }
  }
  s.gross_time += gross_time[0];
  s.time += tau[0] * (1.0 - d[0]);
  slow.gross_time += gross_time[1];
  slow.time += tau[1] * (1.0 - d[1]);

  if (expiring) {
    // Expired positions drop out; the scan makes the book exact again.
    for (int i = 0; i < sl.size(); ++i)
      if (sl.pos(i).expiry_ns != 0 && sl.pos(i).expiry_ns <= t) remove_position(sl, i);
    rebuild_book(sl);
    release_if_empty(a, sl.ov);
  }
  c.last_ns = t;
}

//! Adds x (fast clock) and xs (slow clock) to the decayed notional of underlying u: the core's
//! kTrackedUnderlyings first, then the overflow block's (taken when the core's are full). With
//! every slot taken, a tracked underlying whose share is negligible (kNegligibleShare) on both
//! clocks makes way; failing that the smallest (on the slow clock, which forgets last) makes way
//! for a larger newcomer and the concentration is no longer exact (counted).
void add_underlying(AccountRef a, UnderlyingId u, double x, double xs, AccountStats* stats) {
  AccountCore& c = *a.core;
  SlowSums& sl = *a.slow;
  for (int i = 0; i < c.underlying_count; ++i) {
    if (c.underlyings[i] == u) {
      c.underlying_notional[i] += x;
      sl.underlying_notional[i] += xs;
      return;
    }
  }
  if (c.underlying_count < kTrackedUnderlyings) {
    c.underlyings[c.underlying_count] = u;
    c.underlying_notional[c.underlying_count] = x;
    sl.underlying_notional[c.underlying_count] = xs;
    ++c.underlying_count;
    return;
  }
  OverflowBlock* ov = overflow_of(a);
  if (ov != nullptr) {
    for (int i = 0; i < ov->underlying_count; ++i) {
      if (ov->underlyings[i] == u) {
        ov->underlying_notional[i] += x;
        ov->slow_underlying_notional[i] += xs;
        return;
      }
    }
  }
  if (ov == nullptr) ov = take_overflow(a, stats);
  if (ov != nullptr && ov->underlying_count < kOverflowUnderlyings) {
    ov->underlyings[ov->underlying_count] = u;
    ov->underlying_notional[ov->underlying_count] = x;
    ov->slow_underlying_notional[ov->underlying_count] = xs;
    ++ov->underlying_count;
    return;
  }
  // Every slot taken: the smallest tracked underlying on the slow clock (core first, then the
  // block).
  struct Tracked {
    UnderlyingId* id;
    double* fast;
    double* slow;
  };
  Tracked min{&c.underlyings[0], &c.underlying_notional[0], &sl.underlying_notional[0]};
  for (int i = 1; i < kTrackedUnderlyings; ++i)
    if (sl.underlying_notional[i] < *min.slow)
      min = {&c.underlyings[i], &c.underlying_notional[i], &sl.underlying_notional[i]};
  if (ov != nullptr) {
    for (int i = 0; i < ov->underlying_count; ++i)
      if (ov->slow_underlying_notional[i] < *min.slow)
        min = {&ov->underlyings[i], &ov->underlying_notional[i], &ov->slow_underlying_notional[i]};
  }
  const bool negligible =
      *min.fast < kNegligibleShare * c.sums.notional && *min.slow < kNegligibleShare * sl.sums.notional;
  if (!negligible) ++stats->underlying_overflow;
  if (negligible || *min.slow < xs) {
    *min.id = u;
    *min.fast = x;
    *min.slow = xs;
  }
}

//! Stores position i and keeps the book: the caller has taken the position's old delta out of
//! the gross.
void put_position(const Slots& sl, int i, InstrumentId instrument, const HeldPosition& pos, bool has_greeks) {
  PositionBook& b = *sl.a.book;
  sl.pos(i) = pos;
  sl.id(i) = instrument;
  sl.set_greeks(i, has_greeks);
  b.gross_delta_usd += std::abs(pos.delta_usd());
  if (pos.expiry_ns != 0 && (b.next_expiry_ns == 0 || pos.expiry_ns < b.next_expiry_ns))
    b.next_expiry_ns = pos.expiry_ns;
}

//! Moves the position on f.instrument by the fill's signed quantity. `from_venue`: the venue
//! stated the position (set_position), so the untracked filter does not stop it from opening.
void change_position(AccountRef a, const Fill& f, std::int64_t t, AccountStats* stats, bool from_venue = false) {
  if (f.expiry_ns != 0 && f.expiry_ns <= t) return;  // trades at or after expiry open nothing
  AccountCore& c = *a.core;
  PositionBook& b = *a.book;
  const double dq = sign(f.side) * f.qty;
  if (!(dq != 0.0) || !std::isfinite(dq) || f.instrument == kNoInstrument) return;

  Slots sl{a, overflow_of(a)};
  const int idx = sl.find(f.instrument);
  if (idx < 0 && !from_venue && (b.untracked & instrument_bit(f.instrument)) != 0) {
    // Once found no room: this fill may reduce a position the book never saw, and must not open
    // an opposite one.
    ++stats->untracked_position_fills;
    return;
  }
  const HeldPosition* old = idx >= 0 ? &sl.pos(idx) : nullptr;
  const bool old_greeks = idx >= 0 && sl.greeks(idx);

  // Greeks per base unit at this fill; carried until the position's next fill.
  HeldPosition next;
  bool has_greeks = false;
  next.expiry_ns = f.expiry_ns;
  const double fwd = forward_of(f);
  if (f.is_option()) {
    const bool call = f.option_type != OptionType::kPut;
    const double years = static_cast<double>(f.expiry_ns - t) / kNsPerYear;
    if (std::isfinite(f.iv) && f.iv > 0 && std::isfinite(fwd)) {
      const black76::DeltaVega g = black76::delta_vega(call, fwd, f.strike, years, f.iv);
      next.delta_usd_per_unit = g.delta * fwd;
      next.vega_per_unit = g.vega;
      has_greeks = true;
    } else if (old_greeks) {
      // No vol on this fill: keep the greeks of the last fill that had one.
      next.delta_usd_per_unit = old->delta_usd_per_unit;
      next.vega_per_unit = old->vega_per_unit;
      has_greeks = true;
    } else if (std::isfinite(fwd)) {
      // Never had a vol: intrinsic step delta, no vega (black76 with sigma = 0).
      const black76::DeltaVega g = black76::delta_vega(call, fwd, f.strike, years, 0.0);
      next.delta_usd_per_unit = g.delta * fwd;
    } else if (old) {
      next.delta_usd_per_unit = old->delta_usd_per_unit;
    }
  } else if (std::isfinite(fwd)) {
    next.delta_usd_per_unit = fwd;  // linear or inverse alike: qty is in base units
  } else if (old) {
    next.delta_usd_per_unit = old->delta_usd_per_unit;
  }

  if (old) {
    const double q = old->qty + dq;
    // The running gross: the old delta out (never below 0 by rounding), the new one in.
    b.gross_delta_usd = std::max(b.gross_delta_usd - std::abs(old->delta_usd()), 0.0);
    // Flat (to rounding of the quantities): the position closes.
    if (std::abs(q) <= 1e-9 * std::max(std::abs(old->qty), std::abs(dq))) {
      remove_position(sl, idx);
      release_if_empty(a, sl.ov);
      return;
    }
    next.qty = q;
    put_position(sl, idx, f.instrument, next, has_greeks);
    return;
  }
  next.qty = dq;
  if (const int free = free_position_slot(a.instruments, f.instrument); free >= 0) {
    ++c.positions;
    put_position(sl, free, f.instrument, next, has_greeks);
    return;
  }
  // The record is full: the overflow block's first free slot.
  sl.ov = take_overflow(a, stats);
  if (sl.ov != nullptr) {
    for (int k = 0; k < kOverflowPositions; ++k) {
      if (sl.ov->instruments[k] == kNoInstrument) {
        ++sl.ov->positions_open;
        put_position(sl, sl.record_slots() + k, f.instrument, next, has_greeks);
        return;
      }
    }
  }
  // No room anywhere. Nothing is evicted (an evicted position's closing fill would open an
  // opposite one): the newcomer is not tracked, and its instrument stays untracked.
  ++stats->position_overflow;
  b.untracked |= instrument_bit(f.instrument);
  release_if_empty(a, sl.ov);
}

void update_position(AccountRef a, const Fill& f, std::int64_t t, AccountStats* stats, bool from_venue = false) {
  change_position(a, f, t, stats, from_venue);
  // A position whose delta overflowed (absurd sizes) must not leave the running sum at inf or NaN
  // after it is gone: the sum is taken again from the positions held.
  if (!std::isfinite(a.book->gross_delta_usd)) rebuild_book(Slots{a, overflow_of(a)});
}

bool add_markout(const FeatureParams& p, AccountRef a, const Fill& f, std::int64_t t, double notional,
                 AccountStats* stats) {
  if (!(f.price > 0) || !std::isfinite(f.price) || !(notional > 0)) return false;
  AccountCore& c = *a.core;
  const double sn = sign(f.side) * notional;
  if (c.markout_count > 0) {
    const std::int64_t start = c.newest_due_ns - p.markout_horizon_ns;
    if (c.newest_instrument == f.instrument && t >= start && t - start <= p.markout_coalesce_ns) {
      c.newest_a += sn / f.price;
      c.newest_b += sn;
      c.newest_w += notional;
      return false;
    }
  }
  if (c.markout_count >= p.markout_slots) {
    ++stats->markouts_skipped;
    return false;
  }
  if (c.markout_count > 0) {
    // The newest moves back to the ring's tail (ring capacity markout_slots − 1 ≥ count here).
    const int ring = p.markout_slots - 1;
    a.markouts[(c.markout_head + c.markout_count - 1) % ring] = c.newest();
  }
  c.newest_due_ns = t + p.markout_horizon_ns;
  c.newest_instrument = f.instrument;
  c.newest_a = sn / f.price;
  c.newest_b = sn;
  c.newest_w = notional;
  ++c.markout_count;
  return true;
}

//! Adds the fill (notional n, weight w as of the account's clock) to one clock's sums.
void add_to_sums(DecayedSums& s, const Fill& f, std::int64_t t, double n, double w) {
  const double wn = w * n;
  s.fills += w;
  s.notional += wn;
  if (f.liquidity == Liquidity::kMaker) s.maker += wn;
  (f.side == Side::kBuy ? s.buy : s.sell) += wn;
  switch (f.kind) {
    case InstrumentKind::kOption: s.option += wn; break;
    case InstrumentKind::kFuture: s.future += wn; break;
    case InstrumentKind::kPerpetual: s.perp += wn; break;
    case InstrumentKind::kSpot: break;
  }
  if (f.expiry_ns != 0 && (f.kind == InstrumentKind::kFuture || f.kind == InstrumentKind::kOption)) {
    const double days = static_cast<double>(std::max<std::int64_t>(f.expiry_ns - t, 0)) / kNsPerDay;
    s.tenor_num += wn * days;
    s.tenor_den += wn;
  }
  if (f.is_option()) {
    const double fwd = forward_of(f);
    if (f.strike > 0 && std::isfinite(fwd) && fwd > 0) {
      s.moneyness_num += wn * std::abs(std::log(f.strike / fwd));
      s.moneyness_den += wn;
    }
  }
}

}  // namespace

void scale_sums(DecayedSums& s, double factor) {
  double* fields[] = {&s.fills,       &s.notional,    &s.maker,      &s.buy,       &s.sell,          &s.option,
                      &s.future,      &s.perp,        &s.tenor_num,  &s.tenor_den, &s.moneyness_num, &s.moneyness_den,
                      &s.markout_num, &s.markout_den, &s.gross_time, &s.time};
  static_assert(sizeof(fields) / sizeof(fields[0]) * sizeof(double) == sizeof(DecayedSums), "every sum is scaled");
  for (double* x : fields) *x *= factor;
}

double decay_factor(std::int64_t dt_ns, std::int64_t half_life_ns) {
  if (dt_ns <= 0) return 1.0;
  return std::exp2(-static_cast<double>(dt_ns) / static_cast<double>(half_life_ns));
}

double per_hour(double decayed_sum, std::int64_t half_life_ns) {
  return decayed_sum * kLn2 * kNsPerHour / static_cast<double>(half_life_ns);
}

bool apply_fill(const FeatureParams& p, AccountRef a, const Fill& f, AccountStats* stats, bool move_position) {
  AccountCore& c = *a.core;
  const std::int64_t t = f.recv_ns;
  double w = 1.0;   // weight of this fill as of last_ns, fast clock
  double ws = 1.0;  // and slow clock
  if (c.fills == 0) {
    c.last_ns = t;
  } else if (t > c.last_ns) {
    advance(p, a, t);
  } else if (t < c.last_ns) {
    // Late fill (out of order): it counts, decayed to the account's clock, which never goes back.
    w = decay_factor(c.last_ns - t, p.half_life_ns);
    ws = decay_factor(c.last_ns - t, p.slow_half_life_ns);
    ++stats->late_fills;
  }

  const double n = std::isfinite(f.notional_usd) && f.notional_usd > 0 ? f.notional_usd : 0.0;
  add_to_sums(c.sums, f, t, n, w);
  add_to_sums(a.slow->sums, f, t, n, ws);
  if (w * n > 0 || ws * n > 0) add_underlying(a, f.underlying, w * n, ws * n, stats);
  ++c.fills;
  c.notional_usd += n;

  if (move_position) update_position(a, f, t, stats);
  return add_markout(p, a, f, t, n, stats);
}

double position_qty(AccountRef a, InstrumentId instrument, double* usd_per_unit) {
  const Slots sl{a, overflow_of(a)};
  const int idx = instrument == kNoInstrument ? -1 : sl.find(instrument);
  if (idx < 0) return 0.0;
  if (usd_per_unit != nullptr) *usd_per_unit = sl.pos(idx).delta_usd_per_unit;
  return sl.pos(idx).qty;
}

void set_position(const FeatureParams& p, AccountRef a, const Fill& rec, AccountStats* stats) {
  AccountCore& c = *a.core;
  const std::int64_t t = rec.recv_ns;
  // Time passes to the record (the gross position is integrated up to it with what was held);
  // the account's clock never goes back, and a first record starts it.
  if (c.fills == 0 && c.last_ns == 0)
    c.last_ns = t;
  else if (t > c.last_ns)
    advance(p, a, t);
  if (!std::isfinite(rec.qty) || rec.instrument == kNoInstrument) return;
  const double dq = rec.qty - position_qty(a, rec.instrument, nullptr);
  if (dq == 0.0) return;
  // The difference as a fill of the account: the same greeks, slots and overflow as a trade,
  // except that the venue's word opens a position the untracked filter would have refused.
  Fill move = rec;
  move.record = RecordKind::kFill;
  move.side = dq > 0 ? Side::kBuy : Side::kSell;
  move.qty = std::abs(dq);
  move.iv = kNaN;  // a position carries no vol: an option keeps the greeks of its last fill
  if (!(std::isfinite(rec.underlying_price) && rec.underlying_price > 0) && rec.notional_usd > 0 && rec.qty != 0.0)
    move.underlying_price = rec.notional_usd / std::abs(rec.qty);  // the position's USD per unit
  move.notional_usd = 0.0;
  update_position(a, move, std::max(t, c.last_ns), stats, /*from_venue=*/true);
}

int resolve_markouts(const FeatureParams& p, AccountRef a, std::int64_t now_ns, const PriceTape& tape,
                     AccountStats* stats) {
  AccountCore& c = *a.core;
  int resolved = 0;
  while (c.markout_count > 0) {
    // Oldest first: the ring's head while the ring holds any, then the newest in the core.
    const bool in_ring = c.markout_count > 1;
    const PendingMarkout m = in_ring ? a.markouts[c.markout_head] : c.newest();
    if (m.due_ns > now_ns) break;
    if (auto px = tape.instrument(m.instrument)) {
      // Weighted as of the fill: decayed from the group's first fill to the account's clock.
      const std::int64_t start = m.due_ns - p.markout_horizon_ns;
      const double w = decay_factor(c.last_ns - start, p.half_life_ns);
      const double ws = decay_factor(c.last_ns - start, p.slow_half_life_ns);
      const double m_num = px->price * m.a - m.b;
      c.sums.markout_num += w * m_num;
      c.sums.markout_den += w * m.w;
      a.slow->sums.markout_num += ws * m_num;
      a.slow->sums.markout_den += ws * m.w;
      ++stats->markouts_resolved;
      if (px->set_by == c.account)
        ++stats->markouts_priced_own_fill;
      else if (px->set_by == kMarketData)
        ++stats->markouts_priced_market_data;
      else
        ++stats->markouts_priced_other_fill;
      ++resolved;
    } else {
      ++stats->markouts_unpriced;
    }
    if (in_ring) c.markout_head = static_cast<std::uint8_t>((c.markout_head + 1) % (p.markout_slots - 1));
    --c.markout_count;
  }
  return resolved;
}

Exposure exposure_of(std::span<const HeldPosition> positions) {
  Exposure e;
  for (const HeldPosition& pos : positions) {
    const double d = pos.delta_usd();
    const double v = pos.vega_usd();
    e.net_delta_usd += d;
    e.gross_delta_usd += std::abs(d);
    e.net_vega += v;
    e.gross_vega += std::abs(v);
  }
  return e;
}

namespace {

//! The 16 features from one clock's sums (half-life hl), the tracked underlyings' notionals on
//! that clock (core's, then the block's) and the open positions' aggregates.
FeatureVector features_of(const FeatureParams& p, std::int64_t hl, const DecayedSums& s,
                          std::span<const double> core_underlyings, std::span<const double> block_underlyings,
                          const Exposure& e) {
  const double fills_h = per_hour(s.fills, hl);
  const double notional_h = per_hour(s.notional, hl);

  FeatureVector v{};
  v[index(Feature::kTradeRate)] = std::log1p(fills_h);
  v[index(Feature::kNotionalRate)] = std::log1p(notional_h);
  v[index(Feature::kTicketSize)] = s.fills > 0 ? std::log1p(s.notional / s.fills) : 0.0;
  v[index(Feature::kMakerRatio)] = ratio01(s.maker, s.notional);
  v[index(Feature::kDirectionImbalance)] = ratio01(std::abs(s.buy - s.sell), s.notional);
  // No open delta at all is no directional exposure: fully neutral.
  v[index(Feature::kDeltaNeutrality)] =
      e.gross_delta_usd > 0 ? std::clamp(1.0 - std::abs(e.net_delta_usd) / e.gross_delta_usd, 0.0, 1.0) : 1.0;
  v[index(Feature::kVegaBias)] = e.gross_vega > 0 ? std::clamp(e.net_vega / e.gross_vega, -1.0, 1.0) : 0.0;
  v[index(Feature::kOptionShare)] = ratio01(s.option, s.notional);
  v[index(Feature::kFutureShare)] = ratio01(s.future, s.notional);
  v[index(Feature::kPerpShare)] = ratio01(s.perp, s.notional);
  v[index(Feature::kTenor)] = s.tenor_den > 0 ? std::log1p(s.tenor_num / s.tenor_den) : 0.0;
  v[index(Feature::kMoneyness)] = s.moneyness_den > 0 ? s.moneyness_num / s.moneyness_den : 0.0;
  double hhi = 0.0;
  if (s.notional > 0) {
    for (double n : core_underlyings) {
      const double share = std::min(n / s.notional, 1.0);
      hhi += share * share;
    }
    for (double n : block_underlyings) {
      const double share = std::min(n / s.notional, 1.0);
      hhi += share * share;
    }
  }
  v[index(Feature::kConcentration)] = hhi;
  const double mean_gross = s.time > 0 ? s.gross_time / s.time : e.gross_delta_usd;
  v[index(Feature::kTurnover)] = std::log1p(notional_h / std::max(mean_gross, p.min_mean_gross_usd));
  {
    const double mk = s.markout_den > 0 ? 1e4 * s.markout_num / s.markout_den : 0.0;
    v[index(Feature::kMarkoutBps)] = std::copysign(std::log1p(std::abs(mk)), mk);
  }
  v[index(Feature::kExposure)] = std::log1p(e.gross_delta_usd);
  return v;
}

Exposure exposure_with(std::span<const HeldPosition> positions, const OverflowBlock* overflow) {
  Exposure e = exposure_of(positions);  // every slot: empty ones are zero
  if (overflow != nullptr) {
    const Exposure more = exposure_of(overflow->positions);
    e.net_delta_usd += more.net_delta_usd;
    e.gross_delta_usd += more.gross_delta_usd;
    e.net_vega += more.net_vega;
    e.gross_vega += more.gross_vega;
  }
  return e;
}

FeatureVector features_on(const FeatureParams& p, Clock clock, const AccountCore& c, const SlowSums& slow,
                          const OverflowBlock* overflow, const Exposure& e) {
  const std::size_t nc = c.underlying_count;
  const std::size_t nb = overflow != nullptr ? overflow->underlying_count : 0;
  if (clock == Clock::kFast) {
    return features_of(
        p, p.half_life_ns, c.sums, std::span<const double>(c.underlying_notional, nc),
        overflow != nullptr ? std::span<const double>(overflow->underlying_notional, nb) : std::span<const double>(),
        e);
  }
  return features_of(
      p, p.slow_half_life_ns, slow.sums, std::span<const double>(slow.underlying_notional, nc),
      overflow != nullptr ? std::span<const double>(overflow->slow_underlying_notional, nb) : std::span<const double>(),
      e);
}

}  // namespace

FeatureVector ClockFeatures::model() const {
  FeatureVector v{};
  for (int i = 0; i < kFeatureCount; ++i) {
    const double w = fast_weight[static_cast<std::size_t>(i)];
    v[static_cast<std::size_t>(i)] =
        w == 1.0   ? fast[static_cast<std::size_t>(i)]
        : w == 0.0 ? slow[static_cast<std::size_t>(i)]
                   : w * fast[static_cast<std::size_t>(i)] + (1.0 - w) * slow[static_cast<std::size_t>(i)];
  }
  return v;
}

FeatureVector compute_features(const FeatureParams& p, Clock clock, const AccountCore& c, const SlowSums& slow,
                               std::span<const HeldPosition> positions, const OverflowBlock* overflow) {
  return features_on(p, clock, c, slow, overflow, exposure_with(positions, overflow));
}

ClockFeatures compute_clock_features(const FeatureParams& p, const AccountCore& c, const SlowSums& slow,
                                     std::span<const HeldPosition> positions, const OverflowBlock* overflow) {
  const Exposure e = exposure_with(positions, overflow);
  ClockFeatures f;
  f.fast = features_on(p, Clock::kFast, c, slow, overflow, e);
  f.slow = features_on(p, Clock::kSlow, c, slow, overflow, e);
  f.fast_weight = p.fast_weight;
  return f;
}

FeatureVector compute_model_features(const FeatureParams& p, const AccountCore& c, const SlowSums& slow,
                                     std::span<const HeldPosition> positions, const OverflowBlock* overflow) {
  if (p.model_is_fast()) return compute_features(p, Clock::kFast, c, slow, positions, overflow);
  return compute_clock_features(p, c, slow, positions, overflow).model();
}

ClockFeatures compute_features_at(const FeatureParams& p, const AccountCore& core, const SlowSums& slow,
                                  const PositionBook& book, std::span<const InstrumentId> instruments,
                                  std::span<const HeldPosition> positions, std::int64_t now_ns,
                                  const OverflowBlock* overflow) {
  if (core.fills == 0 || now_ns <= core.last_ns) return compute_clock_features(p, core, slow, positions, overflow);
  AccountCore c = core;
  SlowSums s = slow;
  PositionBook b = book;
  std::array<HeldPosition, kMaxPositionsLimit> held;
  std::array<InstrumentId, kMaxPositionsLimit> ids;
  const std::size_t n = std::min({positions.size(), instruments.size(), held.size()});
  std::copy_n(positions.begin(), n, held.begin());
  std::copy_n(instruments.begin(), n, ids.begin());
  // The block on a pool of its own, so that advance() decays and expires a copy.
  OverflowPool pool(overflow != nullptr ? 1 : 0);
  b.overflow = 0;
  if (overflow != nullptr) {
    b.overflow = pool.allocate(overflow->account);
    pool.at(b.overflow) = *overflow;
  }
  advance(p,
          AccountRef{
              &c, &b, std::span<InstrumentId>(ids.data(), n), std::span<HeldPosition>(held.data(), n), {}, &s, &pool},
          now_ns);
  return compute_clock_features(p, c, s, std::span<const HeldPosition>(held.data(), n),
                                b.overflow != 0 ? &pool.at(b.overflow) : nullptr);
}

std::uint32_t OverflowPool::allocate(AccountId account) {
  std::uint32_t h = 0;
  if (!free_.empty()) {
    h = free_.back();
    free_.pop_back();
  } else if (blocks_.size() < max_) {
    blocks_.emplace_back();
    h = static_cast<std::uint32_t>(blocks_.size());
  } else {
    return 0;
  }
  OverflowBlock& b = at(h);
  b = OverflowBlock{};
  for (InstrumentId& id : b.instruments) id = kNoInstrument;
  b.account = account;
  return h;
}

void OverflowPool::release(std::uint32_t handle) {
  at(handle) = OverflowBlock{};
  free_.push_back(handle);
}

}  // namespace segmentd
