#pragma once
// A venue adapter turns the bytes of one websocket message from a venue into zero or more Fills
// and says what the message was. It resolves every venue quirk (inverse contracts sized in USD,
// contract multipliers, implied vol in percent, fees in coin) so that everything downstream sees
// base units, USD notional and vol as a fraction (core/features.md).
//
// Contract of decode():
//   - `message` is one complete message and is followed by kJsonPadding readable bytes
//     (protocol/native_format.h); decode_unpadded() copies into a padded scratch buffer first.
//   - On success it appends the message's fills to `out` (never clears it), fills `outcome` and
//     returns true. A message is all or nothing: a bad message appends no fill and leaves the
//     de-duplication set untouched, so a fault in trade 57 of a batch of 100 cannot half-apply it.
//   - On bad input it returns false and fills `error` (closed set of reasons, detail without
//     secrets: the adapter never sees credentials).
//   - After warm-up (parser capacity, symbol and account caches, `out` capacity) it allocates
//     nothing per fill or per message on the fill path.
//
// Ownership: one adapter per connection (session); it is used by that session's strand only and
// is not thread-safe. It may outlive reconnects, and so may the TradeDedup it uses.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/account_interner.h"
#include "core/fill.h"
#include "core/instrument_registry.h"
#include "protocol/parse_error.h"

namespace segmentd {

class TradeDedup;

//! What a well-formed message was. A closed set: used as a metric label.
enum class MessageKind : std::uint8_t {
  kFills = 0,        //!< carried at least one fill of ours (fills may still be 0 if all were duplicates)
  kHeartbeat,        //!< venue keep-alive that needs no answer
  kTestRequest,      //!< venue asks for an answer (Deribit heartbeat test_request → public/test)
  kAuthResult,       //!< answer to our login/auth; see DecodeOutcome::success
  kSubscriptionAck,  //!< answer to our subscribe; see DecodeOutcome::success
  kPong,             //!< answer to our application-level ping
  kOrderUpdate,      //!< order state change without an execution (new, cancel, amend, final state)
  kVenueError,       //!< the venue reports an error or a notice that needs action (e.g. reconnect)
  kIgnored,          //!< understood and deliberately not used (e.g. Binance TRADE_LITE, funding)
  kUnknown,          //!< the venue's envelope, but a message type we do not know
  kMarketData,       //!< prices for the tape (a native price record; venue trades, mark, index channels)
  kPositions,        //!< the account's positions as the venue states them (a position channel or snapshot)
};
inline constexpr int kMessageKindCount = 12;

std::string_view to_string(MessageKind k);

//! What decode() found in a well-formed message.
struct DecodeOutcome {
  MessageKind kind = MessageKind::kUnknown;
  std::string_view reason;       //!< short static text: why this kind (never venue-supplied text)
  std::uint32_t fills = 0;       //!< fills appended to `out`
  std::uint32_t duplicates = 0;  //!< fills dropped as already seen (TradeDedup)
  std::uint32_t skipped = 0;     //!< entries understood but not fills (order updates, funding, ...)
  bool success = true;           //!< kAuthResult / kSubscriptionAck: the venue accepted
  bool snapshot = false;         //!< Hyperliquid userFills snapshot (history re-sent on subscribe)
  std::int64_t request_id = -1;  //!< id echoed by the venue for a request of ours; -1 if none
  std::int64_t venue_code = 0;   //!< venue error / notice code when it gives one (OKX 64008, ...)

  void reset() { *this = DecodeOutcome{}; }
};

//! USD prices of underlyings from the service's price tape, for the venues whose fill messages
//! carry none (Binance options). Read from the adapter's thread; must be thread-safe.
class UnderlyingPrices {
 public:
  virtual ~UnderlyingPrices() = default;
  //! USD price of the underlying, NaN when unknown.
  virtual double usd_price(UnderlyingId underlying) const = 0;
};

//! What every adapter needs from its session.
struct AdapterContext {
  AccountInterner* accounts = nullptr;        //!< required; outlives the adapter
  InstrumentRegistry* instruments = nullptr;  //!< required; outlives the adapter
  //! The account that private streams without an account id belong to: the name the source
  //! config gives the authenticated connection (Deribit, Binance, OKX, Bybit), or the user
  //! address for Hyperliquid's "user" channel (userFills carries the user itself).
  std::string account;
  //! De-duplication by venue trade id, shared across the reconnects of one session. Bybit and
  //! Hyperliquid need one and create their own when this is null; the others use it when given.
  TradeDedup* dedup = nullptr;
  //! Optional (may be null): see UnderlyingPrices.
  const UnderlyingPrices* prices = nullptr;
  //! Hyperliquid: coins whose public trades are prices for the tape only (a source's
  //! market_data "trades:COIN" without the coin in `coins`); other coins' public trades with
  //! their `users` are also both accounts' fills.
  std::vector<std::string> price_only_coins;
};

class VenueAdapter {
 public:
  virtual ~VenueAdapter() = default;

  virtual Venue venue() const = 0;

  //! Decodes one message; see the contract at the top of this file.
  virtual bool decode(std::string_view message, std::int64_t recv_ns, std::vector<Fill>& out, DecodeOutcome& outcome,
                      ParseError& error) = 0;

  //! Same, for a message with no padding guarantee (copies it once into a reused buffer).
  bool decode_unpadded(std::string_view message, std::int64_t recv_ns, std::vector<Fill>& out, DecodeOutcome& outcome,
                       ParseError& error);

  //! A venue's REST answer of positions (Binance /fapi/v2/positionRisk, Bybit /v5/position/list):
  //! replaces positions() with its position records, as of `call_ns` (when the request was sent:
  //! the venue's answer holds at least every trade before it; a later one is stated again by the
  //! stream's next position update), then, when `last`, the end of a snapshot as of `snapshot_ns`
  //! (the snapshot's first call: one over several calls, Bybit's categories and pages, closes
  //! nothing its later calls stated). False (and positions() empty) on a bad answer or a venue
  //! without one.
  virtual bool decode_rest_positions(std::string_view body, bool last, std::int64_t snapshot_ns, std::int64_t call_ns,
                                     std::int64_t recv_ns, ParseError& error) {
    positions_.clear();
    error = {ParseErrorReason::kUnknownMessage, "this venue has no REST positions"};
    return false;
  }

  //! The venue positions of the last message decoded (kind kPositions, or beside the fills of a
  //! message that carries both): RecordKind::kPosition records, then a kPositionsEnd when the
  //! message was a complete snapshot. Empty otherwise. Valid until the next decode.
  const std::vector<Fill>& positions() const { return positions_; }

  //! The market data of the last message decoded (kind kMarketData: public trades, mark and index
  //! prices), for the price tape; empty otherwise. Valid until the next decode.
  const std::vector<PriceRecord>& market_data() const { return market_; }

 protected:
  std::vector<PriceRecord> market_;
  std::vector<Fill> positions_;

 private:
  std::string padded_;
};

}  // namespace segmentd
