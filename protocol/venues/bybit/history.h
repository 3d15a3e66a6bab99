#pragma once
// Bybit's execution history for the gap-fill (Bybit v5 docs, "Get Trade History"):
//   GET /v5/execution/list?category=<linear|inverse|option|spot>&startTime=<ms>&endTime=<ms>
//       &limit=<≤100>[&cursor=<nextPageCursor>]
//   X-BAPI-API-KEY, X-BAPI-TIMESTAMP (ms), X-BAPI-RECV-WINDOW,
//   X-BAPI-SIGN = hex(HMAC-SHA256(secret, timestamp + api_key + recv_window + query string)).
// startTime..endTime spans at most 7 days. The answer is
//   {"retCode":0,"retMsg":"OK","result":{"category":..,"list":[...],"nextPageCursor":".."},..}
// newest first; an empty nextPageCursor ends the pages. A rate limit is retCode 10006.
// The records are the execution topic's without their `category`, which the stream message
// gets back from the result. Pure functions, no I/O.

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/parse_error.h"
#include "protocol/venues/control_json.h"

namespace segmentd::control {

inline constexpr std::string_view kBybitExecutionListPath = "/v5/execution/list";
inline constexpr int kBybitExecutionListMaxLimit = 100;
inline constexpr std::int64_t kBybitMaxWindowMs = 7LL * 24 * 3600 * 1000;
inline constexpr std::int64_t kBybitRecvWindowMs = 5000;

std::string bybit_rest_signature(std::string_view secret, std::int64_t ts_ms, std::string_view api_key,
                                 std::int64_t recv_window_ms, std::string_view payload);

RestCall bybit_execution_list_request(std::string_view api_key, std::string_view secret, std::string_view category,
                                      std::int64_t start_ms, std::int64_t end_ms, std::string_view cursor, int limit,
                                      std::int64_t ts_ms);

//! Positions (the snapshot at connect; the position topic says only what changed):
//!   GET /v5/position/list?category=<linear|inverse|option>&limit=200[&settleCoin=USDT][&cursor=..]
//! answers {"retCode":0,"result":{"category","list":[{"symbol","side" (Buy|Sell|""),"size" (>= 0),
//! "avgPrice","markPrice","positionValue","updatedTime",...}],"nextPageCursor"},"time"}. Linear
//! needs a settleCoin (or a symbol).
inline constexpr std::string_view kBybitPositionListPath = "/v5/position/list";
inline constexpr int kBybitPositionListMaxLimit = 200;
RestCall bybit_position_list_request(std::string_view api_key, std::string_view secret, std::string_view category,
                                     std::string_view settle_coin, std::string_view cursor, std::int64_t ts_ms);

//! Reads one answer into `page` (stream message: an execution topic push; cursor: nextPageCursor).
bool parse_bybit_execution_list(std::string_view body, HistoryPage& page, ParseError& err);

}  // namespace segmentd::control
