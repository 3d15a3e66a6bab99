#pragma once
// Where a source puts the fills it decodes. The live service hands each source a ShardSetSink
// bound to that source's own producer index (ShardSet rings are single-producer: one index per
// thread that pushes); tests hand a collecting sink.

#include "core/fill.h"
#include "service/shards/shard_set.h"

namespace segmentd {

class FillSink {
 public:
  virtual ~FillSink() = default;
  //! Called from the owning source's thread only. False when the fill was refused (a full ring
  //! under RingFullPolicy::kFail); the source counts it. A venue position record
  //! (Fill::record, core/fill.h) goes the same way, in order with the account's fills; it is
  //! no trade, so nothing that counts or prices trades sees it.
  virtual bool push(const Fill& fill) = 0;
  //! A market-data observation for the price tape (no shard sees it). Same thread and units as
  //! push. False when refused (a sink without a tape); the source counts it.
  virtual bool push_price(const PriceRecord& price) = 0;
  //! A unit: pushes that a checkpoint must not split, with the source's position update that goes
  //! with them (one message's fills and the trade id after them; one line and the offset after
  //! it). The live service's sink pauses a source only between units, so a checkpoint holds a
  //! message wholly or not at all and the source's saved position matches it exactly. Units do
  //! not nest across sinks; a push outside a unit is a unit of its own. Use UnitGuard.
  virtual void begin_unit() {}
  virtual void end_unit() {}
};

//! Scope of a unit (FillSink::begin_unit).
class UnitGuard {
 public:
  explicit UnitGuard(FillSink& sink) : sink_(sink) { sink_.begin_unit(); }
  ~UnitGuard() { sink_.end_unit(); }
  UnitGuard(const UnitGuard&) = delete;
  UnitGuard& operator=(const UnitGuard&) = delete;

 private:
  FillSink& sink_;
};

//! Pushes into a ShardSet as producer `producer`. Used by exactly one thread (the source's).
class ShardSetSink final : public FillSink {
 public:
  ShardSetSink(ShardSet& shards, int producer) : shards_(shards), producer_(producer) {}
  bool push(const Fill& fill) override { return shards_.push(producer_, fill); }
  //! No price tape behind it: market data is refused (counted by the source).
  bool push_price(const PriceRecord&) override { return false; }
  int producer() const { return producer_; }

 private:
  ShardSet& shards_;
  int producer_;
};

}  // namespace segmentd
