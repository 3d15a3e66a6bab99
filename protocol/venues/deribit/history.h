#pragma once
// Deribit's trade history for the gap-fill (docs.deribit.com,
// private/get_user_trades_by_currency_and_time), over HTTP:
//   GET /api/v2/private/get_user_trades_by_currency_and_time?currency=BTC&kind=any
//       &start_timestamp=<ms>&end_timestamp=<ms>&count=<≤1000>&sorting=asc
//   Authorization: deri-hmac-sha256 id=<client id>,ts=<ms>,sig=<sig>,nonce=<nonce>
//   sig = hex(HMAC-SHA256(client_secret, ts + "\n" + nonce + "\n" + RequestData)),
//   RequestData = "GET" + "\n" + URI (path and query) + "\n" + body + "\n".
// The answer is {"jsonrpc":"2.0","result":{"trades":[...],"has_more":bool}}, the trades in the
// shape user.trades pushes them; an error is {"jsonrpc":"2.0","error":{"code":..,"message":..}}
// (10028 too_many_requests). The next page starts at the last trade's timestamp (trades of that
// millisecond come again; the session's de-duplication drops them).
// Pure functions, no I/O.

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/parse_error.h"
#include "protocol/venues/control_json.h"

namespace segmentd::control {

inline constexpr std::string_view kDeribitUserTradesPath = "/api/v2/private/get_user_trades_by_currency_and_time";
inline constexpr int kDeribitUserTradesMaxCount = 1000;

std::string deribit_http_signature(std::string_view client_secret, std::int64_t ts_ms, std::string_view nonce,
                                   std::string_view method, std::string_view uri, std::string_view body);

RestCall deribit_user_trades_request(std::string_view client_id, std::string_view client_secret,
                                     std::string_view currency, std::int64_t start_ms, std::int64_t end_ms, int count,
                                     std::int64_t ts_ms, std::string_view nonce);

//! Reads one answer into `page` (stream message: a user.trades.any.any.raw subscription push).
//! False with `err` on malformed JSON or a venue error (err.detail names the code).
bool parse_deribit_user_trades(std::string_view body, HistoryPage& page, ParseError& err);

//! The venue side: the parts of an Authorization header, and whether it is signed with `secret`.
struct DeribitHttpAuth {
  std::string client_id;
  std::int64_t ts_ms = 0;
  std::string sig;
  std::string nonce;
};
bool parse_deribit_http_auth(std::string_view header, DeribitHttpAuth& out);
bool verify_deribit_http_auth(const DeribitHttpAuth& auth, std::string_view client_secret, std::string_view method,
                              std::string_view uri, std::string_view body);

}  // namespace segmentd::control
