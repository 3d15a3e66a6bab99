#pragma once
// Why a message was not turned into fills. A small closed set, so that it can be a metric label
// (bounded cardinality) and so that every adapter reports the same kinds.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace segmentd {

enum class ParseErrorReason : std::uint8_t {
  kMalformedJson = 0,  //!< not JSON, truncated, bad UTF-8
  kMissingField,       //!< a required field is absent
  kWrongType,          //!< a field has the wrong JSON type
  kBadValue,           //!< right type, value out of range or not one of the allowed strings
  kUnknownField,       //!< strict formats: a field we do not know
  kBadSymbol,          //!< the instrument symbol cannot be parsed
  kOversized,          //!< larger than the configured maximum frame / line
  kUnknownMessage,     //!< valid JSON, but no message type we recognise
  kFutureTime,         //!< a valid fill stamped too far ahead of its source's event time
                       //!< (core/event_time_guard.h); refused by the source, not the parser
};
inline constexpr int kParseErrorReasonCount = 9;

std::string_view to_string(ParseErrorReason r);

struct ParseError {
  ParseErrorReason reason = ParseErrorReason::kMalformedJson;
  std::string detail;  //!< human-readable: which field and why; never contains secrets
};

//! Counts of errors by reason; single-threaded (one per source/session), merged for reports.
struct ParseErrorCounts {
  std::array<std::uint64_t, kParseErrorReasonCount> by_reason{};
  void add(ParseErrorReason r) { ++by_reason[static_cast<int>(r)]; }
  std::uint64_t total() const {
    std::uint64_t t = 0;
    for (auto n : by_reason) t += n;
    return t;
  }
};

}  // namespace segmentd
