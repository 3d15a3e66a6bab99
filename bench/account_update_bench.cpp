// SEGMENTD_BENCH_OWN_MAIN: prints the memory per account before running the benchmarks.
//
// Account updates per second (one shard thread's work per fill: index lookup, lazy decay,
// position and greeks, pending markout) on one hot account and on 1,000,000 accounts in random
// order, and the memory per account of a store holding 1,000,000 accounts.
//
//   build/features/bench/account_update_bench --benchmark_min_time=1 [--no_thp]

#include <benchmark/benchmark.h>

#include <sys/prctl.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/account_store.h"
#include "core/huge_pages.h"
#include "core/price_tape.h"
#include "core/scenario.h"
#include "core/segment_exposure.h"

using namespace segmentd;

namespace {

constexpr std::int64_t kT0 = 1'735'000'000LL * 1'000'000'000;
constexpr std::int64_t kDay = 86400LL * 1'000'000'000;
constexpr AccountId kAccounts = 1'000'000;

Fill base_fill(AccountId acct, std::int64_t t, std::uint64_t r) {
  Fill f;
  f.recv_ns = t;
  f.account = acct;
  f.instrument = static_cast<InstrumentId>(r % 4);
  f.underlying = static_cast<UnderlyingId>(r % 2);
  f.kind = InstrumentKind::kPerpetual;
  f.side = (r >> 8) & 1 ? Side::kBuy : Side::kSell;
  f.liquidity = (r >> 9) & 1 ? Liquidity::kMaker : Liquidity::kTaker;
  f.qty = 0.01 * static_cast<double>(1 + (r >> 10) % 100);
  f.price = 95000.0 + static_cast<double>((r >> 20) % 100);
  f.notional_usd = f.qty * f.price;
  return f;
}

//! A realistic mix: 1 fill in 4 is an option with an implied vol (Black-76 on the hot path).
Fill mixed_fill(AccountId acct, std::int64_t t, std::uint64_t r) {
  Fill f = base_fill(acct, t, r);
  if ((r >> 30) % 4 == 0) {
    f.kind = InstrumentKind::kOption;
    f.instrument = static_cast<InstrumentId>(10 + (r >> 32) % 4);
    f.option_type = (r >> 34) & 1 ? OptionType::kCall : OptionType::kPut;
    f.strike = 80000.0 + 5000.0 * static_cast<double>((r >> 36) % 8);
    f.expiry_ns = kT0 + 30 * kDay;
    f.iv = 0.5;
    f.underlying_price = f.price;
    f.price = 0.02;
  }
  return f;
}

std::vector<Fill> make_fills(std::size_t n, AccountId accounts, bool mixed, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Fill> fills(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto acct = static_cast<AccountId>(rng() % accounts);
    const std::uint64_t r = rng();
    // Event time advances 1 µs per fill: a 1M fills/s stream.
    const std::int64_t t = kT0 + static_cast<std::int64_t>(i) * 1000;
    fills[i] = mixed ? mixed_fill(acct, t, r) : base_fill(acct, t, r);
  }
  return fills;
}

//! The fills of the burst benchmarks as the shard receives them: the fill bodies (instrument,
//! side, size, ...) from a table of kBodies that stays in cache, the account of fill i from a
//! stream of random ids (4 B a fill), its time 1 µs after fill i − 1. The shard reads fills from
//! its ring, a few KiB the ingest thread has just written, not from memory: a 4M-fill array of
//! whole fills (112 B each, streamed from DRAM) would add ~1.75 lines of memory traffic per fill
//! to what is measured (bench/README.md, issue 3).
struct FillStream {
  static constexpr std::size_t kBodies = 4096;
  std::vector<Fill> bodies;
  std::vector<AccountId> accounts;
  std::size_t size() const { return accounts.size(); }
  Fill at(std::size_t i, std::int64_t shift) const {
    Fill f = bodies[i & (kBodies - 1)];
    f.account = accounts[i];
    f.recv_ns = kT0 + static_cast<std::int64_t>(i) * 1000 + shift;
    return f;
  }
};

FillStream make_stream(std::size_t n, AccountId accounts, bool mixed, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  FillStream s;
  s.bodies.resize(FillStream::kBodies);
  for (Fill& f : s.bodies) {
    const std::uint64_t r = rng();
    f = mixed ? mixed_fill(0, kT0, r) : base_fill(0, kT0, r);
  }
  s.accounts.resize(n);
  for (AccountId& a : s.accounts) a = static_cast<AccountId>(rng() % accounts);
  return s;
}

//! Runs fills through a store the way a shard does, with markouts resolving at 1 s ticks.
void run_updates(benchmark::State& state, AccountStore& store, const PriceTape& tape, const std::vector<Fill>& fills,
                 std::int64_t& shift) {
  std::size_t i = 0;
  std::int64_t next_tick = 0;
  for (auto _ : state) {
    Fill f = fills[i];
    f.recv_ns += shift;
    benchmark::DoNotOptimize(store.apply(f));
    if (f.recv_ns >= next_tick) {
      store.resolve_markouts(f.recv_ns, tape, [](AccountStore::Slot) {});
      next_tick = f.recv_ns + 1'000'000'000;
    }
    if (++i == fills.size()) {
      i = 0;
      shift += static_cast<std::int64_t>(fills.size()) * 1000;  // time keeps moving forward
    }
  }
  // The next run starts again at fills[0]: move past every time this run used.
  shift += static_cast<std::int64_t>(fills.size()) * 1000;
  state.SetItemsProcessed(state.iterations());
}

const PriceTape& tape() {
  static PriceTape* t = [] {
    auto* tp = new PriceTape(64, 8, 1);
    for (InstrumentId i = 0; i < 64; ++i) tp->record_instrument(0, i, kT0, 95000.0);
    return tp;
  }();
  return *t;
}

//! The time shift of million_store()'s replayed fills, shared by every benchmark on that store so
//! that its event time only moves forward (an older fill would take the cheaper late-fill path).
std::int64_t& million_shift() {
  static std::int64_t shift = 0;
  return shift;
}

AccountStore& million_store() {
  // Preloaded once with every account, so the timed loop measures updates, not creation; then
  // warmed with kWarmFills random fills (20 s of event time, twice the markout horizon), so that
  // the timed runs start from the steady state (positions open, markout rings at their usual
  // fill, resolution due every tick) instead of the transient after the preload.
  static AccountStore* store = [] {
    constexpr std::int64_t kWarmFills = 20'000'000;
    auto* s = new AccountStore(FeatureParams{});
    for (AccountId a = 0; a < kAccounts; ++a) s->apply(base_fill(a, kT0 - 1, a * 0x9e3779b97f4a7c15ULL));
    std::mt19937_64 rng(3);
    std::vector<Fill> burst(256);
    std::int64_t next_tick = 0;
    for (std::int64_t i = 0; i < kWarmFills; i += static_cast<std::int64_t>(burst.size())) {
      for (std::size_t k = 0; k < burst.size(); ++k) {
        const auto acct = static_cast<AccountId>(rng() % kAccounts);
        burst[k] = base_fill(acct, kT0 + (i + static_cast<std::int64_t>(k)) * 1000, rng());
      }
      s->apply_burst(burst, [](AccountStore::Slot, const Fill&) {});
      if (burst.back().recv_ns >= next_tick) {
        s->resolve_markouts(burst.back().recv_ns, tape(), [](AccountStore::Slot) {});
        next_tick = burst.back().recv_ns + 1'000'000'000;
      }
    }
    million_shift() = (kWarmFills + 1) * 1000;  // the timed fills come after the warm-up's
    return s;
  }();
  return *store;
}

void BM_HotAccount(benchmark::State& state) {
  const bool mixed = state.range(0) != 0;
  static const std::vector<Fill> perp_fills = make_fills(1 << 16, 1, false, 1);
  static const std::vector<Fill> mixed_fills = make_fills(1 << 16, 1, true, 1);
  AccountStore store{FeatureParams{}};
  std::int64_t shift = 0;
  run_updates(state, store, tape(), mixed ? mixed_fills : perp_fills, shift);
  state.SetLabel(mixed ? "perp + 25% options" : "perps");
}
BENCHMARK(BM_HotAccount)->Arg(0)->Arg(1);

void BM_MillionAccounts(benchmark::State& state) {
  const bool mixed = state.range(0) != 0;
  static const std::vector<Fill> perp_fills = make_fills(1 << 22, kAccounts, false, 2);
  static const std::vector<Fill> mixed_fills = make_fills(1 << 22, kAccounts, true, 2);
  run_updates(state, million_store(), tape(), mixed ? mixed_fills : perp_fills, million_shift());
  state.SetLabel(mixed ? "1M accounts, random order, perp + 25% options" : "1M accounts, random order, perps");
}
BENCHMARK(BM_MillionAccounts)->Arg(0)->Arg(1);

//! The shard's way (service/shards/account_shard.cpp): fills arrive in bursts of 256 from the ring and
//! go through apply_burst, which prefetches the accounts of the fills ahead; markouts resolve
//! when a burst's event time has crossed a 1 s tick. One benchmark iteration is one burst.
template <class Fills>
void run_bursts(benchmark::State& state, AccountStore& store, const PriceTape& tape, const Fills& fills,
                std::int64_t& shift) {
  constexpr std::size_t kBurst = 256;
  std::vector<Fill> burst(kBurst);
  std::size_t i = 0;
  std::int64_t next_tick = 0;
  std::uint64_t sink = 0;
  // Resolution's share, reported as counters: it runs once a tick over the pending list, so its
  // time per tick is also how long a shard stops taking fills at that tick.
  double resolve_ns = 0;
  std::size_t ticks = 0, pending_total = 0, resolved_total = 0;
  for (auto _ : state) {
    // Copying the burst out of the precomputed fills stands in for the ring (also a copy).
    for (std::size_t k = 0; k < kBurst; ++k) {
      if constexpr (std::is_same_v<Fills, FillStream>) {
        burst[k] = fills.at(i, shift);
      } else {
        burst[k] = fills[i];
        burst[k].recv_ns += shift;
      }
      if (++i == fills.size()) {
        i = 0;
        shift += static_cast<std::int64_t>(fills.size()) * 1000;
      }
    }
    store.apply_burst(burst, [&sink](AccountStore::Slot s, const Fill&) { sink += s; });
    const std::int64_t last = burst.back().recv_ns;
    if (last >= next_tick) {
      const auto t0 = std::chrono::steady_clock::now();
      pending_total += store.pending_accounts();
      resolved_total += store.resolve_markouts(last, tape, [](AccountStore::Slot) {});
      resolve_ns += std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
      ++ticks;
      next_tick = last + 1'000'000'000;
    }
  }
  if (ticks > 0) {
    const double t = static_cast<double>(ticks);
    state.counters["resolve_ms_per_tick"] = resolve_ns / t / 1e6;  // wall time
    state.counters["pending_accounts"] = static_cast<double>(pending_total) / t;
    state.counters["resolved_per_tick"] = static_cast<double>(resolved_total) / t;
  }
  shift += static_cast<std::int64_t>(fills.size()) * 1000;  // as in run_updates
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBurst));
}

