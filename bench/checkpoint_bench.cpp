// SEGMENTD_BENCH_OWN_MAIN
// Checkpoint cost at scale (bench/README.md, "Checkpoints"): N accounts (default 1,000,000) with
// a few fills each on perpetuals, futures and options, in 2 shards, then
//   cut      the shards' records copied into prefaulted buffers (what pauses ingest live),
//   write    the whole file built, checksummed, written, fsynced and renamed (CheckpointDirectory),
//   restore  the newest file mapped, checked, and loaded into fresh shards and an empty interner
//            (the part of "ready after a restart" that grows with the accounts).
//
//   checkpoint_bench [accounts] [state dir]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/account_interner.h"
#include "core/checkpoint_codec.h"
#include "core/checkpoint_sections.h"
#include "core/instrument_registry.h"
#include "core/price_tape.h"
#include "core/str_cat.h"
#include "protocol/venues/registry.h"
#include "service/shards/account_shard.h"
#include "service/shards/shard_set.h"
#include "service/state/checkpointer.h"

using namespace segmentd;

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 1'000'000;
  const std::string dir = argc > 2 ? argv[2] : "/tmp/segmentd-checkpoint-bench";
  std::filesystem::remove_all(dir);
  constexpr int kShards = 2;
  AccountInterner names;
  InstrumentRegistry instruments(parse_symbol);
  PriceTape tape(1 << 16, 1 << 10, 1);
  const char* symbols[] = {"BTC-PERPETUAL", "ETH-PERPETUAL", "BTC-27DEC24", "BTC-27DEC24-70000-C",
                           "ETH-27DEC24-3000-P"};
  std::vector<InstrumentId> ids;
  std::vector<UnderlyingId> unders;
  for (const char* s : symbols) {
    ids.push_back(*instruments.resolve(Venue::kDeribit, s));
    unders.push_back(instruments.underlying_of(ids.back()));
  }
  auto make_shards = [&] {
    std::vector<std::unique_ptr<AccountShard>> v;
    for (int k = 0; k < kShards; ++k) {
      AccountShardOptions o;
      o.tape = &tape;
      o.auto_resolve = false;
      v.push_back(std::make_unique<AccountShard>(k, std::move(o)));
    }
    return v;
  };
  auto shards = make_shards();
  const auto t_fill = std::chrono::steady_clock::now();
  const std::int64_t t0 = 1'730'000'000'000'000'000LL;
  for (std::size_t a = 0; a < n; ++a) {
    const AccountId id = names.intern(str_cat("acc", a));
    for (int f = 0; f < 4; ++f) {
      Fill fill;
      const std::size_t i = (a + static_cast<std::size_t>(f)) % ids.size();
      fill.recv_ns = t0 + static_cast<std::int64_t>(a) * 1000 + f * 1'000'000'000LL;
      fill.account = id;
      fill.instrument = ids[i];
      fill.underlying = unders[i];
      fill.venue = Venue::kDeribit;
      fill.kind = i < 2 ? InstrumentKind::kPerpetual : (i == 2 ? InstrumentKind::kFuture : InstrumentKind::kOption);
      fill.side = (a + static_cast<std::size_t>(f)) % 3 ? Side::kBuy : Side::kSell;
      fill.qty = 0.1 + static_cast<double>(f);
      fill.price = i >= 3 ? 0.05 : 60000.0;
      fill.underlying_price = 60000.0;
      fill.notional_usd = fill.qty * 60000.0;
      if (fill.kind == InstrumentKind::kOption) {
        fill.option_type = i == 3 ? OptionType::kCall : OptionType::kPut;
        fill.strike = i == 3 ? 70000 : 3000;
        fill.expiry_ns = t0 + 30LL * 86400 * 1'000'000'000;
        fill.iv = 0.55;
      }
      tape.record(0, fill);
      shards[static_cast<std::size_t>(shard_of(id, kShards))]->on_fill(fill);
    }
  }
  std::printf("%zu accounts, %d shards, built in %.2f s\n", n, kShards, since(t_fill));

  // The cut: each shard's records into a prefaulted buffer.
  std::vector<ByteWriter> parts(kShards);
  const std::size_t record = shards[0]->store().bytes_per_account_state();
  const auto t_pre = std::chrono::steady_clock::now();
  for (ByteWriter& w : parts) w.prefault((n / kShards * 5 / 4 + 1024) * (record + 16) + (1 << 16));
  const double prefault_s = since(t_pre);
  const auto t_cut = std::chrono::steady_clock::now();
  for (int k = 0; k < kShards; ++k) shards[static_cast<std::size_t>(k)]->save_state(parts[static_cast<std::size_t>(k)]);
  const double cut_s = since(t_cut);

  const auto t_write = std::chrono::steady_clock::now();
  CheckpointImage img;
  img.header.config_fingerprint = 42;
  save_interner(img.add(kSectionAccounts), names);
  save_registry(img.add(kSectionInstruments), instruments);
  save_tape(img.add(kSectionTape), tape);
  img.add(kSectionShards).u32(kShards);
  for (ByteWriter& p : parts) {
    ByteWriter len;
    len.u64(p.size());
    img.append(kSectionShards, std::move(len));
    img.append(kSectionShards, std::move(p));
  }
  CheckpointDirectory cdir(dir, 2);
  if (auto st = cdir.prepare(); !st.ok()) {
    std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
    return 1;
  }
  auto written = cdir.write(img);
  const double write_s = since(t_write);
  if (!written.ok()) {
    std::fprintf(stderr, "%s\n", std::string(written.status().message()).c_str());
    return 1;
  }
  std::printf("cut (shards copy their records): %.3f s (prefault before it %.3f s)\n", cut_s, prefault_s);
  std::printf("checkpoint total (cut + names, registry, tape, write, fsync, rename): %.3f s\n", cut_s + write_s);
  std::printf("file: %llu bytes, %.1f B per account\n", static_cast<unsigned long long>(written->bytes),
              static_cast<double>(written->bytes) / static_cast<double>(n));

  // Restore into fresh state.
  const auto t_load = std::chrono::steady_clock::now();
  std::vector<CheckpointDirectory::Rejected> rejected;
  auto loaded = cdir.load_newest(
      42, [](const CheckpointImage&) { return absl::OkStatus(); }, &rejected);
  if (!loaded.ok() || !loaded->has_value()) {
    std::fprintf(stderr, "load failed\n");
    return 1;
  }
  const double decode_s = since(t_load);
  AccountInterner names2;
  ByteReader a = (*loaded)->image.reader(kSectionAccounts);
  load_interner(a, names2);
  auto shards2 = make_shards();
  ByteReader s = (*loaded)->image.reader(kSectionShards);
  const std::uint32_t count = s.u32();
  for (std::uint32_t k = 0; k < count; ++k) {
    ByteReader part(s.raw(s.u64()), "SHRD");
    if (auto st = shards2[k]->load_state(part); !st.ok()) {
      std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
      return 1;
    }
  }
  const double load_s = since(t_load);
  std::size_t restored = 0;
  for (auto& sh : shards2) restored += sh->store().size();
  std::printf("restore: %.3f s (map + checksums %.3f s, then names and records), %zu accounts back\n", load_s, decode_s,
              restored);
  std::filesystem::remove_all(dir);
  return restored == n && a.ok() ? 0 : 1;
}
