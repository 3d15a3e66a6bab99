#pragma once
// Deribit JSON-RPC over websocket: `user.trades.*` subscription notifications (batched `data`
// arrays) become Fills; heartbeats, test requests, responses to our requests and errors are
// classified. Units (docs.deribit.com, user trade object):
//   - `amount`: USD for inverse perpetuals and futures (BTC-PERPETUAL, BTC-27DEC24), so the base
//     quantity is amount / price; the coin for options and linear (_USDC) instruments.
//   - `price`: USD for futures; the coin (BTC) for inverse options, whose premium is in BTC.
//   - `iv`: percent (38.51 = 38.51%) → Fill::iv = iv / 100.
//   - `fee` in `fee_currency` (BTC, ETH, USDC) → USD at `index_price`.
//   - underlying price: `underlying_price` for options (the forward used for the iv), otherwise
//     `index_price`.
// Trade ids are global on Deribit: Fill::trade_id = stable_hash("deribit:" + trade_id).

#include <memory>

#include "protocol/venues/venue_adapter.h"

namespace segmentd {

std::unique_ptr<VenueAdapter> make_deribit_adapter(AdapterContext context);

}  // namespace segmentd
