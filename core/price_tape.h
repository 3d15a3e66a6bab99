#pragma once
// The price tape (core/features.md): the latest price of every instrument (trade or mark, in the
// instrument's quote units) and of every underlying index (USD), shared by all shards.
//
// Ownership: the tape has one row per writer and every slot of a row has exactly one writer
// thread — the ingest thread (producer) of that row. Producers record a fill into the tape
// *before* they push it into a shard ring, so a shard that pops a fill from producer p's ring
// sees every price p recorded before it (release/acquire through the ring). Writing from the
// ingest side rather than from the shards is what makes replay deterministic: with one producer
// the tape's contents at any point of the input do not depend on shard count or thread timing.
//
// Readers (any thread, typically shards resolving markouts) are lock-free: each slot is a
// seqlock, and a read returns the newest observation across the writer rows (ties go to the
// lower row, so the answer does not depend on timing once the writes are done).
//
// Out-of-order observations (ts older than the slot's) are ignored: the tape never goes back.
//
// Market data (PriceRecord: a venue's or a feed's trade, mark and index prices) has slots of its
// own beside the fills' prices. An instrument's price is its market-data price while that is no
// more than `market_data_hold_ns` older than the newest fill print, else the newest fill print: a
// mark price does not bounce between bid and ask as a fill does, so a fill printed a moment later
// does not displace it (core/features.md, #15).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/fill.h"
#include "core/types.h"

namespace segmentd {

//! TapePrice::set_by of a price no account's fill set.
inline constexpr AccountId kMarketData = ~AccountId{0};

struct TapePrice {
  std::int64_t ts_ns = 0;
  double price = 0.0;
  //! Whose fill set the price (its account), or kMarketData: a price from market data, or one
  //! restored from a checkpoint (whose setter is not saved).
  AccountId set_by = kMarketData;
};

class PriceTape {
 public:
  //! Instrument ids >= instruments and underlying ids >= underlyings are not recorded (counted).
  PriceTape(std::size_t instruments, std::size_t underlyings, int writers, std::int64_t market_data_hold_ns = 0);
  PriceTape(const PriceTape&) = delete;
  PriceTape& operator=(const PriceTape&) = delete;

  // Writer `writer`'s thread only.
  //! The instrument's price from a fill: its mark price when the venue sent one (no bid/ask
  //! bounce), else its trade price; the underlying's index price when present.
  void record(int writer, const Fill& fill);
  //! Market data: the instrument's mark price when present, else its trade price, set by
  //! kMarketData; the underlying's index price when present.
  void record(int writer, const PriceRecord& observed);
  //! set_by: the account whose fill it is, kMarketData for market data.
  void record_instrument(int writer, InstrumentId id, std::int64_t ts_ns, double price, AccountId set_by = kMarketData);
  void record_index(int writer, UnderlyingId id, std::int64_t ts_ns, double usd);
  //! A market-data price of the instrument (record(PriceRecord) and checkpoint restores).
  void record_market(int writer, InstrumentId id, std::int64_t ts_ns, double price);

  // Any thread.
  //! The instrument's price: market data while it holds (see above), else the newest fill print.
  std::optional<TapePrice> instrument(InstrumentId id) const;
  //! Each kind alone (checkpoints save both).
  std::optional<TapePrice> fill_price(InstrumentId id) const;
  std::optional<TapePrice> market_price(InstrumentId id) const;
  std::optional<TapePrice> index(UnderlyingId id) const;
  //! Observations not recorded because their id was beyond the tape's capacity.
  std::uint64_t out_of_range() const { return out_of_range_.load(std::memory_order_relaxed); }

  std::size_t instrument_capacity() const { return instruments_; }
  std::size_t underlying_capacity() const { return underlyings_; }
  int writers() const { return writers_; }
  std::int64_t market_data_hold_ns() const { return hold_ns_; }

 private:
  struct Slot {
    std::atomic<std::uint64_t> seq{0};  //!< odd while a write is in progress
    std::atomic<std::int64_t> ts_ns{0};
    std::atomic<double> price{0.0};
    std::atomic<AccountId> set_by{kMarketData};
  };
  void write(Slot& s, std::int64_t ts_ns, double price, AccountId set_by = kMarketData);
  static std::optional<TapePrice> read(const Slot& s);
  std::optional<TapePrice> newest(const Slot* rows, std::size_t stride, std::size_t id) const;

  std::size_t instruments_;
  std::size_t underlyings_;
  int writers_;
  std::int64_t hold_ns_;
  std::unique_ptr<Slot[]> prices_;   //!< writers_ rows of instruments_ slots, row-major: fill prints
  std::unique_ptr<Slot[]> market_;   //!< the same shape: market data
  std::unique_ptr<Slot[]> indices_;  //!< writers_ rows of underlyings_ slots
  std::atomic<std::uint64_t> out_of_range_{0};
};

}  // namespace segmentd
