#include "sim/calendar.h"

#include <charconv>

namespace fillsim {
namespace {

constexpr std::int64_t kNsPerHour = 3600 * kNsPerSecond;
constexpr std::int64_t k0800 = 8 * kNsPerHour;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

std::int64_t at_0800(std::int64_t days) { return days * kNsPerDay + k0800; }

//! Days of the last Friday of a month.
std::int64_t last_friday(int year, int month) {
  int ny = month == 12 ? year + 1 : year;
  int nm = month == 12 ? 1 : month + 1;
  std::int64_t last = days_from_civil(ny, nm, 1) - 1;
  return last - ((weekday(last) - 5 + 7) % 7);
}

//! First 08:00 UTC Friday strictly after `after_ns`.
std::int64_t next_friday(std::int64_t after_ns) {
  std::int64_t d = floor_div(after_ns - k0800, kNsPerDay) + 1;  // first 08:00 strictly after
  while (weekday(d) != 5) ++d;
  return at_0800(d);
}

//! First last-Friday-of-month expiry strictly after `after_ns`, among months with month % step == 0.
std::int64_t next_month_end(std::int64_t after_ns, int step) {
  CivilDate c = civil_from_days(floor_div(after_ns, kNsPerDay));
  int y = c.year, m = c.month;
  for (int i = 0; i < 30; ++i) {
    if (m % step == 0) {
      std::int64_t e = at_0800(last_friday(y, m));
      if (e > after_ns) return e;
    }
    if (++m > 12) {
      m = 1;
      ++y;
    }
  }
  return after_ns + 365 * kNsPerDay;  // unreachable for step in {1, 3}
}

}  // namespace

std::int64_t days_from_civil(int year, int month, int day) {
  // Count from 0000-03-01 so that the leap day ends the year, in 400-year eras.
  std::int64_t y = year - (month <= 2 ? 1 : 0);
  std::int64_t era = floor_div(y, 400);
  std::int64_t yoe = y - era * 400;                          // [0, 399]
  std::int64_t mp = (month + 9) % 12;                        // March = 0
  std::int64_t doy = (153 * mp + 2) / 5 + day - 1;           // [0, 365]
  std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
  return era * 146097 + doe - 719468;                        // 719468: 0000-03-01 .. 1970-01-01
}

CivilDate civil_from_days(std::int64_t days) {
  std::int64_t z = days + 719468;
  std::int64_t era = floor_div(z, 146097);
  std::int64_t doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  CivilDate c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = static_cast<int>(yoe + era * 400 + (c.month <= 2 ? 1 : 0));
  return c;
}

int weekday(std::int64_t days) { return static_cast<int>(((days % 7) + 11) % 7); }  // 1970-01-01: Thursday

std::int64_t listed_expiry(Tenor tenor, std::int64_t ts) {
  switch (tenor) {
    case Tenor::kDaily: {
      std::int64_t after = ts + kNsPerHour;
      return at_0800(floor_div(after - k0800, kNsPerDay) + 1);
    }
    case Tenor::kWeekly: return next_friday(ts + kNsPerDay);
    case Tenor::kBiweekly: return next_friday(ts + kNsPerDay) + 7 * kNsPerDay;
    case Tenor::kMonthly: return next_month_end(ts + 14 * kNsPerDay, 1);
    case Tenor::kQuarterly: return next_month_end(ts + 30 * kNsPerDay, 3);
    case Tenor::kNextQuarter: return next_month_end(next_month_end(ts + 30 * kNsPerDay, 3), 3);
  }
  return ts + kNsPerDay;
}

std::int64_t ExpiryCalendar::expiry(Tenor tenor, std::int64_t ts) {
  int i = static_cast<int>(tenor);
  if (ts < valid_from_[i] || ts >= valid_until_[i]) {
    expiry_[i] = listed_expiry(tenor, ts);
    // The listing only changes when ts + minimum distance crosses an 08:00 boundary: for the
    // daily (1 h) that is at 07:00, for the others (whole days) at 08:00.
    std::int64_t shift = tenor == Tenor::kDaily ? kNsPerHour : 0;
    valid_from_[i] = ts;
    valid_until_[i] = at_0800(floor_div(ts + shift - k0800, kNsPerDay) + 1) - shift;
  }
  return expiry_[i];
}

void append_date_code(std::string& out, std::int64_t expiry_ns) {
  static constexpr const char* kMonths[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                              "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  CivilDate c = civil_from_days(floor_div(expiry_ns, kNsPerDay));
  char buf[8];
  auto r = std::to_chars(buf, buf + sizeof buf, c.day);
  out.append(buf, r.ptr);
  out.append(kMonths[c.month - 1]);
  int yy = c.year % 100;
  out.push_back(static_cast<char>('0' + yy / 10));
  out.push_back(static_cast<char>('0' + yy % 10));
}

}  // namespace fillsim
