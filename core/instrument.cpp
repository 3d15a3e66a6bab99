#include "core/instrument.h"

#include <cstdint>
#include <limits>

namespace segmentd {
namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;

}  // namespace

//! Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. Counts in 400-year eras
//! that start on March 1st, so the leap day is the last day of its "year" and month lengths from
//! March on follow the fixed pattern 31,30,31,30,31 (153 days per 5 months).
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) {
  if (m <= 2) y -= 1;  // January and February belong to the previous March-based year
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;                        // [0, 399]
  const std::int64_t march_month = m > 2 ? m - 3 : m + 9;                // [0, 11], 0 = March
  const std::int64_t day_of_year = (153 * march_month + 2) / 5 + d - 1;  // [0, 365]
  const std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  constexpr std::int64_t kEraOf1970 = 719468;  // days from 0000-03-01 to 1970-01-01
  return era * 146097 + day_of_era - kEraOf1970;
}

std::int64_t expiry_at_0800_utc(int year, int month, int day) {
  constexpr std::int64_t kSecondsPerDay = 86'400;
  constexpr std::int64_t kEightHours = std::int64_t{8} * 3'600;
  const std::int64_t seconds = days_from_civil(year, month, day) * kSecondsPerDay + kEightHours;
  // Saturate outside the int64 nanosecond range (years ~1678..2262) instead of overflowing.
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / kNsPerSecond;
  if (seconds > kMaxSeconds) return std::numeric_limits<std::int64_t>::max();
  if (seconds < -kMaxSeconds) return std::numeric_limits<std::int64_t>::min();
  return seconds * kNsPerSecond;
}

}  // namespace segmentd
