#pragma once
// Bybit v5 private websocket control plane (Bybit v5 docs, "WebSocket Connect"):
//   auth: {"op":"auth","args":[api_key, expires, signature]},
//         signature = hex(HMAC-SHA256(secret, "GET/realtime" + expires)), expires in ms, in the future.
//   keep-alive: {"req_id":"..","op":"ping"} every 20 s; the venue answers {"op":"pong"}.
// Pure functions, no I/O; the parser is the venue side's (tools/fillsim).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/parse_error.h"

namespace segmentd::control {

inline constexpr int kBybitPingIntervalSeconds = 20;

std::string bybit_auth_signature(std::string_view secret, std::int64_t expires_ms);
std::string bybit_auth_request(std::string_view api_key, std::string_view secret, std::int64_t expires_ms);
//! e.g. {"execution"} or {"execution.fast"}.
std::string bybit_subscribe_request(const std::vector<std::string>& topics);
std::string bybit_ping_request(std::int64_t req_id);

struct BybitRequest {
  std::string op;  //!< "auth", "subscribe", "ping", ...
  std::string req_id;
  // auth
  std::string api_key;
  std::int64_t expires_ms = 0;
  std::string signature;
  // subscribe
  std::vector<std::string> topics;
};

bool parse_bybit_request(std::string_view message, BybitRequest& out, ParseError& err);
//! True when `r` is an auth for `api_key` signed with `secret` (expiry is checked by the caller,
//! which owns the clock).
bool verify_bybit_auth(const BybitRequest& r, std::string_view api_key, std::string_view secret);

}  // namespace segmentd::control
