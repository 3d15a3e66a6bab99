#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "core/price_tape.h"

using namespace segmentd;

TEST_CASE("price tape: newest across writer rows, never goes back", "[tape]") {
  PriceTape tape(16, 4, 2);
  CHECK_FALSE(tape.instrument(3).has_value());
  tape.record_instrument(0, 3, 100, 10.0);
  tape.record_instrument(1, 3, 200, 20.0);
  CHECK(tape.instrument(3)->price == 20.0);
  tape.record_instrument(0, 3, 300, 30.0);
  CHECK(tape.instrument(3)->price == 30.0);
  tape.record_instrument(0, 3, 250, 25.0);  // older than the row's last: ignored
  CHECK(tape.instrument(3)->price == 30.0);
  CHECK(tape.instrument(3)->ts_ns == 300);
  tape.record_instrument(0, 99, 1, 1.0);
  CHECK(tape.out_of_range() == 1);
}

TEST_CASE("price tape: a fill records its mark price (else trade price) and the index", "[tape]") {
  PriceTape tape(16, 4, 1);
  Fill f;
  f.recv_ns = 5;
  f.instrument = 2;
  f.underlying = 1;
  f.price = 0.01;
  f.mark_price = 0.011;
  f.underlying_price = 50000;
  tape.record(0, f);
  CHECK(tape.instrument(2)->price == 0.011);
  CHECK(tape.index(1)->price == 50000);
  f.recv_ns = 6;
  f.mark_price = kNaN;
  f.underlying_price = kNaN;
  tape.record(0, f);
  CHECK(tape.instrument(2)->price == 0.01);
  CHECK(tape.index(1)->ts_ns == 5);
}

TEST_CASE("price tape: market data holds against fill prints for market_data_hold_ns, then the newer print wins",
          "[tape]") {
  PriceTape tape(16, 4, 2, /*market_data_hold_ns=*/1000);
  PriceRecord md;
  md.instrument = 2;
  md.underlying = 1;
  md.recv_ns = 10'000;
  md.price = 101.0;       // a trade print on the venue's public tape
  md.mark_price = 100.5;  // the mark is what the tape keeps when both are there
  md.underlying_price = 99.0;
  tape.record(1, md);
  REQUIRE(tape.instrument(2).has_value());
  CHECK(tape.instrument(2)->price == 100.5);
  CHECK(tape.instrument(2)->set_by == kMarketData);
  CHECK(tape.index(1)->price == 99.0);

  Fill f;
  f.account = 7;
  f.instrument = 2;
  f.recv_ns = 10'800;  // a fill print 800 ns after the mark: the mark still holds
  f.price = 103.0;
  tape.record(0, f);
  CHECK(tape.instrument(2)->price == 100.5);
  CHECK(tape.fill_price(2)->price == 103.0);
  f.recv_ns = 11'001;  // more than the hold after it: the print is the price now
  f.price = 104.0;
  tape.record(0, f);
  CHECK(tape.instrument(2)->price == 104.0);
  CHECK(tape.instrument(2)->set_by == 7);
  md.recv_ns = 11'000;  // a newer mark within the hold of that print takes over again
  md.price = kNaN;
  md.mark_price = 102.0;
  md.underlying_price = kNaN;
  tape.record(1, md);
  CHECK(tape.instrument(2)->price == 102.0);
  CHECK(tape.market_price(2)->ts_ns == 11'000);
  CHECK(tape.index(1)->price == 99.0);  // no index in that record: unchanged

  // A trade price alone (no mark) is market data too; with no hold, a later print wins at once.
  PriceTape strict(16, 4, 1);
  PriceRecord trade;
  trade.instrument = 3;
  trade.recv_ns = 50;
  trade.price = 7.0;
  strict.record(0, trade);
  CHECK(strict.instrument(3)->price == 7.0);
  CHECK(strict.instrument(3)->set_by == kMarketData);
  f.instrument = 3;
  f.recv_ns = 50;  // same time: market data wins the tie
  f.price = 8.0;
  strict.record(0, f);
  CHECK(strict.instrument(3)->price == 7.0);
  f.recv_ns = 51;
  strict.record(0, f);
  CHECK(strict.instrument(3)->price == 8.0);
  PriceRecord empty;  // nothing to record: no slot changes
  empty.instrument = 4;
  empty.recv_ns = 60;
  strict.record(0, empty);
  CHECK_FALSE(strict.instrument(4).has_value());
}

TEST_CASE("price tape: readers never see a torn slot while writers write [tsan]", "[tape][tsan]") {
  // Each writer owns its row; the price always equals 2·ts, so a torn read would show.
  constexpr int kWriters = 2;
  PriceTape tape(8, 2, kWriters);
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (std::int64_t t = 1; t <= 20000; ++t)
        for (InstrumentId i = 0; i < 8; ++i) tape.record_instrument(w, i, t * kWriters + w, 2.0 * (t * kWriters + w));
    });
  }
  std::atomic<std::int64_t> bad{0}, reads{0};
  std::thread reader([&] {
    std::int64_t last = 0;
    while (!done.load(std::memory_order_acquire)) {
      for (InstrumentId i = 0; i < 8; ++i) {
        if (auto p = tape.instrument(i)) {
          if (p->price != 2.0 * static_cast<double>(p->ts_ns)) bad.fetch_add(1);
          if (i == 0) {
            if (p->ts_ns < last) bad.fetch_add(1);  // newest-of-rows never goes back for one reader
            last = p->ts_ns;
          }
          reads.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
  });
  for (auto& w : writers) w.join();
  done.store(true, std::memory_order_release);
  reader.join();
  CHECK(bad.load() == 0);
  CHECK(tape.instrument(0)->ts_ns == 20000 * kWriters + 1);
}
