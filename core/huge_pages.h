#pragma once
// Memory for large, randomly accessed tables (the account store's blocks and its index): 2 MiB
// aligned and advised for transparent huge pages (MADV_HUGEPAGE; THP runs in `madvise` mode on
// our hosts), so that a random access over gigabytes costs no page walk. Pages are faulted in
// only when first touched. Advice is only advice: where it is refused, ordinary pages are used.

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace segmentd {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

//! bytes rounded up to whole huge pages.
inline constexpr std::size_t huge_page_round(std::size_t bytes) {
  return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
}

//! Advises [p, p + bytes) for huge pages; p and bytes multiples of kHugePageBytes.
inline void advise_huge_pages(void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  (void)madvise(p, bytes, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

//! huge_page_round(bytes) bytes, 2 MiB aligned, uninitialized; advised for huge pages when
//! `advise`. Free with std::free. Throws std::bad_alloc.
inline void* allocate_huge_aligned(std::size_t bytes, bool advise) {
  const std::size_t size = huge_page_round(bytes);
  void* p = std::aligned_alloc(kHugePageBytes, size);
  if (p == nullptr) throw std::bad_alloc();
  if (advise) advise_huge_pages(p, size);
  return p;
}

//! A standard allocator that serves requests of at least one huge page from
//! allocate_huge_aligned (advised) and smaller ones from std::allocator. Stateless.
template <class T>
struct HugePageAllocator {
  using value_type = T;  // NOLINT(readability-identifier-naming): the Allocator requirements' name
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT(google-explicit-constructor)

  T* allocate(std::size_t n) {
    if (n * sizeof(T) < kHugePageBytes) return std::allocator<T>{}.allocate(n);
    return static_cast<T*>(allocate_huge_aligned(n * sizeof(T), true));
  }
  void deallocate(T* p, std::size_t n) {
    if (n * sizeof(T) < kHugePageBytes)
      std::allocator<T>{}.deallocate(p, n);
    else
      std::free(p);
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace segmentd
