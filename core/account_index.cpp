#include "core/account_index.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <new>

#include "core/huge_pages.h"

namespace segmentd {
namespace {

//! kPageBytes of zeroed anonymous memory, aligned to a huge page (so that the kernel can back it
//! with one when advised): map one page more than needed, then unmap the unaligned ends.
void* map_page(std::size_t bytes) {
  const std::size_t span = bytes + kHugePageBytes;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto begin = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (begin + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  if (aligned > begin) munmap(raw, aligned - begin);
  const std::uintptr_t end = begin + span;
  if (end > aligned + bytes) munmap(reinterpret_cast<void*>(aligned + bytes), end - (aligned + bytes));
  return reinterpret_cast<void*>(aligned);
}

}  // namespace

static_assert(AccountIndex::kPageBytes % kHugePageBytes == 0);

AccountIndex::~AccountIndex() {
  for (Slot* page : pages_)
    if (page != nullptr) munmap(page, kPageBytes);
}

void AccountIndex::insert(AccountId account, Slot slot) {
  const std::size_t p = account >> kPageShift;
  if (p >= pages_.size()) pages_.resize(p + 1, nullptr);
  if (pages_[p] == nullptr) {
    pages_[p] = static_cast<Slot*>(map_page(kPageBytes));
    ++mapped_pages_;
    if (huge_) advise_huge_pages(pages_[p], kPageBytes);
  }
  pages_[p][account & (kPageIds - 1)] = slot + 1;
}

void AccountIndex::use_huge_pages() {
  if (huge_) return;
  huge_ = true;
  // Advice on a page already faulted in with ordinary pages does not convert it (only the
  // background khugepaged might, some time later), so each existing page moves to a fresh,
  // advised mapping: at most 2 MiB copied per page, once.
  for (Slot*& page : pages_) {
    if (page == nullptr) continue;
    auto* fresh = static_cast<Slot*>(map_page(kPageBytes));
    advise_huge_pages(fresh, kPageBytes);
    std::memcpy(fresh, page, kPageBytes);
    munmap(page, kPageBytes);
    page = fresh;
  }
}

std::size_t AccountIndex::mapped_bytes() const {
  return mapped_pages_ * kPageBytes + pages_.capacity() * sizeof(Slot*);
}

}  // namespace segmentd
