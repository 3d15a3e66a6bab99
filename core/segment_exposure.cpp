#include "core/segment_exposure.h"

#include <algorithm>
#include <cmath>

namespace segmentd {
namespace {

//! Largest gross first; equal ones by account id, so that merges in any order agree.
bool larger(const AccountExposure& a, const AccountExposure& b) {
  if (a.gross_delta_usd != b.gross_delta_usd) return a.gross_delta_usd > b.gross_delta_usd;
  return a.account < b.account;
}

}  // namespace

double SegmentExposureSums::top_share(std::size_t n) const {
  if (!(gross_delta_usd > 0)) return 0.0;
  double sum = 0.0;
  for (std::size_t i = 0; i < n && i < top.size(); ++i) sum += top[i].gross_delta_usd;
  return std::min(1.0, sum / gross_delta_usd);
}

void ExposureScan::keep_top(std::vector<AccountExposure>& top, const AccountExposure& a) {
  if (top.size() == kTopAccounts && !larger(a, top.back())) return;
  top.insert(std::upper_bound(top.begin(), top.end(), a, larger), a);
  if (top.size() > kTopAccounts) top.pop_back();
}

void ExposureScan::add_account(SegmentId segment, AccountId account, std::span<const Position> positions) {
  ++scanned_;
  AccountExposure a{account, 0.0, 0.0};
  SegmentExposureSums* s = nullptr;
  for (const Position& p : positions) {
    if (p.qty == 0.0) continue;
    if (as_of_ns_ != 0 && p.expiry_ns != 0 && p.expiry_ns <= as_of_ns_) continue;
    if (s == nullptr) s = &segments_[segment];
    const double delta = p.delta_usd();
    const double vega = p.vega_usd();
    InstrumentExposure& e = s->by_instrument[p.instrument];
    e.net_delta_usd += delta;
    (delta >= 0 ? e.long_delta_usd : e.short_delta_usd) += delta;
    e.net_vega_usd += vega;
    (p.qty > 0 ? e.long_qty : e.short_qty) += std::abs(p.qty);
    ++e.positions;
    a.gross_delta_usd += std::abs(delta);
    a.net_delta_usd += delta;
    s->net_vega_usd += vega;
    ++s->positions;
  }
  if (s == nullptr) return;
  ++s->accounts;
  s->gross_delta_usd += a.gross_delta_usd;
  s->net_delta_usd += a.net_delta_usd;
  keep_top(s->top, a);
}

void ExposureScan::merge(const ExposureScan& other) {
  as_of_ns_ = std::max(as_of_ns_, other.as_of_ns_);
  scanned_ += other.scanned_;
  for (const auto& [segment, o] : other.segments_) {
    SegmentExposureSums& s = segments_[segment];
    s.accounts += o.accounts;
    s.gross_delta_usd += o.gross_delta_usd;
    s.net_delta_usd += o.net_delta_usd;
    s.net_vega_usd += o.net_vega_usd;
    s.positions += o.positions;
    for (const auto& [instrument, e] : o.by_instrument) {
      InstrumentExposure& mine = s.by_instrument[instrument];
      mine.net_delta_usd += e.net_delta_usd;
      mine.long_delta_usd += e.long_delta_usd;
      mine.short_delta_usd += e.short_delta_usd;
      mine.net_vega_usd += e.net_vega_usd;
      mine.long_qty += e.long_qty;
      mine.short_qty += e.short_qty;
      mine.positions += e.positions;
    }
    for (const AccountExposure& a : o.top) keep_top(s.top, a);
  }
}

}  // namespace segmentd
