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
//! The user's clearinghouse state: every perpetual position, at subscribe and on every change.
std::string hyperliquid_subscribe_clearinghouse(std::string_view user);
//! The coin's perpetual context: mark price, oracle (index) price, funding, open interest.
std::string hyperliquid_subscribe_asset_ctx(std::string_view coin);

//! A Hyperliquid market-data subscription as a source config names it: "trades:BTC" (public
//! trades) or "activeAssetCtx:BTC" (mark and oracle price). False when `name` is neither.
struct HyperliquidMarketChannel {
  std::string_view type;  //!< "trades" or "activeAssetCtx"
  std::string_view coin;
};
bool parse_hyperliquid_market_channel(std::string_view name, HyperliquidMarketChannel& out);

struct HyperliquidRequest {
  std::string method;  //!< "subscribe", "unsubscribe", "ping"
  std::string type;    //!< subscription type: "userFills", "trades", ...
  std::string user;
  std::string coin;
};

bool parse_hyperliquid_request(std::string_view message, HyperliquidRequest& out, ParseError& err);

}  // namespace segmentd::control
