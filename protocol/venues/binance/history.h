#pragma once
// Binance USDⓈ-M trade history for the gap-fill (Binance derivatives docs, "Account Trade List
// (USER_DATA)"), SIGNED:
//   GET /fapi/v1/userTrades?symbol=<S>&(startTime=<ms>|fromId=<id>)&limit=<≤1000>
//       &recvWindow=<ms>&timestamp=<ms>&signature=<hex(HMAC-SHA256(secret, query before it))>
//   X-MBX-APIKEY: <api key>
// The symbol is required; startTime..endTime spans at most 7 days; fromId is not sent with a
// time. The answer is an array, oldest first, of {"symbol","id","orderId","side","price","qty",
// "realizedPnl","quoteQty","commission","commissionAsset","time","positionSide","buyer","maker"};
// a page as long as the limit means more may follow from fromId = last id + 1. Errors are
// {"code":<negative>,"msg":".."} (-1003 too many requests, HTTP 429; -1022 bad signature).
// Each trade becomes the ORDER_TRADE_UPDATE (x = "TRADE") the user-data stream pushes for it.
//
// Binance options (European options API, "Account Trade List (USER_DATA)"), SIGNED the same way:
//   GET /eapi/v1/userTrades?(startTime=<ms>|fromId=<id>)&limit=<≤1000>&recvWindow=..&timestamp=..
//       &signature=..      X-MBX-APIKEY: <api key>
// `symbol` is optional: without it the answer covers every option of the account, so one call
// sequence recovers them all. Without startTime or fromId the venue answers the most recent trades,
// so one of them is always sent. limit defaults to 100, at most 1000; weight 5. The answer is an
// array, oldest first, of {"id" (unique across symbols, what fromId pages by), "tradeId" (the
// stream's fi[].t), "orderId","symbol","price","quantity","fee","realizedProfit","side" (BUY/SELL),
// "type","volatility","liquidity" (TAKER/MAKER),"quoteAsset","time","priceScale","quantityScale",
// "optionSide"}. Each trade becomes the options ORDER_TRADE_UPDATE the stream pushes for it:
//   {"e":"ORDER_TRADE_UPDATE","E":t,"o":[{"s":..,"q":<signed by side>,"fi":[{"t","p","q","T","m","f"}]}]}
// so that the adapter gives it the stream's trade id (symbol, tradeId).
// Pure functions, no I/O.

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/parse_error.h"
#include "protocol/venues/binance/control.h"
#include "protocol/venues/control_json.h"

namespace segmentd::control {

inline constexpr std::string_view kBinanceUserTradesPath = "/fapi/v1/userTrades";
inline constexpr std::string_view kBinanceOptionsUserTradesPath = "/eapi/v1/userTrades";
inline constexpr int kBinanceUserTradesMaxLimit = 1000;
inline constexpr std::int64_t kBinanceRecvWindowMs = 5000;

//! hex(HMAC-SHA256(secret, query)): the `signature` parameter of SIGNED endpoints.
std::string binance_query_signature(std::string_view secret, std::string_view query);

//! `from_id` >= 0 pages by id; otherwise by `start_ms`.
RestCall binance_user_trades_request(std::string_view api_key, std::string_view secret, std::string_view symbol,
                                     std::int64_t start_ms, std::int64_t from_id, int limit, std::int64_t ts_ms);

//! Reads one answer into `page` (one stream message per trade; cursor: the next fromId).
bool parse_binance_user_trades(std::string_view body, int limit, HistoryPage& page, ParseError& err);

//! Options: every symbol at once; `from_id` >= 0 pages by id, otherwise by `start_ms`.
RestCall binance_options_user_trades_request(std::string_view api_key, std::string_view secret, std::int64_t start_ms,
                                             std::int64_t from_id, int limit, std::int64_t ts_ms);

//! Reads one options answer into `page` (one options ORDER_TRADE_UPDATE per trade; cursor: the
//! next fromId, last `id` + 1).
bool parse_binance_options_user_trades(std::string_view body, int limit, HistoryPage& page, ParseError& err);

//! The venue side: true when `query` ends in a `&signature=` over what precedes it.
bool verify_binance_query_signature(std::string_view query, std::string_view secret);

//! Positions, SIGNED: the session's snapshot at connect (the user-data streams have none:
//! ACCOUNT_UPDATE and BALANCE_POSITION_UPDATE say only what changed). Each answers a JSON array.
//!  - USDⓈ-M, GET /fapi/v2/positionRisk (weight 5): every symbol's row, {"symbol", "positionAmt"
//!    (signed, the coin), "entryPrice", "markPrice", "notional", "positionSide", "updateTime",
//!    ...}, strings but updateTime.
//!  - COIN-M, GET /dapi/v1/positionRisk: the same rows, "positionAmt" in contracts (100 USD for
//!    BTC, 10 USD for the other coins).
//!  - Options, GET /eapi/v1/position (weight 5): the open positions, {"symbol", "side",
//!    "quantity" (signed, the coin), "entryPrice", "markPrice", "markValue", "strikePrice",
//!    "expiryDate", "optionSide", "quoteAsset", "time", ...}.
inline constexpr std::string_view kBinancePositionRiskPath = "/fapi/v2/positionRisk";
inline constexpr std::string_view kBinanceCoinMPositionRiskPath = "/dapi/v1/positionRisk";
inline constexpr std::string_view kBinanceOptionsPositionPath = "/eapi/v1/position";
std::string_view binance_positions_path(BinanceMarket market);
RestCall binance_position_risk_request(std::string_view api_key, std::string_view secret, std::int64_t ts_ms,
                                       BinanceMarket market = BinanceMarket::kUsdM);

}  // namespace segmentd::control
