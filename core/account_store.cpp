#include "core/account_store.h"

namespace segmentd {

AccountStore::AccountStore(const FeatureParams& params) : params_(params) {}

AccountRef AccountStore::ref(Slot slot) {
  Block& b = block(slot);
  const std::size_t i = slot % kBlockAccounts;
  const auto np = static_cast<std::size_t>(params_.max_positions);
  const auto nm = static_cast<std::size_t>(params_.markout_slots);
  return AccountRef{&b.cores[i], std::span<Position>(&b.positions[i * np], np),
                    std::span<PendingMarkout>(&b.markouts[i * nm], nm)};
}

AccountStore::Slot AccountStore::create(AccountId account) {
  const Slot slot = static_cast<Slot>(size_);
  if (slot / kBlockAccounts == blocks_.size()) {
    Block b;
    b.cores = std::make_unique<AccountCore[]>(kBlockAccounts);
    b.positions = std::make_unique<Position[]>(kBlockAccounts * static_cast<std::size_t>(params_.max_positions));
    b.markouts = std::make_unique<PendingMarkout[]>(kBlockAccounts * static_cast<std::size_t>(params_.markout_slots));
    blocks_.push_back(std::move(b));
  }
  ++size_;
  block(slot).cores[slot % kBlockAccounts].account = account;
  return slot;
}

AccountStore::Slot AccountStore::apply(const Fill& fill) {
  auto [it, inserted] = index_.try_emplace(fill.account, Slot{0});
  if (inserted) it->second = create(fill.account);
  const Slot slot = it->second;
  AccountRef a = ref(slot);
  if (apply_fill(params_, a, fill, &stats_) && !(a.core->flags & AccountCore::kInPendingList)) {
    a.core->flags |= AccountCore::kInPendingList;
    pending_.push_back(slot);
  }
  return slot;
}

std::optional<AccountStore::Slot> AccountStore::find(AccountId account) const {
  auto it = index_.find(account);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

FeatureVector AccountStore::features(Slot slot) const { return compute_features(params_, core(slot), positions(slot)); }

std::span<const Position> AccountStore::positions(Slot slot) const {
  const Block& b = block(slot);
  const auto np = static_cast<std::size_t>(params_.max_positions);
  const std::size_t i = slot % kBlockAccounts;
  return std::span<const Position>(&b.positions[i * np], b.cores[i].positions);
}

std::vector<PendingMarkout> AccountStore::pending_markouts(Slot slot) const {
  const Block& b = block(slot);
  const std::size_t i = slot % kBlockAccounts;
  const AccountCore& c = b.cores[i];
  const auto nm = static_cast<std::size_t>(params_.markout_slots);
  std::vector<PendingMarkout> out;
  for (int k = 0; k < c.markout_count; ++k) out.push_back(b.markouts[i * nm + (c.markout_head + k) % nm]);
  return out;
}

std::size_t AccountStore::bytes_per_account_state() const {
  return sizeof(AccountCore) + static_cast<std::size_t>(params_.max_positions) * sizeof(Position) +
         static_cast<std::size_t>(params_.markout_slots) * sizeof(PendingMarkout);
}

std::size_t AccountStore::memory_bytes() const {
  // Abseil's swiss table: one control byte plus one slot per bucket (plus a group of cloned
  // control bytes, negligible).
  const std::size_t index_bytes = index_.bucket_count() * (sizeof(std::pair<const AccountId, Slot>) + 1);
  return blocks_.size() * kBlockAccounts * bytes_per_account_state() + index_bytes +
         pending_.capacity() * sizeof(Slot) + blocks_.capacity() * sizeof(Block);
}

}  // namespace segmentd
