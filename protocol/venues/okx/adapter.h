#pragma once
// OKX v5 private websocket, `orders` channel. An order push is a fill only when `tradeId` is
// non-empty and `fillSz` > 0 (the same channel pushes live, cancelled and final states with
// fillSz "0" and tradeId ""). Units (OKX v5 docs, order channel):
//   - `fillSz`: base currency for SPOT/MARGIN; contracts for SWAP, FUTURES and OPTION, converted
//     with the contract value (ctVal, from the instrument registry): linear contracts are base
//     units (BTC-USDT-SWAP 0.01 BTC, options 0.01 BTC), coin-margined ones USD (BTC-USD-SWAP 100
//     USD → base = contracts × 100 / fillPx).
//   - `fillPx`: quote currency; the coin (BTC) for coin-margined options.
//   - `fillFee` in `fillFeeCcy`: negative = fee charged, positive = rebate (Fill::fee_usd is the
//     opposite sign). When `fillFee` is absent and this fill is the order's first (accFillSz ==
//     fillSz), the order's accumulated `fee`/`feeCcy` is this fill's fee.
//   - options: `fillPxVol` implied vol (a fraction), `fillFwdPx` forward price (the underlying
//     for the notional and for Black-76), `fillMarkPx` mark price; `fillIdxPx` index when sent.
// Also: "login", "subscribe", "error", "notice" and "channel-conn-count" events, and the bare
// text "pong" answering our "ping".
// OKX trade ids are per instrument: Fill::trade_id = stable_hash("okx:" + instId + ":" + tradeId).

#include <memory>

#include "protocol/venues/venue_adapter.h"

namespace segmentd {

std::unique_ptr<VenueAdapter> make_okx_adapter(AdapterContext context);

}  // namespace segmentd
