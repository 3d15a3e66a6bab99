#include "core/account_sample.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "core/rng.h"

using namespace segmentd;

namespace {
std::set<AccountId> members(const AccountSample& s) {
  std::set<AccountId> out;
  for (const auto& e : s.entries()) out.insert(e.account);
  return out;
}
}  // namespace

TEST_CASE("the sample keeps the accounts with the smallest keys, whatever the order", "[account_sample]") {
  std::vector<AccountId> accounts(5000);
  for (AccountId i = 0; i < accounts.size(); ++i) accounts[i] = i;
  AccountSample forward(100, 7), shuffled(100, 7);
  for (AccountId a : accounts) forward.offer(a, FeatureVector{}, 1);
  Rng rng(1);
  for (std::size_t i = accounts.size(); i > 1; --i) std::swap(accounts[i - 1], accounts[rng.below(i)]);
  for (AccountId a : accounts) {
    shuffled.offer(a, FeatureVector{}, 1);
    shuffled.offer(a, FeatureVector{}, 2);  // repeated offers refresh, never duplicate
  }
  CHECK(forward.size() == 100);
  CHECK(members(forward) == members(shuffled));
  std::vector<std::uint64_t> keys;
  for (AccountId a = 0; a < 5000; ++a) keys.push_back(mix64(a, 7));
  std::sort(keys.begin(), keys.end());
  for (const auto& e : forward.entries()) CHECK(e.key <= keys[99]);
  // Bottom-k estimate of the population: within ~3 standard errors (1/sqrt(k) = 10%).
  CHECK(forward.estimated_population() == Approx(5000).epsilon(0.3));
}

TEST_CASE("entries refresh with the latest vector and expire when stale", "[account_sample]") {
  AccountSample s(10, 1);
  FeatureVector v{};
  s.offer(1, v, 100);
  v[0] = 5.0;
  s.offer(1, v, 200);
  s.offer(2, v, 50);
  REQUIRE(s.size() == 2);
  CHECK(s.estimated_population() == 2.0);
  s.expire_before(150);
  REQUIRE(s.size() == 1);
  CHECK(s.entries()[0].account == 1);
  CHECK(s.entries()[0].raw[0] == 5.0);
  CHECK(s.entries()[0].seen_ns == 200);
  s.offer(2, v, 300);  // room again after expiry
  CHECK(s.size() == 2);
}
