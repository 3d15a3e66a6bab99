#pragma once
// Software prefetch that the optimizer cannot delete.
//
// GCC 12's IPA mod-ref analysis counts __builtin_prefetch as no effect at all: a function whose
// only work is prefetching (AccountStore::prefetch_state, AccountIndex::prefetch) is summarised as
// having no side effects, and a call to it whose result is unused is deleted unless it was
// inlined first. In the -O3 release build that had deleted the third stage of
// AccountStore::apply_burst (the fill's position line and markout slot were never prefetched:
// 4 prefetch instructions in the benchmark's burst loop, 10 with this), and, once prefetch_core
// grew by a line, the core stage too (2 left). -fno-ipa-modref keeps them, which confirms the
// cause (bench/README.md, issue 3). An asm volatile statement is an effect no pass removes, so a
// prefetch written with these is kept wherever it is written; a prefetch never faults, whatever
// the address.

namespace segmentd {

//! Brings the line holding p into every cache level (prefetcht0): for data about to be read or
//! written.
[[gnu::always_inline]] inline void prefetch(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 1, 3);
  asm volatile("" : : "r"(p));
#endif
}

}  // namespace segmentd
