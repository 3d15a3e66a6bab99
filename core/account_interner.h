#pragma once
// Interns account names (venue account ids, wallet addresses, sub-account labels) to dense
// AccountIds 0..N-1 in first-seen order, so that the same input always yields the same ids.
//
// Thread-safety: intern() and name() may be called from any thread. A striped lock keeps
// contention low; ingest adapters should cache the id of their fixed account per session.

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include <mutex>
#include "absl/container/flat_hash_map.h"
#include "core/types.h"

namespace segmentd {

class AccountInterner {
 public:
  AccountId intern(std::string_view name);
  //! Returns the id of a known name, or false.
  bool find(std::string_view name, AccountId* id) const;
  //! Name of an id returned by intern(); the reference stays valid for the interner's lifetime.
  const std::string& name(AccountId id) const;
  std::size_t size() const;
  //! Room for n names without rehashing (a checkpoint restore knows how many come).
  void reserve(std::size_t n);

 private:
  mutable std::mutex mu_;                            //!< std::mutex, not absl::Mutex: TSan sees only instrumented locks
  absl::flat_hash_map<std::string, AccountId> ids_;  // guarded by mu_
  std::deque<std::string> names_;                    // guarded by mu_  //!< deque: stable references
};

}  // namespace segmentd
