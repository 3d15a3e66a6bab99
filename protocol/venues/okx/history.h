#pragma once
// OKX's fill history for the gap-fill (OKX v5 docs, "Get transaction details (last 3 days)"):
//   GET /api/v5/trade/fills?begin=<ms>&limit=<≤100>[&after=<billId>]
//   OK-ACCESS-KEY, OK-ACCESS-PASSPHRASE, OK-ACCESS-TIMESTAMP (ISO 8601 UTC with ms,
//   "2020-12-08T09:08:57.715Z"), OK-ACCESS-SIGN = base64(HMAC-SHA256(secret,
//   timestamp + "GET" + path with query + body)).
// The answer {"code":"0","msg":"","data":[...]} lists fills newest first; `after` = the oldest
// billId of the last page asks for older ones; a page shorter than the limit is the last. Rate
// limit 60 requests / 2 s (HTTP 429, code 50011).
// A fill record carries the orders channel's fill fields (instId, tradeId, fillPx, fillSz,
// fillTime, execType, side, fillPxVol, fillFwdPx, fillMarkPx, fillIdxPx) but names the fill's fee
// `fee`/`feeCcy`, which on the channel are the order's accumulated fee: the stream message
// renames them fillFee/fillFeeCcy. Pure functions, no I/O.

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/parse_error.h"
#include "protocol/venues/control_json.h"

namespace segmentd::control {

inline constexpr std::string_view kOkxFillsPath = "/api/v5/trade/fills";
inline constexpr int kOkxFillsMaxLimit = 100;

//! "2020-12-08T09:08:57.715Z"
std::string okx_iso_timestamp(std::int64_t ms);
std::string okx_rest_signature(std::string_view secret, std::string_view timestamp, std::string_view method,
                               std::string_view request_path, std::string_view body);

RestCall okx_fills_request(std::string_view api_key, std::string_view secret, std::string_view passphrase,
                           std::int64_t begin_ms, std::string_view after_bill_id, int limit, std::int64_t now_ms);

//! Reads one answer into `page` (stream message: an orders channel push; cursor: the oldest
//! billId). `limit` is the one asked for: a full page means more may follow.
bool parse_okx_fills(std::string_view body, int limit, HistoryPage& page, ParseError& err);

}  // namespace segmentd::control