void BM_HotAccountBurst(benchmark::State& state) {
  const bool mixed = state.range(0) != 0;
  static const std::vector<Fill> perp_fills = make_fills(1 << 16, 1, false, 1);
  static const std::vector<Fill> mixed_fills = make_fills(1 << 16, 1, true, 1);
  AccountStore store{FeatureParams{}};
  std::int64_t shift = 0;
  run_bursts(state, store, tape(), mixed ? mixed_fills : perp_fills, shift);
  state.SetLabel(mixed ? "bursts of 256, perp + 25% options" : "bursts of 256, perps");
}
BENCHMARK(BM_HotAccountBurst)->Arg(0)->Arg(1);

void BM_MillionAccountsBurst(benchmark::State& state) {
  const bool mixed = state.range(0) != 0;
  static const std::vector<Fill> perp_fills = make_fills(1 << 22, kAccounts, false, 2);
  static const std::vector<Fill> mixed_fills = make_fills(1 << 22, kAccounts, true, 2);
  run_bursts(state, million_store(), tape(), mixed ? mixed_fills : perp_fills, million_shift());
  state.SetLabel(mixed ? "1M accounts, bursts of 256, perp + 25% options" : "1M accounts, bursts of 256, perps");
}
BENCHMARK(BM_MillionAccountsBurst)->Arg(0)->Arg(1);

