#pragma once
// Hyperliquid's fill history for the gap-fill (Hyperliquid docs, Info endpoint, "Retrieve a
// user's fills by time"): unsigned, public
//   POST /info  {"type":"userFillsByTime","user":"0x..","startTime":<ms>,"aggregateByTime":false}
// answers a JSON array of fills in the userFills shape, oldest first, at most 2000 per answer
// (and only the 10,000 most recent fills are kept). The next page starts at the last fill's time
// (fills of that millisecond come again; the session's de-duplication drops them).
// Pure functions, no I/O.

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/parse_error.h"
#include "protocol/venues/control_json.h"

namespace segmentd::control {

inline constexpr std::string_view kHyperliquidInfoPath = "/info";
inline constexpr int kHyperliquidFillsByTimeMax = 2000;

RestCall hyperliquid_user_fills_by_time_request(std::string_view user, std::int64_t start_ms);

//! Reads one answer into `page` (stream message: a userFills push for `user`).
bool parse_hyperliquid_user_fills(std::string_view body, std::string_view user, HistoryPage& page, ParseError& err);

//! The venue side: reads a userFillsByTime request (false when it is another type).
struct HyperliquidInfoRequest {
  std::string type;
  std::string user;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = -1;  //!< -1: absent
};
bool parse_hyperliquid_info_request(std::string_view body, HyperliquidInfoRequest& out, ParseError& err);

}  // namespace segmentd::control
