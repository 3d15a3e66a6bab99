#include "protocol/venues/trade_dedup.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

namespace segmentd {
namespace {

TEST_CASE("trade_dedup: reports duplicates and ignores id 0", "[dedup]") {
  TradeDedup d(4);
  CHECK(d.insert(10));
  CHECK_FALSE(d.insert(10));
  CHECK(d.contains(10));
  CHECK(d.insert(0));
  CHECK(d.insert(0));  // 0 = "no venue id": never a duplicate
  CHECK_FALSE(d.contains(0));
  CHECK(d.size() == 1);
}

TEST_CASE("trade_dedup: forgets the oldest id when full", "[dedup]") {
  TradeDedup d(3);
  CHECK(d.insert(1));
  CHECK(d.insert(2));
  CHECK(d.insert(3));
  CHECK(d.insert(4));  // evicts 1
  CHECK(d.size() == 3);
  CHECK_FALSE(d.contains(1));
  CHECK(d.contains(2));
  CHECK(d.contains(4));
  CHECK(d.insert(1));  // seen again after it was forgotten: new
  CHECK_FALSE(d.contains(2));
}

TEST_CASE("trade_dedup: matches a reference window under random ids with collisions", "[dedup]") {
  // Ids from a small range force long probe runs and many evictions through them.
  constexpr std::size_t kCapacity = 100;
  TradeDedup d(kCapacity);
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> window;  // reference: the last kCapacity distinct inserted ids
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t id = 1 + rng() % 300;
    const bool in_window = std::find(window.begin(), window.end(), id) != window.end();
    REQUIRE(d.insert(id) == !in_window);
    if (!in_window) {
      window.push_back(id);
      if (window.size() > kCapacity) window.erase(window.begin());
    }
    REQUIRE(d.size() == window.size());
  }
  for (std::uint64_t id = 1; id <= 300; ++id) {
    CHECK(d.contains(id) == (std::find(window.begin(), window.end(), id) != window.end()));
  }
  d.clear();
  CHECK(d.size() == 0);
  CHECK_FALSE(d.contains(window.back()));
}

TEST_CASE("trade_dedup: the ids oldest first rebuild the same window, before and after it wraps", "[dedup]") {
  for (std::uint64_t n : {0u, 3u, 8u, 13u, 21u}) {
    TradeDedup a(8);
    for (std::uint64_t id = 1; id <= n; ++id) a.insert(id * 7919);
    const std::vector<std::uint64_t> ids = a.ids_oldest_first();
    REQUIRE(ids.size() == std::min<std::uint64_t>(n, 8));
    for (std::size_t k = 0; k < ids.size(); ++k) CHECK(ids[k] == (n - ids.size() + 1 + k) * 7919);
    TradeDedup b(8);
    for (std::uint64_t id : ids) CHECK(b.insert(id));
    CHECK(b.ids_oldest_first() == ids);
    // Both forget the same id next.
    a.insert(999'983);
    b.insert(999'983);
    CHECK(a.ids_oldest_first() == b.ids_oldest_first());
  }
}

}  // namespace
}  // namespace segmentd
