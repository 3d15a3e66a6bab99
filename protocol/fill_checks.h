#pragma once
// The checks every venue adapter makes on a trade's fields before it becomes a Fill, in one place
// so that the same defect gets the same reason (the parse-error metric's label) whichever venue
// sent it (protocol/*_adapter.cpp only; not a public header):
//
//   defect                                                  reason           where
//   a required field absent, or "" where a venue says        kMissingField    require_*(), side()
//     "not applicable" with an empty string
//   a field of the wrong JSON type                           kWrongType       get_*() (adapter_support.h)
//   a numeric string that is not a number, or not finite     kBadValue        get_decimal_string()
//   a JSON number that is not finite / out of range          kBadValue        get_number()
//   a price or a quantity <= 0 (negative sizes included)     kBadValue        require_positive()
//   a venue time <= 0 or past year 2262                      kBadValue        require_time_ms()
//   a side that is not one of the venue's two words          kBadValue        side()
//   a message larger than the configured maximum             kOversized       the session (service/)
//
// The caller counts the reason and skips the message; the connection stays up. The happy paths
// are inline: they run for every fill; the failures build the detail text out of line.

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include "core/fill.h"
#include "protocol/parse_error.h"
#include "protocol/venues/adapter_support.h"

namespace segmentd::adapter {

//! Fills `err` for a required field that is absent: "<context> without '<field>'".
bool missing_field(std::string_view context, std::string_view field, ParseError& err);
//! Fills `err` for a value that must be > 0: "'<field>' must be > 0".
bool not_positive(std::string_view field, ParseError& err);
//! Fills `err` for a side that is absent (kMissingField) or not one of the venue's two words.
bool bad_side(std::string_view value, std::string_view field, std::string_view buy, std::string_view sell,
              ParseError& err);

//! A required field whose presence the adapter tracked itself (an id read as an integer, ...).
inline bool require_present(bool present, std::string_view context, std::string_view field, ParseError& err) {
  return present || missing_field(context, field, err);
}

//! A required string field: "" (absent, or sent empty) is kMissingField.
inline bool require_text(std::string_view value, std::string_view context, std::string_view field, ParseError& err) {
  return !value.empty() || missing_field(context, field, err);
}

//! A required number (NaN = absent, as the adapters initialise them).
inline bool require_number(double value, std::string_view context, std::string_view field, ParseError& err) {
  return !std::isnan(value) || missing_field(context, field, err);
}

//! "No time field": what a venue time in ms holds until the field is read, so that a negative or
//! zero time is told apart from an absent one.
inline constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();

//! A required venue time in ms: kNoTime → kMissingField; <= 0 or beyond int64 ns → kBadValue.
inline bool require_time_ms(std::int64_t ms, std::string_view context, std::string_view field, std::int64_t& out_ns,
                            ParseError& err) {
  if (ms == kNoTime) return missing_field(context, field, err);
  return ms_to_ns(ms, field, out_ns, err);
}

//! A required price or quantity: absent → kMissingField; <= 0 → kBadValue. (Non-finite values
//! never get here: the getters reject them as kBadValue.)
inline bool require_positive(double value, std::string_view context, std::string_view field, ParseError& err) {
  if (std::isnan(value)) return missing_field(context, field, err);
  return value > 0 || not_positive(field, err);
}

//! The side of the account (or of the aggressor) from the venue's two words, case-sensitive as
//! the venues send them: "" → kMissingField, anything else → kBadValue.
inline bool side(std::string_view value, std::string_view field, std::string_view buy, std::string_view sell, Side& out,
                 ParseError& err) {
  if (value == buy) {
    out = Side::kBuy;
    return true;
  }
  if (value == sell) {
    out = Side::kSell;
    return true;
  }
  return bad_side(value, field, buy, sell, err);
}

}  // namespace segmentd::adapter
