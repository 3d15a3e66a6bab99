#include "protocol/fill_checks.h"

#include "core/str_cat.h"

namespace segmentd::adapter {

bool missing_field(std::string_view context, std::string_view field, ParseError& err) {
  err.reason = ParseErrorReason::kMissingField;
  err.detail = str_cat(context, " without '", field, "'");
  return false;
}

bool not_positive(std::string_view field, ParseError& err) {
  err.reason = ParseErrorReason::kBadValue;
  err.detail = str_cat("'", field, "' must be > 0");
  return false;
}

bool bad_side(std::string_view value, std::string_view field, std::string_view buy, std::string_view sell,
              ParseError& err) {
  // Never echo the venue's value: the detail is a metric-adjacent log text of bounded shape.
  err.reason = value.empty() ? ParseErrorReason::kMissingField : ParseErrorReason::kBadValue;
  err.detail = str_cat("'", field, "' must be ", buy, " or ", sell);
  return false;
}

}  // namespace segmentd::adapter
