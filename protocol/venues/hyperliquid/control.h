#pragma once
// Hyperliquid websocket control plane: no auth (public data; userFills takes the address),
// subscriptions {"method":"subscribe","subscription":{...}}, and {"method":"ping"} when idle
// (the venue closes connections silent for 60 s), answered by {"channel":"pong"}.

#include <string>
#include <string_view>

#include "protocol/parse_error.h"

namespace segmentd::control {

inline constexpr std::string_view kHyperliquidPing = R"({"method":"ping"})";

std::string hyperliquid_subscribe_user_fills(std::string_view user);
std::string hyperliquid_subscribe_trades(std::string_view coin);

struct HyperliquidRequest {
  std::string method;  //!< "subscribe", "unsubscribe", "ping"
  std::string type;    //!< subscription type: "userFills", "trades", ...
  std::string user;
  std::string coin;
};

bool parse_hyperliquid_request(std::string_view message, HyperliquidRequest& out, ParseError& err);

}  // namespace segmentd::control
