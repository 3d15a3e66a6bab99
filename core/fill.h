#pragma once
// A Fill is one side of one execution, as the account experienced it. Venue quirks (inverse
// contracts quoted in USD, contract multipliers, vol in percent) are resolved by the adapter that
// builds the Fill; everything downstream sees base units, USD notional and vol as a fraction.

#include <cmath>
#include <cstdint>
#include <limits>

#include "core/types.h"

namespace segmentd {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

//! What a Fill on the way to a shard is. Fills are the traffic; the other two are the venue's word
//! on an account's positions (core/features.md, "Positions from the venue"), which travel the same
//! rings so that they stay in order with the account's fills.
enum class RecordKind : std::uint8_t {
  kFill = 0,
  //! The account's position on `instrument` is `qty` (signed, base units; 0 = flat) as of
  //! venue_ns (recv_ns when 0). side, liquidity, fee_usd, iv and trade_id mean nothing; price is
  //! the venue's average entry price (may be 0), mark_price and underlying_price as for a fill.
  kPosition,
  //! The end of a complete snapshot of the account's derivative positions on `venue` as of
  //! venue_ns (recv_ns when 0): its open futures, perpetual and option positions on that venue
  //! that no kPosition of the same time restated are flat. Only account, venue, the times and
  //! fee_usd mean something: fee_usd is the margin the venue holds against these positions in
  //! USD, where the snapshot states it (NaN when not; Fill::venue_margin_usd). Spot holdings are
  //! balances, not positions: no snapshot closes them.
  kPositionsEnd,
};

struct Fill {
  std::int64_t recv_ns = 0;   //!< receive time, ns since the Unix epoch (event time in replay)
  std::int64_t venue_ns = 0;  //!< venue's execution time, ns since the Unix epoch (0 = unknown)
  AccountId account = 0;
  InstrumentId instrument = 0;
  UnderlyingId underlying = 0;
  Venue venue = Venue::kNative;
  Side side = Side::kBuy;
  Liquidity liquidity = Liquidity::kUnknown;
  InstrumentKind kind = InstrumentKind::kSpot;
  OptionType option_type = OptionType::kNone;
  RecordKind record = RecordKind::kFill;  //!< a fill, or a venue position record (RecordKind)
  std::int64_t expiry_ns = 0;             //!< futures and options; 0 otherwise
  double strike = 0.0;                    //!< options; 0 otherwise
  double qty = 0.0;                       //!< > 0, in base units of the underlying (BTC, ETH, ...)
  double price = 0.0;                     //!< trade price in the instrument's quote units (BTC premium for
                                          //!< Deribit options, USD for linear and inverse futures)
  double notional_usd = 0.0;              //!< qty × underlying price in USD
  double fee_usd = kNaN;                  //!< fee in USD, positive = paid; NaN when unknown
  double iv = kNaN;                       //!< implied vol as a fraction (0.55 = 55%); NaN when absent
  double underlying_price = kNaN;         //!< index / underlying / forward price in USD; NaN when absent
  double mark_price = kNaN;               //!< instrument mark price, quote units; NaN when absent
  std::uint64_t trade_id = 0;             //!< stable 64-bit hash of the venue trade id (dedup key)

  bool is_option() const { return kind == InstrumentKind::kOption; }
  //! A kPositionsEnd's margin the venue holds against the snapshot's positions, USD; NaN when the
  //! snapshot did not state one (and for every other record).
  double venue_margin_usd() const { return record == RecordKind::kPositionsEnd ? fee_usd : kNaN; }
  bool is_fill() const { return record == RecordKind::kFill; }
};
static_assert(sizeof(Fill) == 112, "the record kind sits in padding: a ring slot stays the same size");

//! A market-data observation: an instrument's trade and/or mark price and its underlying's index
//! price at one time, from a native price record (protocol/README.md) or, later, a venue's public
//! channels. It goes on the price tape (core/price_tape.h) and nowhere else: it is no account's
//! fill, so a markout it prices is counted as priced by market data (core/features.md, #15).
struct PriceRecord {
  std::int64_t recv_ns = 0;   //!< receive time, ns since the Unix epoch (event time in replay)
  std::int64_t venue_ns = 0;  //!< venue's time of the observation (0 = unknown)
  InstrumentId instrument = 0;
  UnderlyingId underlying = 0;
  Venue venue = Venue::kNative;
  double price = kNaN;             //!< last trade price, the instrument's quote units; NaN when absent
  double mark_price = kNaN;        //!< mark price, quote units; NaN when absent
  double underlying_price = kNaN;  //!< the underlying's index price in USD; NaN when absent
  //! The venue's open interest of the instrument: open contracts (each has a long and a short
  //! side), in base units of the underlying as a Fill's qty; NaN when absent.
  double open_interest = kNaN;
};

//! FNV-1a, 64 bit: a stable hash (same value on every run and machine) for trade ids.
constexpr std::uint64_t stable_hash(const char* p, std::size_t n, std::uint64_t h = 14695981039346656037ULL) {
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace segmentd
