#include "core/account_sample.h"

#include <algorithm>

#include "core/rng.h"

namespace segmentd {

AccountSample::AccountSample(std::size_t capacity, std::uint64_t seed)
    : capacity_(std::max<std::size_t>(capacity, 1)), seed_(seed) {}

AccountSample::AccountSample(std::size_t capacity, std::uint64_t seed, std::vector<SampleEntry> entries)
    : capacity_(std::max<std::size_t>(capacity, 1)), seed_(seed), entries_(std::move(entries)) {
  rebuild_index();
}

void AccountSample::offer(AccountId account, const FeatureVector& raw, std::int64_t ts_ns) {
  const std::uint64_t key = mix64(account, seed_);
  const bool full = entries_.size() >= capacity_;
  // Fast reject: an account with a key above the current maximum cannot be in a full sample.
  if (full && key > heap_.front().first) return;
  if (auto it = index_.find(account); it != index_.end()) {
    SampleEntry& e = entries_[it->second];
    e.raw = raw;
    e.seen_ns = ts_ns;
    return;
  }
  SampleEntry e{account, key, ts_ns, raw, kNoSegment};
  std::uint32_t slot;
  if (!full) {
    slot = static_cast<std::uint32_t>(entries_.size());
    entries_.push_back(e);
  } else {
    // Evict the largest key; the newcomer takes its slot.
    std::pop_heap(heap_.begin(), heap_.end());
    slot = heap_.back().second;
    heap_.pop_back();
    index_.erase(entries_[slot].account);
    entries_[slot] = e;
  }
  index_[account] = slot;
  heap_.emplace_back(key, slot);
  std::push_heap(heap_.begin(), heap_.end());
}

void AccountSample::expire_before(std::int64_t cutoff_ns) {
  const auto end = std::remove_if(entries_.begin(), entries_.end(),
                                  [cutoff_ns](const SampleEntry& e) { return e.seen_ns < cutoff_ns; });
  if (end == entries_.end()) return;
  entries_.erase(end, entries_.end());
  rebuild_index();
}

double AccountSample::estimated_population() const {
  if (entries_.size() < capacity_ || capacity_ < 2) return static_cast<double>(entries_.size());
  const double max_key = static_cast<double>(heap_.front().first) * 0x1.0p-64;
  return max_key > 0.0 ? static_cast<double>(capacity_ - 1) / max_key : static_cast<double>(entries_.size());
}

void AccountSample::rebuild_index() {
  index_.clear();
  index_.reserve(entries_.size());
  heap_.clear();
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    index_[entries_[i].account] = static_cast<std::uint32_t>(i);
    heap_.emplace_back(entries_[i].key, static_cast<std::uint32_t>(i));
  }
  std::make_heap(heap_.begin(), heap_.end());
}

}  // namespace segmentd
