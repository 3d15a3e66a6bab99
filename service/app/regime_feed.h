#pragma once
// The market-stress regime of the running service (core/market_regime.h; issue 22, item 3): the
// sources' market data (each PriceRecord's index price, in USD) feeds one RegimeMonitor per
// pipeline; GET /v1/risk/regime, the segmentd_market_regime* metrics and a log line per change
// read it.
//
// Threading: observe() from the sources' threads (TapeSink::push_price), the reads from the
// admin thread; one mutex. Market data is far rarer than fills, and fills never take it.

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/market_regime.h"

namespace segmentd {

class RegimeFeed {
 public:
  static constexpr std::size_t kRecentEvents = 256;
  //! `name_of` names an underlying for the log line (any thread).
  RegimeFeed(RegimeParams params, std::function<std::string(UnderlyingId)> name_of);

  void observe(UnderlyingId underlying, std::int64_t ts_ns, double usd);

  //! Called for every change, in order, with the market regime after it (the most stressed of the
  //! underlyings'), under the feed's mutex: the publisher's regime_change messages (set before the
  //! sources start; it must not call back into the feed).
  using OnChange = std::function<void(const RegimeEvent& e, Regime market)>;
  void set_on_change(OnChange on_change) { on_change_ = std::move(on_change); }

  struct View {
    Regime market = Regime::kCalm;
    std::vector<UnderlyingRegime> underlyings;
    std::vector<RegimeEvent> recent;  //!< oldest first, at most kRecentEvents
    std::uint64_t switches = 0;
    std::uint64_t observed = 0;  //!< index prices observed
  };
  View view() const;

 private:
  mutable std::mutex mu_;
  RegimeMonitor monitor_;                             // guarded by mu_
  std::deque<RegimeEvent> recent_;                    // guarded by mu_
  std::uint64_t observed_ = 0;                        // guarded by mu_
  std::unordered_map<UnderlyingId, Regime> current_;  // guarded by mu_: each underlying's regime
  OnChange on_change_;
  std::function<std::string(UnderlyingId)> name_of_;
};

}  // namespace segmentd
