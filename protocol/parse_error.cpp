#include "protocol/parse_error.h"

namespace segmentd {

std::string_view to_string(ParseErrorReason r) {
  switch (r) {
    case ParseErrorReason::kMalformedJson: return "malformed_json";
    case ParseErrorReason::kMissingField: return "missing_field";
    case ParseErrorReason::kWrongType: return "wrong_type";
    case ParseErrorReason::kBadValue: return "bad_value";
    case ParseErrorReason::kUnknownField: return "unknown_field";
    case ParseErrorReason::kBadSymbol: return "bad_symbol";
    case ParseErrorReason::kOversized: return "oversized";
    case ParseErrorReason::kUnknownMessage: return "unknown_message";
    case ParseErrorReason::kFutureTime: return "future_time";
  }
  return "?";
}

}  // namespace segmentd