//! As BM_MillionAccountsBurst, with the fills read as from the shard's ring (FillStream): the
//! same accounts in the same random order, without a DRAM stream of whole fills.
void BM_MillionAccountsRing(benchmark::State& state) {
  const bool mixed = state.range(0) != 0;
  static const FillStream perp_fills = make_stream(1 << 22, kAccounts, false, 2);
  static const FillStream mixed_fills = make_stream(1 << 22, kAccounts, true, 2);
  run_bursts(state, million_store(), tape(), mixed ? mixed_fills : perp_fills, million_shift());
  state.SetLabel(mixed ? "1M accounts, bursts of 256 from a ring, perp + 25% options"
                       : "1M accounts, bursts of 256 from a ring, perps");
}
BENCHMARK(BM_MillionAccountsRing)->Arg(0)->Arg(1);

//! Segment exposure (core/segment_exposure.h): one iteration scans every account of the
//! 1M-account store (warmed as above: perps and options open), spread over 8 segments. A live
//! shard scans its own share between two bursts (service/shards/account_shard.h), so the
//! iteration time is how long a single-shard service would take no fill. Items are accounts.
void BM_ExposureScan1M(benchmark::State& state) {
  AccountStore& store = million_store();
  static const bool segmented = [&store] {
    for (AccountStore::Slot s = 0; s < store.size(); ++s) store.set_segment(s, s % 8, 0.5f, 0);
    return true;
  }();
  benchmark::DoNotOptimize(segmented);
  std::uint64_t positions = 0;
  for (auto _ : state) {
    ExposureScan scan;  // no expiry cut: the bench's event times are not calendar times
    store.scan_exposure(scan);
    positions = 0;
    for (const auto& [segment, sums] : scan.segments()) positions += sums.positions;
    benchmark::DoNotOptimize(positions);
  }
  state.counters["positions"] = static_cast<double>(positions);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(store.size()));
}
BENCHMARK(BM_ExposureScan1M)->Unit(benchmark::kMillisecond);

