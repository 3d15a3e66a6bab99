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
