#pragma once
// Hyperliquid websocket: `userFills` (the first message after subscribing is a snapshot of recent
// fills, isSnapshot: true, re-sent on every reconnect), `user` (userEvents: {"fills": [...]} of
// the configured user) and the public `trades` channel, whose `users` pair [buyer, seller] gives
// both sides' accounts: each trade becomes two Fills, the aggressor (`side`: "B" = buyer) taker.
// Units: `sz` in the coin, `px` in USD(C), `fee` in `feeToken` (USDC; negative = rebate),
// `side` "B" = buy, "A" = sell, `crossed` = taker, `time` in ms.
// Accounts are user addresses (lower-case hex, as Hyperliquid sends them).
// De-duplication by (user, tid), always on: Fill::trade_id = stable_hash("hyperliquid:" + tid +
// ":" + user), the same for a fill whether it came from userFills, user or trades, and distinct
// for the two sides of one trade.

#include <memory>

#include "protocol/venues/venue_adapter.h"

namespace segmentd {

std::unique_ptr<VenueAdapter> make_hyperliquid_adapter(AdapterContext context);

}  // namespace segmentd
