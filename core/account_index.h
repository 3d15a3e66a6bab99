#pragma once
// AccountId → slot for one shard's AccountStore, as a plain array. AccountIds are the interner's
// dense ids 0..N−1 (core/account_interner.h), so the entry of an id sits at an address known
// without a probe: a lookup reads one line, and its prefetch waits for no earlier load (a hash
// table reads a control group, then a slot, and the slot's address is known only after the hash).
//
// The array is paged, kPageIds ids (one 2 MiB huge page) a page, mapped anonymously: a page costs
// address space when an id in its range first appears, and memory only where it is touched. An
// entry holds slot + 1, so that the kernel's zero pages read as "absent". The page table grows to
// the largest id seen (at most 8,192 pages for any 32-bit id).
//
// Memory: 4 B per id, up to the largest id the shard has seen. Ids are spread over shards by
// hash (service/shards/shard_set.h), so every shard's array spans all ids: 4·S B per account for S
// shards (8 B at the default 2), against about 19 B per account for the swiss table it replaced.
//
// Ownership: the store's shard thread only, like the store.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/prefetch.h"
#include "core/types.h"

namespace segmentd {

class AccountIndex {
 public:
  using Slot = std::uint32_t;
  static constexpr Slot kNoSlot = ~Slot{0};
  static constexpr int kPageShift = 19;
  static constexpr std::size_t kPageIds = std::size_t{1} << kPageShift;
  static constexpr std::size_t kPageBytes = kPageIds * sizeof(Slot);

  AccountIndex() = default;
  ~AccountIndex();
  AccountIndex(const AccountIndex&) = delete;
  AccountIndex& operator=(const AccountIndex&) = delete;

  //! The account's slot, or kNoSlot.
  Slot find(AccountId account) const {
    const Slot* page = page_of(account);
    return page == nullptr ? kNoSlot : page[account & (kPageIds - 1)] - 1;
  }
  //! Starts loading the account's entry (nothing when its page does not exist yet).
  void prefetch(AccountId account) const {
    if (const Slot* page = page_of(account)) segmentd::prefetch(page + (account & (kPageIds - 1)));
  }
  //! Records the slot of an account not yet in the index. slot < kNoSlot.
  void insert(AccountId account, Slot slot);
  //! From now on every page is on transparent huge pages where the kernel grants them (a large
  //! store: a random lookup should cost no page walk); pages that exist already are moved to
  //! advised mappings. A small store stays on ordinary pages, so that a shard of a few accounts
  //! does not fault in 2 MiB.
  void use_huge_pages();

  //! Bytes of address space mapped for pages (an upper bound of the memory they hold) and the
  //! page table.
  std::size_t mapped_bytes() const;

 private:
  const Slot* page_of(AccountId account) const {
    const std::size_t p = account >> kPageShift;
    return p < pages_.size() ? pages_[p] : nullptr;
  }

  std::vector<Slot*> pages_;  //!< nullptr: no id of that range seen yet
  std::size_t mapped_pages_ = 0;
  bool huge_ = false;
};

}  // namespace segmentd
