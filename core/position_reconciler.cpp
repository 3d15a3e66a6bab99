#include "core/position_reconciler.h"

#include <algorithm>
#include <cmath>

namespace segmentd {

namespace {

double signed_qty(const Fill& f) { return f.side == Side::kBuy ? f.qty : -f.qty; }

}  // namespace

bool PositionReconciler::on_fill_slow(const Fill& f) {
  const std::int64_t t = time_of(f);
  const double dq = signed_qty(f);
  const Key key = key_of(f.account, f.instrument);
  if (const auto it = entries_.find(key); it != entries_.end()) {
    Entry& e = it->second;
    if (t <= e.as_of) {
      e.shadow_qty += dq;
      ++stats_.fills_covered;
      return false;
    }
    // A fill after the venue's moment: that moment's fills have all arrived.
    if (e.pending) compare(e);
    if (e.venue_qty == 0.0) entries_.erase(it);  // flat and compared: the book no longer needs it
    return true;
  }
  if (f.kind == InstrumentKind::kSpot) return true;  // no snapshot speaks for spot holdings
  const auto snap = snapshots_.find(snapshot_key(f.account, f.venue));
  if (snap == snapshots_.end() || t > snap->second) return true;
  // The snapshot said flat (it did not list the instrument) as of a time after this fill.
  Entry e;
  e.as_of = snap->second;
  e.shadow_qty = dq;
  e.usd_per_unit = f.qty > 0 && f.notional_usd > 0 ? f.notional_usd / f.qty : 0.0;
  e.pending = true;
  entries_.emplace(key, e);
  pending_.emplace_back(key, e.as_of);
  ++stats_.fills_covered;
  return false;
}

bool PositionReconciler::on_record(const Fill& rec, double book_qty, double usd_per_unit) {
  const std::int64_t t = time_of(rec);
  const Key key = key_of(rec.account, rec.instrument);
  Entry& e = entries_[key];
  if (e.as_of > t) {
    ++stats_.stale_records;
    return false;
  }
  if (e.pending) compare(e);
  e.as_of = t;
  e.venue_qty = rec.qty;
  e.shadow_qty = book_qty;
  // USD per base unit for the disagreement's size: the record's underlying price, else the
  // position's own, else the record's notional per unit.
  double usd = std::isfinite(rec.underlying_price) && rec.underlying_price > 0 ? rec.underlying_price : kNaN;
  if (!std::isfinite(usd) && std::isfinite(usd_per_unit) && usd_per_unit > 0) usd = usd_per_unit;
  if (!std::isfinite(usd) && rec.notional_usd > 0 && rec.qty != 0.0) usd = rec.notional_usd / std::abs(rec.qty);
  e.usd_per_unit = std::isfinite(usd) ? usd : 0.0;
  e.pending = true;
  pending_.emplace_back(key, t);
  ++stats_.records;
  return true;
}

void PositionReconciler::compare(Entry& e) {
  e.pending = false;
  ++stats_.checked;
  const double diff = std::abs(e.shadow_qty - e.venue_qty);
  // Quantities that went through a different sequence of additions differ in the last bits.
  const double tolerance = 1e-9 * std::max({std::abs(e.shadow_qty), std::abs(e.venue_qty), 1e-12});
  if (!(diff > tolerance)) return;
  ++stats_.disagreements;
  stats_.disagreement_usd += diff * e.usd_per_unit;
}

void PositionReconciler::settle(std::int64_t now_ns) {
  while (!pending_.empty() && pending_.front().second <= now_ns - kSettleNs) {
    const auto [key, as_of] = pending_.front();
    pending_.pop_front();
    const auto it = entries_.find(key);
    // A later record of the same instrument queued its own turn (and compared this one).
    if (it == entries_.end() || it->second.as_of != as_of || !it->second.pending) continue;
    compare(it->second);
    if (it->second.venue_qty == 0.0 && it->second.shadow_qty == 0.0) entries_.erase(it);
  }
}

}  // namespace segmentd
