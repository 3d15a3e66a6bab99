// The clusterer loop's part of a checkpoint: the open mini-batch (vectors handed over but not yet
// in a batch) is taken with the clusterer's state, and a loop restored from it closes that batch
// as the stopped one would have.
#include <catch2/catch.hpp>

#include <vector>

#include "service/clustering/clusterer_loop.h"

using namespace segmentd;

namespace {

ClustererLoopOptions options_with_open_batches() {
  ClustererLoopOptions o;
  o.shards = 1;
  o.config.batch_size = 1'000'000;                   // never full...
  o.config.batch_interval_ns = 3'600'000'000'000LL;  // ...and never due: a batch closes only at stop()
  o.config.min_accounts = 10;
  o.config.min_fills = 1;
  return o;
}

TouchedAccount vector_of(AccountId account, std::uint64_t fills, double base) {
  TouchedAccount t;
  t.account = account;
  t.fills = fills;
  t.as_of_ns = 1'700'000'000'000'000'000LL + static_cast<std::int64_t>(fills);
  for (int j = 0; j < kFeatureCount; ++j) t.raw[static_cast<std::size_t>(j)] = base + j;
  return t;
}

}  // namespace

TEST_CASE("clusterer loop: a checkpoint carries the open mini-batch and a restored loop closes it",
          "[clustering][checkpoint][tsan]") {
  ClustererLoop first(options_with_open_batches());
  first.start();
  const std::vector<TouchedAccount> handed = {vector_of(9, 3, 90.0), vector_of(2, 1, 20.0), vector_of(5, 4, 50.0)};
  first.offer(0, handed);
  // Account 5 again, later: its latest vector is the one kept.
  const std::vector<TouchedAccount> later = {vector_of(5, 6, 55.0)};
  first.offer(0, later);
  const ClustererLoopState taken = first.request_state().get();
  REQUIRE(taken.open_batch.size() == 3);
  CHECK(taken.open_batch[0].account == 2);  // by account id
  CHECK(taken.open_batch[1].account == 5);
  CHECK(taken.open_batch[2].account == 9);
  CHECK(taken.open_batch[1].fills == 6);
  CHECK(taken.open_batch[1].raw[0] == 55.0);
  CHECK(taken.open_batch[2].raw[kFeatureCount - 1] == 90.0 + kFeatureCount - 1);
  CHECK(first.batches() == 0);  // still open when taken
  first.stop();
  CHECK(first.batches() == 1);  // stop() closes it

  // A loop restored from what was taken holds the same open batch, and closes it in turn.
  ClustererLoop second(options_with_open_batches());
  second.restore(taken.clusterer, taken.model, taken.open_batch);
  const ClustererLoopState again = second.request_state().get();  // before start(): at once
  REQUIRE(again.open_batch.size() == taken.open_batch.size());
  for (std::size_t i = 0; i < again.open_batch.size(); ++i) {
    CHECK(again.open_batch[i].account == taken.open_batch[i].account);
    CHECK(again.open_batch[i].fills == taken.open_batch[i].fills);
    CHECK(again.open_batch[i].as_of_ns == taken.open_batch[i].as_of_ns);
    CHECK(again.open_batch[i].raw == taken.open_batch[i].raw);
  }
  second.start();
  second.stop();
  CHECK(second.batches() == 1);
  CHECK(second.request_state().get().open_batch.empty());

  // Restored with no open batch, a loop has nothing to close.
  ClustererLoop third(options_with_open_batches());
  third.restore(taken.clusterer, taken.model);
  third.start();
  third.stop();
  CHECK(third.batches() == 0);
}
