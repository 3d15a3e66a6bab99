#include "core/position_reconciler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace segmentd {

double PositionReconciler::fill_size(const Fill& f, bool inverse) {
  const double q = f.side == Side::kBuy ? f.qty : -f.qty;
  return inverse ? q * f.price : q;
}

double PositionReconciler::record_size(const Fill& rec, double qty, bool inverse) {
  if (!inverse) return qty;
  const double px = rec.mark_price > 0 ? rec.mark_price : rec.price > 0 ? rec.price : rec.underlying_price;
  return std::isfinite(px) && px > 0 ? qty * px : qty;
}

bool PositionReconciler::on_fill_slow(const Fill& f) {
  const std::int64_t t = time_of(f);
  const Key key = key_of(f.account, f.instrument);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (f.kind == InstrumentKind::kSpot) return true;  // no snapshot speaks for spot holdings
    const auto snap = snapshots_.find(snapshot_key(f.account, f.venue));
    if (snap == snapshots_.end() || t > snap->second) return true;
    // The snapshot said flat (it did not list the instrument) as of a time after this fill.
    Entry e;
    e.inverse = inverse_of_ && inverse_of_(f.instrument);
    e.as_of = snap->second;
    e.usd_per_size = e.inverse ? 1.0 : f.qty > 0 && f.notional_usd > 0 ? f.notional_usd / f.qty : 0.0;
    it = entries_.emplace(key, e).first;
  }
  Entry& e = it->second;
  const double size = fill_size(f, e.inverse);
  e.scale = std::max(e.scale, std::abs(size));
  // A record that knew no USD price for its unit (an option row with no index): the fill's.
  if (!(e.usd_per_size > 0) && f.qty > 0 && f.notional_usd > 0) e.usd_per_size = f.notional_usd / f.qty;
  if (t > e.as_of) {
    e.after += size;
    return true;
  }
  // Inside the venue's number already: it moves nothing, and explains its part of a correction.
  e.unexplained += size;
  schedule(key, e, f.recv_ns);
  ++stats_.fills_covered;
  return false;
}

bool PositionReconciler::on_record(const Fill& rec, double book_qty, double usd_per_unit, bool inverse) {
  const std::int64_t t = time_of(rec);
  const Key key = key_of(rec.account, rec.instrument);
  const auto [it, fresh] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (!fresh && e.as_of > t) {
    ++stats_.stale_records;
    return false;
  }
  // The fills' view of this moment: the venue's last word and the fills since (the book, the
  // first time, or when the instrument's unit changed).
  const bool first = fresh || e.inverse != inverse;
  const double fills_say = first ? record_size(rec, book_qty, inverse) : e.venue + e.after;
  // An inverse position's first USD size from the book is rough: its base units were bought at
  // other prices than the mark they are converted at. 1 % of it is not counted against the fills.
  if (first && inverse) e.slack += kInverseFirstSlack * std::abs(fills_say);
  e.inverse = inverse;
  e.as_of = t;
  e.venue = record_size(rec, rec.qty, inverse);
  e.after = 0.0;
  // A correction counts against the fills: unexplained is what the venue has beyond them (late
  // covered fills add theirs back).
  e.unexplained -= e.venue - fills_say;
  e.scale = std::max({e.scale, std::abs(e.venue), std::abs(fills_say)});
  // USD per unit of size for the disagreement's size: 1 for USD sizes; else the record's
  // underlying price, else the position's own, else the record's notional per unit.
  double usd = std::isfinite(rec.underlying_price) && rec.underlying_price > 0 ? rec.underlying_price : kNaN;
  if (!std::isfinite(usd) && std::isfinite(usd_per_unit) && usd_per_unit > 0) usd = usd_per_unit;
  if (!std::isfinite(usd) && rec.notional_usd > 0 && rec.qty != 0.0) usd = rec.notional_usd / std::abs(rec.qty);
  if (inverse)
    e.usd_per_size = 1.0;
  else if (std::isfinite(usd))
    e.usd_per_size = usd;
  schedule(key, e, rec.recv_ns);
  ++stats_.records;
  return true;
}

void PositionReconciler::schedule(Key key, Entry& e, std::int64_t event_ns) {
  e.settle_ns = std::max(e.settle_ns, event_ns);
  if (e.unsettled) return;  // already queued: settle() looks at settle_ns when it comes
  e.unsettled = true;
  pending_.emplace_back(key, e.settle_ns);
}

void PositionReconciler::compare(Entry& e) {
  e.unsettled = false;
  ++stats_.checked;
  const double u = std::abs(e.unexplained);
  const double slack = e.slack;
  e.slack = 0.0;
  e.unexplained = 0.0;
  // Sizes that went through a different sequence of additions differ in the last bits.
  if (!(u > 1e-9 * std::max(e.scale, 1e-12) + slack)) return;
  ++stats_.disagreements;
  stats_.disagreement_usd += u * e.usd_per_size;
}

void PositionReconciler::settle(std::int64_t now_ns) {
  const std::int64_t due = now_ns == std::numeric_limits<std::int64_t>::max() ? now_ns : now_ns - kSettleNs;
  while (!pending_.empty() && pending_.front().second <= due) {
    const Key key = pending_.front().first;
    pending_.pop_front();
    const auto it = entries_.find(key);
    if (it == entries_.end() || !it->second.unsettled) continue;
    Entry& e = it->second;
    if (e.settle_ns > due) {  // touched again since it was queued: its turn comes later
      pending_.emplace_back(key, e.settle_ns);
      continue;
    }
    compare(e);
    // Flat by the venue, nothing since: the book no longer needs it.
    if (e.venue == 0.0 && e.after == 0.0) entries_.erase(it);
  }
}

}  // namespace segmentd
