#pragma once
// The simulated venues' own signature checks: each builds the string to sign from the request's
// fields exactly as the venue's docs define it, and computes HMAC-SHA256 with libcrypto directly.
// Deliberately shares nothing with the client's signers (protocol/hmac.h, protocol/venues/*/
// control.h and history.h): a venue that verified with the client's own code would accept any
// mistake the client makes (issue 23, item 4).
//
//   Deribit   websocket client_signature: hex(HMAC(secret, timestamp "\n" nonce "\n" data))
//             HTTP deri-hmac-sha256:      hex(HMAC(secret, ts "\n" nonce "\n" METHOD "\n" URI "\n" body "\n"))
//   OKX       websocket login:            base64(HMAC(secret, timestamp "GET" "/users/self/verify"))
//             REST OK-ACCESS-SIGN:        base64(HMAC(secret, timestamp METHOD requestPath body))
//   Binance   SIGNED query:               hex(HMAC(secret, totalParams)), `signature` the last parameter
//   Bybit v5  websocket auth:             hex(HMAC(secret, "GET/realtime" expires))
//             REST X-BAPI-SIGN:           hex(HMAC(secret, timestamp api_key recv_window queryString))
// Hyperliquid has nothing to verify: its userFills subscription and info requests are public.
//
// Every function returns true only for a signature that matches byte for byte (compared in time
// independent of the content).

#include <cstdint>
#include <string>
#include <string_view>

namespace fillsim::venue_auth {

//! hex(HMAC-SHA256(key, data)), lower case; base64 with padding. Exposed for the tests.
std::string hmac_hex(std::string_view key, std::string_view data);
std::string hmac_base64(std::string_view key, std::string_view data);

bool deribit_ws_ok(std::string_view secret, std::int64_t timestamp_ms, std::string_view nonce, std::string_view data,
                   std::string_view signature);

//! The parts of "deri-hmac-sha256 id=<id>,ts=<ms>,sig=<hex>,nonce=<nonce>", read by the venue.
struct DeribitHttpAuthHeader {
  std::string id, ts, sig, nonce;
};
bool parse_deribit_authorization(std::string_view header, DeribitHttpAuthHeader& out);
bool deribit_http_ok(std::string_view secret, const DeribitHttpAuthHeader& auth, std::string_view method,
                     std::string_view uri, std::string_view body);

bool okx_login_ok(std::string_view secret, std::string_view timestamp, std::string_view sign);
bool okx_rest_ok(std::string_view secret, std::string_view timestamp, std::string_view method,
                 std::string_view request_path, std::string_view body, std::string_view sign);

//! `query`: everything after '?', ending in "&signature=<hex>" over what precedes it.
bool binance_query_ok(std::string_view secret, std::string_view query);

bool bybit_ws_ok(std::string_view secret, std::int64_t expires_ms, std::string_view signature);
//! The header texts as sent (X-BAPI-TIMESTAMP, X-BAPI-API-KEY, X-BAPI-RECV-WINDOW) and the query.
bool bybit_rest_ok(std::string_view secret, std::string_view timestamp, std::string_view api_key,
                   std::string_view recv_window, std::string_view query, std::string_view sign);

}  // namespace fillsim::venue_auth
