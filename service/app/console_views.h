#pragma once
// What the console (service/admin/console/, docs/console.md) reads beyond /v1/segments and
// /v1/accounts: the state behind GET /v1/overview and GET /v1/map that is nobody else's.
//
//   - Segment sizes over time: a bounded history, one entry per model version whose sizes changed
//     (sizes are counted at each quality evaluation), at most one per `history_spacing` of event
//     time, the last `history_capacity` kept. Written by the clusterer thread (on_model).
//   - The map's projection (core/projection.h): fitted on the model's population sample, kept
//     until the model's scaler changes, then refitted and aligned to the previous one.
//   - Fills per second: the delivered-fills total between two reads at least a second apart.
//
// Thread-safe: one mutex, held briefly by the clusterer thread and the admin thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "core/account_interner.h"
#include "core/model.h"
#include "core/projection.h"
#include "protocol/publisher/admin_messages.h"

namespace segmentd {

class ConsoleViews {
 public:
  explicit ConsoleViews(const AccountInterner& names, std::size_t history_capacity = 360,
                        std::int64_t history_spacing_ns = 60'000'000'000);

  //! Every new model version (clusterer thread).
  void on_model(const ModelPtr& model);
  //! The size history, oldest first.
  std::vector<SizeHistoryEntry> history() const;
  //! The delivered-fills total now → fills per second since the read before it (at least 1 s
  //! earlier); < 0 until two such reads exist.
  double fills_per_second(std::uint64_t fills_total);
  //! The map of `model`'s population sample (empty before the first quality evaluation).
  MapView map(const ModelPtr& model);

 private:
  const AccountInterner& names_;
  std::size_t history_capacity_;
  std::int64_t history_spacing_ns_;
  mutable std::mutex mu_;
  std::deque<SizeHistoryEntry> history_;  // guarded by mu_
  // The fills-per-second meter (guarded by mu_): the last read and the one before it that was
  // at least a second older.
  std::chrono::steady_clock::time_point rate_at_{};
  std::uint64_t rate_total_ = 0;
  double rate_ = -1.0;
  // The projection (guarded by mu_).
  Projection2D projection_;
  std::uint64_t projection_scaler_ = 0;
  std::uint64_t projection_version_ = 0;
};

}  // namespace segmentd