//! Shock scenarios (core/scenario.h) in the same pass as the exposure: BM_ExposureScan1M plus
//! every account revalued under the default 34 shocks (the perpetuals linearly, the options from
//! Black-76 rows built once per scan, as Pipeline::scenario_setup does; the row build is timed
//! too; a quarter of the accounts have a venue-stated margin). The difference to
//! BM_ExposureScan1M is what the scenarios add.
void BM_ScenarioScan1M(benchmark::State& state) {
  AccountStore& store = million_store();
  for (AccountStore::Slot s = 0; s < store.size(); ++s) store.set_segment(s, s % 8, 0.5f, 0);
  // A venue stated the margin of every fourth account (the rest take the estimate), as the
  // service's boards hold them: the lookup is timed with the rest.
  VenueMarginBoard margins;
  for (AccountId a = 0; a < store.size(); a += 4) margins.record(a, Venue::kHyperliquid, 1000.0 + a % 977);
  std::uint64_t positions = 0;
  for (auto _ : state) {
    auto setup = std::make_shared<ScenarioSetup>(shock_grid(ScenarioParams{}));
    setup->venue_margins = &margins;
    for (InstrumentId i = 0; i < 4; ++i) setup->table.set_linear(i, 95000.0);
    for (InstrumentId i = 10; i < 14; ++i)
      setup->table.set_option(i, i % 2 == 0, 95000.0, 90000.0, 30.0 / 365.25, 0.5, 0.01);
    for (SegmentId s = 0; s < 8; ++s) setup->margin_multiplier[s] = 1.0 + 0.1 * s;
    ExposureScan scan;
    ScenarioScan scenarios(setup);
    store.scan_exposure(scan, &scenarios);
    positions = scenarios.positions_repriced();
    benchmark::DoNotOptimize(scenarios.segments().begin()->second.pnl_usd.data());
  }
  state.counters["positions"] = static_cast<double>(positions);
  state.counters["shocks"] = static_cast<double>(shock_grid(ScenarioParams{}).size());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(store.size()));
}
BENCHMARK(BM_ScenarioScan1M)->Unit(benchmark::kMillisecond);

