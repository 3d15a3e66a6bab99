// The account index: an array over dense ids, in lazily mapped pages. Every id inserted is found
// with its slot, across page boundaries and at the ends of the 32-bit range; ids never inserted,
// in a mapped page or not, are absent; slot 0 is a slot like any other (entries hold slot + 1).

#include <catch2/catch.hpp>

#include <limits>
#include <random>
#include <unordered_map>

#include "core/account_index.h"

using namespace segmentd;

TEST_CASE("account index: finds what was inserted, nothing else", "[account_index]") {
  AccountIndex index;
  CHECK(index.find(0) == AccountIndex::kNoSlot);
  CHECK(index.find(std::numeric_limits<AccountId>::max()) == AccountIndex::kNoSlot);
  index.prefetch(12345);  // no page yet: nothing to load, no fault
  CHECK(index.mapped_bytes() == 0);

  const auto page = static_cast<AccountId>(AccountIndex::kPageIds);
  const AccountId edge_ids[] = {0, 1, page - 1, page, page + 1, 7 * page + 3, std::numeric_limits<AccountId>::max()};
  AccountIndex::Slot slot = 0;
  for (AccountId id : edge_ids) index.insert(id, slot++);
  slot = 0;
  for (AccountId id : edge_ids) {
    index.prefetch(id);
    CHECK(index.find(id) == slot++);
  }
  // Neighbours in mapped pages read as absent; pages in between stay unmapped.
  CHECK(index.find(2) == AccountIndex::kNoSlot);
  CHECK(index.find(page + 2) == AccountIndex::kNoSlot);
  CHECK(index.find(3 * page) == AccountIndex::kNoSlot);
  CHECK(index.find(std::numeric_limits<AccountId>::max() - 1) == AccountIndex::kNoSlot);
  // Pages 0, 1, 7 and the last one: four pages mapped, not the 8,192 the largest id spans.
  CHECK(index.mapped_bytes() >= 4 * AccountIndex::kPageBytes);
  CHECK(index.mapped_bytes() < 5 * AccountIndex::kPageBytes);
}

TEST_CASE("account index: random ids against a hash map, before and after huge-page advice", "[account_index]") {
  AccountIndex index;
  std::unordered_map<AccountId, AccountIndex::Slot> model;
  std::mt19937_64 rng(7);
  for (int round = 0; round < 2; ++round) {
    if (round == 1) index.use_huge_pages();
    for (int i = 0; i < 20000; ++i) {
      // Mostly dense ids (as the interner gives), some anywhere in the 32-bit range.
      const auto id = static_cast<AccountId>(i % 64 == 0 ? rng() : rng() % (3 * AccountIndex::kPageIds));
      if (model.count(id) != 0) continue;
      const auto slot = static_cast<AccountIndex::Slot>(model.size());
      index.insert(id, slot);
      model.emplace(id, slot);
    }
    for (const auto& [id, slot] : model) REQUIRE(index.find(id) == slot);
    for (int i = 0; i < 20000; ++i) {
      const auto id = static_cast<AccountId>(rng());
      const auto it = model.find(id);
      REQUIRE(index.find(id) == (it == model.end() ? AccountIndex::kNoSlot : it->second));
    }
  }
}
