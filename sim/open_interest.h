#pragma once
// The simulated venue's open interest per instrument, from its fills as they happen.
//
// Every simulated account trades with the venue's other users, who hold the other side of the
// accounts' net: the open contracts (each has a long and a short side) are the longs of all
// users, max(Σ the accounts' longs, Σ their shorts). Kept incrementally, one account position
// updated per fill. The venue servers of tools/fillsim state the same quantity in their tickers.
//
// Not thread-safe: one per source thread.

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace fillsim {

class OpenInterestTracker {
 public:
  //! A fill of `account` on `instrument`, signed (buy > 0), base units. Returns the
  //! instrument's open interest after it.
  double on_fill(std::uint32_t account, std::uint32_t instrument, double signed_qty);
  //! The instrument's open interest now (0 before any fill), base units.
  double open_interest(std::uint32_t instrument) const;

 private:
  std::unordered_map<std::uint64_t, double> positions_;  //!< (account << 32 | instrument) → signed qty
  std::vector<double> longs_, shorts_;                   //!< per instrument: Σ longs, Σ |shorts|
};

}  // namespace fillsim
