#include "service/app/regime_feed.h"

#include <algorithm>

#include "service/base/log.h"

namespace segmentd {

RegimeFeed::RegimeFeed(RegimeParams params, std::function<std::string(UnderlyingId)> name_of)
    : monitor_(params), name_of_(std::move(name_of)) {}

void RegimeFeed::observe(UnderlyingId underlying, std::int64_t ts_ns, double usd) {
  std::vector<RegimeEvent> fresh;
  {
    const std::lock_guard lock(mu_);
    ++observed_;
    monitor_.observe(underlying, ts_ns, usd);
    if (monitor_.events().empty()) return;
    fresh.swap(monitor_.events());
    for (const RegimeEvent& e : fresh) {
      recent_.push_back(e);
      if (recent_.size() > kRecentEvents) recent_.pop_front();
      current_[e.underlying] = e.to;
      Regime market = Regime::kCalm;
      for (const auto& [u, r] : current_) market = std::max(market, r);
      if (on_change_) on_change_(e, market);
    }
  }
  for (const RegimeEvent& e : fresh)
    SEGMENTD_LOG_WARN("regime", "market regime changed", {"underlying", name_of_ ? name_of_(e.underlying) : ""},
                      {"from", to_string(e.from)}, {"to", to_string(e.to)}, {"reason", e.reason},
                      {"event_time_ns", e.ts_ns});
}

RegimeFeed::View RegimeFeed::view() const {
  const std::lock_guard lock(mu_);
  View v;
  v.market = monitor_.market();
  v.underlyings = monitor_.states();
  v.recent.assign(recent_.begin(), recent_.end());
  v.switches = monitor_.switches();
  v.observed = observed_;
  return v;
}

}  // namespace segmentd
