#pragma once
// Calendar arithmetic for listed expiries: civil dates from Unix days and back, the expiry cycles a
// derivatives venue lists (daily, weekly, monthly, quarterly; all at 08:00 UTC), and Deribit's
// date code in symbols ("27DEC24", day without a leading zero).

#include <cstdint>
#include <string>

namespace fillsim {

inline constexpr std::int64_t kNsPerSecond = 1'000'000'000;
inline constexpr std::int64_t kNsPerDay = 86'400 * kNsPerSecond;
inline constexpr double kNsPerYear = 365.25 * 86'400.0 * 1e9;

struct CivilDate {
  int year = 1970;
  int month = 1;  //!< 1..12
  int day = 1;    //!< 1..31
};

std::int64_t days_from_civil(int year, int month, int day);
CivilDate civil_from_days(std::int64_t days);
//! 0 = Sunday ... 6 = Saturday.
int weekday(std::int64_t days);

//! The expiry cycles an account can trade; the expiry of each moves forward as time passes.
enum class Tenor : std::uint8_t { kDaily = 0, kWeekly, kBiweekly, kMonthly, kQuarterly, kNextQuarter };
inline constexpr int kTenorCount = 6;

//! The listed expiry of a tenor as seen at `ts_ns` (ns since the epoch, 08:00 UTC instants).
//! Daily: next 08:00 at least 1 h away; weekly: next Friday at least 1 day away; biweekly: the
//! Friday after; monthly: last Friday of a month at least 14 days away; quarterly: last Friday of
//! Mar/Jun/Sep/Dec at least 30 days away; next quarter: the quarterly after that.
std::int64_t listed_expiry(Tenor tenor, std::int64_t ts_ns);

//! Caches listed_expiry per tenor; valid while the event time moves forward. Not thread-safe.
class ExpiryCalendar {
 public:
  std::int64_t expiry(Tenor tenor, std::int64_t ts_ns);

 private:
  std::int64_t expiry_[kTenorCount] = {};
  std::int64_t valid_from_[kTenorCount] = {};
  std::int64_t valid_until_[kTenorCount] = {};
};

//! Appends Deribit's date code of an 08:00 UTC expiry, e.g. "27DEC24" or "5JAN25".
void append_date_code(std::string& out, std::int64_t expiry_ns);

}  // namespace fillsim
