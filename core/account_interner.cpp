#include "core/account_interner.h"

namespace segmentd {

AccountId AccountInterner::intern(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  // Look up before inserting: the common case (a known account) must not allocate.
  auto it = ids_.find(absl::string_view(name.data(), name.size()));
  if (it != ids_.end()) return it->second;
  auto id = static_cast<AccountId>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(std::string(name), id);
  return id;
}

bool AccountInterner::find(std::string_view name, AccountId* id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ids_.find(absl::string_view(name.data(), name.size()));
  if (it == ids_.end()) return false;
  *id = it->second;
  return true;
}

const std::string& AccountInterner::name(AccountId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return names_.at(id);
}

void AccountInterner::reserve(std::size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  ids_.reserve(n);
}

std::size_t AccountInterner::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return names_.size();
}

}  // namespace segmentd
