#pragma once
// Simulated fills in each venue's own wire format, as the venue pushes them to the account that
// traded (tests/fixtures/exchanges holds messages in each venue's documented format):
//   Deribit      JSON-RPC "subscription" on user.trades.any.any.raw, batched `data`; inverse
//                futures sized in USD (10 USD contracts for BTC), options in the coin with the
//                premium in the coin, `iv` in percent
//   OKX          `orders` channel pushes; fillSz in contracts (BTC-USDT-SWAP 0.01 BTC, BTC-USD-
//                YYMMDD 100 USD, options 0.01 BTC), fillFee negative = charged, fillPxVol fraction
//   Binance      USDⓈ-M ORDER_TRADE_UPDATE with x = "TRADE" (perpetuals and dated futures);
//                options ORDER_TRADE_UPDATE ("o" an array of orders, trades in "fi", premium in
//                USDT, quantity in the coin) for options, which only a server on the options
//                market deals (venue_supports)
//   Bybit        v5 `execution` topic, execType "Trade" (linear perps, USDC options)
//   Hyperliquid  `userFills` (perpetuals), isSnapshot on the first push after a subscribe
// A venue that does not list an instrument kind is not sent fills of that kind (venue_supports).
//
// Plain functions, no state; deterministic for the same input.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/fill.h"
#include "protocol/venues/binance/control.h"

