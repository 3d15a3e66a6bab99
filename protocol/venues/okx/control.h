#pragma once
// OKX v5 private websocket control plane. Login (OKX v5 docs, "Login"):
//   sign = base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify")), timestamp in
//   seconds since the epoch as text. The venue answers {"event":"login","code":"0"}.
// Keep-alive: send the bare text "ping" when nothing was received for < 30 s; the venue answers
// "pong". Pure functions, no I/O; the parser is the venue side's (tools/fillsim).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/parse_error.h"

namespace segmentd::control {

inline constexpr std::string_view kOkxPing = "ping";

std::string okx_login_signature(std::string_view secret, std::string_view timestamp_s);
std::string okx_login_request(std::string_view api_key, std::string_view passphrase, std::string_view secret,
                              std::string_view timestamp_s);
//! Subscribes the orders channel for every instrument type.
std::string okx_subscribe_orders_request(std::string_view inst_type = "ANY");
//! The account's positions of every instrument type: a snapshot first, then every change.
std::string okx_subscribe_positions_request();

//! An OKX public market-data subscription as a source config names it, "channel:instId":
//! "trades:BTC-USDT-SWAP", "mark-price:BTC-USDT-SWAP", "index-tickers:BTC-USDT". False when the
//! channel is none of those three or the instId is empty.
struct OkxMarketChannel {
  std::string_view channel;
  std::string_view inst_id;
};
bool parse_okx_market_channel(std::string_view name, OkxMarketChannel& out);
//! One public subscribe request for `names` (each "channel:instId"; the bad ones left out).
std::string okx_subscribe_public_request(const std::vector<std::string>& names);

struct OkxRequest {
  std::string op;  //!< "login", "subscribe", "unsubscribe"; "ping" for the bare text
  // login
  std::string api_key;
  std::string passphrase;
  std::string timestamp;
  std::string sign;
  // subscribe: one entry per args element
  std::vector<std::string> channels;
  std::vector<std::string> inst_ids;  //!< each element's instId ("" when absent)
};

bool parse_okx_request(std::string_view message, OkxRequest& out, ParseError& err);
//! True when `r` is a login signed with `secret`, and carries the expected key and passphrase.
bool verify_okx_login(const OkxRequest& r, std::string_view api_key, std::string_view passphrase,
                      std::string_view secret);

}  // namespace segmentd::control
