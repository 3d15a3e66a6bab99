#pragma once
// Bybit v5 private websocket: topics `execution` (and `execution.<category>`) and
// `execution.fast`. An execution is a fill of the account when its execType is Trade, BustTrade
// (takeover liquidation), AdlTrade (auto-deleveraging) or BlockTrade: each moves the account's
// position at a price. Funding, Settle, Delivery, MovePosition, ... are skipped on purpose.
// `execution.fast` carries no execType (it only pushes trades), no fee and no prices besides
// execPrice. `category` (spot, linear, inverse, option) decides the instrument: a spot BTCUSDT
// is the spot pair, not the perpetual Bybit spells alike (symbols.h). Units (Bybit v5 docs):
//   - `execQty`: base coin for linear, spot and options; USD for inverse (BTCUSD, BTCUSDH25),
//     so the base quantity is execQty × 1 USD / execPrice.
//   - `execFee`: positive = paid, negative = rebate, in `feeCurrency` when given, else in the
//     settle coin (the quote for linear and options, the base coin for inverse); unknown for spot.
//   - options: `tradeIv` (a fraction), `underlyingPrice`, `markPrice`; `indexPrice` otherwise.
// Bybit can push an execution more than once: de-duplication by execId is always on.
// Fill::trade_id = stable_hash("bybit:" + execId).
// Control answers: {"op":"auth"|"subscribe"|"pong"|"ping", "success", "ret_msg", "conn_id"}.

#include <memory>

#include "protocol/venues/venue_adapter.h"

namespace segmentd {

std::unique_ptr<VenueAdapter> make_bybit_adapter(AdapterContext context);

}  // namespace segmentd
