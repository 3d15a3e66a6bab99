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
  //! under RingFullPolicy::kFail); the source counts it.
  virtual bool push(const Fill& fill) = 0;
};

//! Pushes into a ShardSet as producer `producer`. Used by exactly one thread (the source's).
class ShardSetSink final : public FillSink {
 public:
  ShardSetSink(ShardSet& shards, int producer) : shards_(shards), producer_(producer) {}
  bool push(const Fill& fill) override { return shards_.push(producer_, fill); }
  int producer() const { return producer_; }

 private:
  ShardSet& shards_;
  int producer_;
};

}  // namespace segmentd