namespace fillsim {

//! A simulated fill ready to encode: the Fill (base units, USD), its Deribit-style symbol, and
//! the venue trade id this server gave it.
struct VenueFill {
  segmentd::Fill fill;
  std::string symbol;     //!< the simulator's (Deribit) symbol
  std::string trade_id;   //!< venue trade id text (decimal for most venues, UUID-like for Bybit)
  std::uint64_t seq = 0;  //!< position in the account's stream (order id, trade_seq)
};

//! One position as the simulated venue holds it: an instrument (a fill of it, for its symbol and
//! contract) and the signed quantity in base units.
//! A venue symbol's open interest in the venue's size unit (VenueServer::open_interest).
using OpenInterestOf = std::function<double(std::string_view symbol)>;

struct SimPosition {
  const VenueFill* sample = nullptr;
  double qty = 0.0;        //!< base units, as the simulation's fills add up
  double venue_qty = 0.0;  //!< in the venue's size unit, as its fill frames add up (venue_size)
};

//! A fill's size as the venue's frames state it, signed by side: contracts on OKX, USD on Deribit's
//! inverse futures, the coin elsewhere (rounded to the venue's steps, as the frames are).
double venue_size(segmentd::Venue venue, const VenueFill& f);
//! A position's size in base units as the venue's position message lets a reader compute it: the
//! venue quantity, converted at the position's mark where the contract is inverse.
double position_base(segmentd::Venue venue, const SimPosition& p);

//! The venue's position message for `account` (protocol/README.md, "Positions from the venues"),
//! as of `now_ms`: `snapshot` says the list is every position of the account (the first push or
//! the answer to a snapshot request: Hyperliquid sends the whole state every time). Positions of
//! qty 0 are listed as flat where the venue does so, left out where it does not. A snapshot may
//! take several messages (OKX pages it). Empty when the venue has no such message for the list.
//! `fills`: an update's fill message (Deribit's user.changes carries its trades); `request_id`: the
//! request a snapshot answers (Deribit's private/get_positions).
std::vector<std::string> encode_positions(segmentd::Venue venue, std::span<const SimPosition> positions,
                                          std::string_view account, std::int64_t now_ms, bool snapshot,
                                          std::int64_t request_id = -1, std::span<const VenueFill> fills = {});

//! Whether the venue lists the fill's instrument; Binance per market (USDⓈ-M: perpetuals and
//! dated futures; options: options).
bool venue_supports(segmentd::Venue venue, const segmentd::Fill& fill,
                    segmentd::control::BinanceMarket binance_market = segmentd::control::BinanceMarket::kUsdM);

//! The venue's symbol for a simulated instrument ("BTC-PERPETUAL" → "BTC-USDT-SWAP" on OKX).
std::string venue_symbol(segmentd::Venue venue, const VenueFill& f);

//! Deribit public market data for a client subscribed to `channel` (protocol/README.md, "Market
//! data from the venues"): the fills of every account as public trades (trades.{instrument}.
//! {interval}, trades.{kind}.{currency}.{interval}), the options among them as mark prices
//! (markprice.options.{index}), and the last index price they carry (deribit_price_index.{index}).
//! Only the fills the channel covers are used; "" when none is.
bool deribit_channel_covers(std::string_view channel, const VenueFill& f);
std::string encode_deribit_market_data(std::string_view channel, std::span<const VenueFill* const> fills);

//! Hyperliquid public market data for a client subscribed to `subscription` ("trades:COIN" or
//! "activeAssetCtx:COIN", as protocol/README.md names them): the coin's fills of every account as
//! public trades, `users` = [buyer, seller] with `accounts[i]` (fill i's account address) on its
//! side and kSimMarketUser on the other; or the coin's asset context (mark price, oracle price)
//! at its last fill, and `open_interest` of the coin now. "" when no fill is of that coin.
//! OKX public market data for a client subscribed to `subscription` ("trades:INSTID",
//! "mark-price:INSTID", "index-tickers:BASE-USDT"): the instrument's fills of every account as
//! public trades, the mark at its last fill, or the index (the underlying price) at the last fill
//! on that base. "" when no fill is covered.
std::string encode_okx_market_data(std::string_view subscription, std::span<const VenueFill* const> fills);

//! Bybit public market data for a client subscribed to `topic` ("publicTrade.SYMBOL",
//! "tickers.SYMBOL"): the symbol's fills of every account as public trades, or a ticker snapshot
//! (last, mark and index price) at its last fill with `open_interest` of the symbol now. "" when
//! no fill is of that symbol.
std::string encode_bybit_market_data(std::string_view topic, std::span<const VenueFill* const> fills,
                                     const OpenInterestOf& open_interest);

//! Binance USDⓈ-M public market data for a client subscribed to `stream` ("btcusdt@aggTrade",
//! "btcusdt@markPrice[@1s]"), raw (the /ws base's shape, no combined-stream envelope), one
//! message per event: the symbol's fills of every account as aggTrade events, or one
//! markPriceUpdate (mark and index) at its last fill. None when no fill is of that symbol.
std::vector<std::string> encode_binance_market_data(std::string_view stream, std::span<const VenueFill* const> fills);
//! The simulator's path of Binance's raw market streams (wss://fstream.binance.com/ws).
inline constexpr std::string_view kBinancePublicStreamPath = "/ws";

inline constexpr std::string_view kSimMarketUser = "0x00000000000000000000000000000000000000aa";
std::string encode_hyperliquid_market_data(std::string_view subscription, std::span<const VenueFill* const> fills,
                                           std::span<const std::string_view> accounts,
                                           const OpenInterestOf& open_interest);

//! One push carrying `fills` (all of one account, all supported). `account` is the Hyperliquid
//! user address (ignored elsewhere: private streams carry no account). `snapshot`: Hyperliquid's
//! first userFills push after a subscribe.
std::string encode_fill_message(segmentd::Venue venue, std::span<const VenueFill> fills, std::string_view account,
                                bool snapshot = false);

//! One record of the venue's REST trade history for `f`, in the venue's own shape (the gap-fill
//! endpoints of venue_server.cpp):
//!   Deribit      a trade of private/get_user_trades_by_currency_and_time (as user.trades has it)
//!   OKX          a fill of GET /api/v5/trade/fills (fee/feeCcy are the fill's; billId, ts)
//!   Binance      a trade of GET /fapi/v1/userTrades; of an option, of GET /eapi/v1/userTrades
//!   Bybit        an execution of GET /v5/execution/list (no `category`: the result carries it)
//!   Hyperliquid  a fill of userFillsByTime (as userFills has it)
//! `bill_id`: OKX's billId of this fill.
std::string encode_history_record(segmentd::Venue venue, const VenueFill& f, std::string_view bill_id = {});

//! Binance options: a trade's `id` in GET /eapi/v1/userTrades (what fromId pages by), unique
//! across symbols, for the trade whose tradeId is `trade_id` (decimal).
inline constexpr std::int64_t kBinanceOptionsIdBase = 4'611'875'134'000'000'000LL;
std::int64_t binance_options_history_id(std::string_view trade_id);

//! The currency a Deribit history query names for `f` ("BTC"), Bybit's category ("linear",
//! "option"), or the venue symbol elsewhere.
std::string history_group(segmentd::Venue venue, const VenueFill& f);

//! Fault frames, by kind: 0 truncated JSON, 1 a fill with a wrongly typed field, 2 not JSON.
std::string encode_bad_message(segmentd::Venue venue, int kind, const VenueFill& sample);

}  // namespace fillsim