//! The machine's memory as the 1M-account store meets it, measured beside it so that a run's
//! figures can be read against the state of this shared guest at the time (its cold-line cost
//! moves from run to run): 1 GiB on huge pages, cache lines in random order, each read and
//! written (the store dirties what it touches), with prefetch kAhead lines ahead. Items are lines.
void BM_MachineRandomLines(benchmark::State& state) {
  constexpr std::size_t kBytes = std::size_t{1} << 30;
  constexpr std::size_t kLines = kBytes / 64;
  constexpr std::size_t kAhead = 16;
  static auto* mem = static_cast<std::uint64_t*>(allocate_huge_aligned(kBytes, true));
  static const std::vector<std::uint32_t> order = [] {
    std::memset(mem, 0, kBytes);  // faulted in before timing
    std::mt19937_64 rng(5);
    std::vector<std::uint32_t> o(std::size_t{1} << 22);
    for (auto& x : o) x = static_cast<std::uint32_t>(rng() % kLines);
    return o;
  }();
  std::size_t i = 0;
  const std::size_t mask = order.size() - 1;
  for (auto _ : state) {
    __builtin_prefetch(mem + std::size_t{order[(i + kAhead) & mask]} * 8, 1, 3);
    mem[std::size_t{order[i & mask]} * 8] += 1;
    ++i;
  }
  benchmark::DoNotOptimize(mem[0]);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MachineRandomLines);

//! One dependent cold load after another over the same 1 GiB: the latency of a cold line.
void BM_MachineColdLoad(benchmark::State& state) {
  constexpr std::size_t kBytes = std::size_t{1} << 30;
  constexpr std::size_t kLines = kBytes / 64;
  static auto* next = [] {
    auto* m = static_cast<std::uint32_t*>(allocate_huge_aligned(kBytes, true));
    // One cycle through every line in random order (Sattolo), a line's first word naming the next.
    std::vector<std::uint32_t> perm(kLines);
    for (std::size_t k = 0; k < kLines; ++k) perm[k] = static_cast<std::uint32_t>(k);
    std::mt19937_64 rng(6);
    for (std::size_t k = kLines - 1; k > 0; --k) std::swap(perm[k], perm[rng() % k]);
    for (std::size_t k = 0; k < kLines; ++k) m[std::size_t{perm[k]} * 16] = perm[(k + 1) % kLines];
    return m;
  }();
  std::uint32_t at = 0;
  for (auto _ : state) at = next[std::size_t{at} * 16];
  benchmark::DoNotOptimize(at);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MachineColdLoad);

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

void print_memory() {
  const std::size_t before = rss_bytes();
  {
    AccountStore store{FeatureParams{}};
    // Every account with all its bounded state in use: full positions and markout rings.
    const FeatureParams p;
    std::int64_t t = kT0;
    for (AccountId a = 0; a < kAccounts; ++a) {
      for (int k = 0; k < p.max_positions; ++k) {
        Fill f = base_fill(a, t, static_cast<std::uint64_t>(k));
        f.instrument = static_cast<InstrumentId>(k);
        f.recv_ns = t + k * 2'000'000'000LL;  // 2 s apart: a new markout slot each
        store.apply(f);
      }
    }
    const std::size_t after = rss_bytes();
    std::printf(
        "accounts: %zu, state %zu B/account (core %zu incl. the newest markout + book %zu and %d instruments x %zu + "
        "%d positions x %zu + %d older markouts x %zu + the slow clock's sums %zu, padded to lines)\n",
        store.size(), store.bytes_per_account_state(), sizeof(AccountCore), sizeof(PositionBook), p.max_positions,
        sizeof(InstrumentId), p.max_positions, sizeof(HeldPosition), p.markout_slots - 1, sizeof(PendingMarkout),
        sizeof(SlowSums));
    std::printf(
        "memory per account incl. index: %.1f B (accounted), %.1f B (RSS growth); goal <= 1152 B with two clocks "
        "(bench/README.md)\n",
        static_cast<double>(store.memory_bytes()) / static_cast<double>(store.size()),
        static_cast<double>(after - before) / static_cast<double>(store.size()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  // --no_thp: run with transparent huge pages disabled for this process (prctl), to measure what
  // the store's MADV_HUGEPAGE blocks are worth.
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--no_thp") {
      if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) std::perror("prctl(PR_SET_THP_DISABLE)");
      std::printf("transparent huge pages disabled for this process\n");
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      break;
    }
  }
  print_memory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
