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
  if (full && key > entries_[max_pos_].key) return;
  if (auto it = index_.find(account); it != index_.end()) {
    SampleEntry& e = entries_[it->second];
    e.raw = raw;
    e.seen_ns = ts_ns;
    return;
  }
  SampleEntry e{account, key, ts_ns, raw, kNoSegment};
  if (!full) {
    index_[account] = static_cast<std::uint32_t>(entries_.size());
    entries_.push_back(e);
    if (entries_.size() == 1 || key > entries_[max_pos_].key) max_pos_ = entries_.size() - 1;
    return;
  }
  index_.erase(entries_[max_pos_].account);
  index_[account] = static_cast<std::uint32_t>(max_pos_);
  entries_[max_pos_] = e;
  refresh_max();
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
  const double max_key = static_cast<double>(entries_[max_pos_].key) * 0x1.0p-64;
  return max_key > 0.0 ? static_cast<double>(capacity_ - 1) / max_key : static_cast<double>(entries_.size());
}

void AccountSample::rebuild_index() {
  index_.clear();
  index_.reserve(entries_.size());
  for (std::size_t i = 0; i < entries_.size(); ++i) index_[entries_[i].account] = static_cast<std::uint32_t>(i);
  refresh_max();
}

void AccountSample::refresh_max() {
  max_pos_ = 0;
  for (std::size_t i = 1; i < entries_.size(); ++i)
    if (entries_[i].key > entries_[max_pos_].key) max_pos_ = i;
}

}  // namespace segmentd
