#pragma once
// Binance user data streams: USDⓈ-M (and COIN-M) futures and European options. Both push
// `ORDER_TRADE_UPDATE`, with different shapes:
//   - futures: "o" is one order; it is a fill when the execution type x == "TRADE", and when
//     x == "CALCULATED" (a liquidation execution: the venue's liquidation order closed part of the
//     account's position; always a taker fill; keyed by the order id "i" if it has no trade id).
//     NEW, CANCELED, EXPIRED, AMENDMENT are order updates, each with its own reason. Fill fields:
//     l = last filled quantity (base units on USDⓈ-M; contracts on COIN-M, converted with the
//     contract value in USD), L = last filled price, n/N = commission and its asset (both absent
//     when the trade paid none: the fee is then 0, as the docs say), T = trade time (ms), t =
//     trade id, m = maker.
//   - options: "o" is an array of orders, each with "fi", an array of fills {t, p, q, T, m, f};
//     the side is the sign of the order quantity "q" (positive buy, negative sell); the fee "f"
//     is in the quote asset (USDT), positive = commission, negative = rebate. The message has no
//     underlying price: the notional uses AdapterContext::prices when wired, otherwise the strike
//     (the only USD level in the message; options trade near the money) — an approximation.
//
// TRADE_LITE is ignored on purpose: it is a low-latency copy of the same trade that the
// ORDER_TRADE_UPDATE with x == "TRADE" carries too, without the commission. Taking both would
// count each trade twice (or lose the fee if de-duplication kept the first).
//
// Binance trade ids are per symbol: Fill::trade_id = stable_hash("binance:" + symbol + ":" + id).
// Options updates may repeat earlier fills of an order, so this adapter always de-duplicates.

#include <memory>

#include "protocol/venues/venue_adapter.h"

namespace segmentd {

std::unique_ptr<VenueAdapter> make_binance_adapter(AdapterContext context);

}  // namespace segmentd
