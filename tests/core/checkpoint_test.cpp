// The checkpoint container and the core components' sections (core/checkpoint.md).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/account_store.h"
#include "core/checkpoint_codec.h"
#include "core/checkpoint_io.h"
#include "core/checkpoint_sections.h"
#include "core/clusterer.h"
#include "core/price_tape.h"
#include "protocol/venues/registry.h"
#include "tests/core/blob_world.h"

using namespace segmentd;
using segmentd::testing::BlobWorld;
using segmentd::testing::kSec;
using segmentd::testing::model_bytes;

namespace {

CheckpointImage small_image(std::uint64_t fingerprint) {
  CheckpointImage img;
  img.header.config_fingerprint = fingerprint;
  img.header.sequence = 7;
  img.add(section_tag("AAAA")).str("hello");
  ByteWriter& b = img.add(section_tag("BBBB"));
  b.u64(3);
  b.f64(2.5);
  ByteWriter chunk;
  chunk.str("after the writer");
  img.append(section_tag("BBBB"), std::move(chunk));
  return img;
}

}  // namespace

TEST_CASE("checkpoint: CRC-32C matches the published check value", "[checkpoint]") {
  // RFC 3720 (iSCSI), B.4: CRC-32C of "123456789" is 0xE3069283; 32 zero bytes give 0x8A9136AA.
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AAu);
  // Chaining over pieces equals the whole.
  CHECK(crc32c("6789", crc32c("12345")) == 0xE3069283u);
}

TEST_CASE("checkpoint: a file round-trips, chunks included", "[checkpoint]") {
  const std::string bytes = small_image(99).encode();
  CheckpointFault fault;
  auto back = CheckpointImage::decode(bytes, 99, &fault);
  REQUIRE(back.ok());
  CHECK(fault == CheckpointFault::kNone);
  CHECK(back->header.sequence == 7);
  ByteReader a = back->reader(section_tag("AAAA"));
  CHECK(a.str() == "hello");
  CHECK(a.at_end());
  ByteReader b = back->reader(section_tag("BBBB"));
  CHECK(b.u64() == 3);
  CHECK(b.f64() == 2.5);
  CHECK(b.str() == "after the writer");
  CHECK(b.ok());
  CHECK(b.at_end());
  ByteReader missing = back->reader(section_tag("ZZZZ"));
  CHECK_FALSE(missing.ok());
  CHECK_THAT(std::string(missing.status().message()), Catch::Contains("missing"));
}

TEST_CASE("checkpoint: every kind of damage is named", "[checkpoint]") {
  const std::string good = small_image(5).encode();
  auto fault_of = [](std::string bytes, std::uint64_t fp) {
    CheckpointFault f = CheckpointFault::kNone;
    auto r = CheckpointImage::decode(std::move(bytes), fp, &f);
    CHECK_FALSE(r.ok());
    return f;
  };
  // A bit flip anywhere in a section's payload, byte by byte.
  for (std::size_t i = 48 + 16; i < 48 + 16 + 9; ++i) {
    std::string bad = good;
    bad[i] ^= 0x01;
    CHECK(fault_of(bad, 5) == CheckpointFault::kChecksum);
  }
  std::string header_flip = good;
  header_flip[20] ^= 0x40;  // in the fingerprint: caught by the header's own CRC
  CHECK(fault_of(header_flip, 5) == CheckpointFault::kChecksum);
  CHECK(fault_of(good.substr(0, good.size() - 1), 5) == CheckpointFault::kTruncated);
  CHECK(fault_of(good.substr(0, good.size() / 2), 5) == CheckpointFault::kTruncated);
  CHECK(fault_of(good.substr(0, 20), 5) == CheckpointFault::kTruncated);
  CHECK(fault_of(good + "x", 5) == CheckpointFault::kTruncated);
  CHECK(fault_of("", 5) == CheckpointFault::kNotACheckpoint);
  CHECK(fault_of("{\"not\": \"a checkpoint\"}", 5) == CheckpointFault::kNotACheckpoint);
  std::string other_version = good;
  const std::uint32_t other = kCheckpointFormatVersion + 1;
  std::memcpy(other_version.data() + 8, &other, 4);
  CHECK(fault_of(other_version, 5) == CheckpointFault::kVersion);
  CHECK(fault_of(good, 6) == CheckpointFault::kConfig);
}

TEST_CASE("checkpoint: a reader never reads past its section", "[checkpoint]") {
  ByteWriter w;
  w.u32(1'000'000);  // a string length far past the end
  ByteReader r(w.view(), "TEST");
  CHECK(r.str().empty());
  CHECK_FALSE(r.ok());
  CHECK(r.u64() == 0);  // later reads return zeros
  ByteWriter c;
  c.u64(std::uint64_t{1} << 40);  // a count no section could hold
  ByteReader rc(c.view(), "TEST");
  CHECK(rc.count(8) == 0);
  CHECK_FALSE(rc.ok());
  CHECK_THAT(std::string(rc.status().message()), Catch::Contains("TEST"));
}

TEST_CASE("checkpoint: an account store restored continues exactly like the original", "[checkpoint]") {
  FeatureParams params;
  PriceTape tape(64, 16, 1);
  AccountStore a(params);
  auto fill = [](int i) {
    Fill f;
    f.recv_ns = 1'700'000'000'000'000'000LL + static_cast<std::int64_t>(i) * 300'000'000LL;
    f.account = static_cast<AccountId>(i * 7 % 50);
    // 23 instruments on 11 underlyings: most accounts pass their record's 8 positions and 4
    // underlyings, so their overflow blocks go through the checkpoint too.
    f.instrument = static_cast<InstrumentId>(i % 23);
    f.underlying = static_cast<UnderlyingId>(i % 11);
    f.kind = i % 23 % 5 == 4 ? InstrumentKind::kOption : InstrumentKind::kPerpetual;
    if (f.kind == InstrumentKind::kOption) {
      f.option_type = OptionType::kCall;
      f.strike = 60000;
      f.expiry_ns = 1'800'000'000'000'000'000LL;
      f.iv = 0.6;
    }
    f.side = i % 3 ? Side::kBuy : Side::kSell;
    f.liquidity = i % 2 ? Liquidity::kMaker : Liquidity::kTaker;
    f.qty = 0.1 * (i % 7 + 1);
    f.price = f.kind == InstrumentKind::kOption ? 0.05 : 60000.0 + i % 13;
    f.underlying_price = 60000.0 + i % 11;
    f.notional_usd = f.qty * f.underlying_price;
    f.fee_usd = 0.1;
    return f;
  };
  for (int i = 0; i < 3000; ++i) {
    tape.record(0, fill(i));
    a.apply(fill(i));
    if (i % 100 == 99) a.resolve_markouts(fill(i).recv_ns, tape, [](AccountStore::Slot) {});
  }
  REQUIRE(a.overflow_pool().in_use() > 0);
  ByteWriter w;
  a.save(w);
  AccountStore b(params);
  ByteReader r(w.view(), "SHRD");
  REQUIRE(b.load(r).ok());
  CHECK(r.at_end());
  REQUIRE(b.size() == a.size());
  CHECK(b.pending_accounts() == a.pending_accounts());
  for (int i = 3000; i < 6000; ++i) {
    tape.record(0, fill(i));
    a.apply(fill(i));
    b.apply(fill(i));
    if (i % 100 == 99) {
      a.resolve_markouts(fill(i).recv_ns, tape, [](AccountStore::Slot) {});
      b.resolve_markouts(fill(i).recv_ns, tape, [](AccountStore::Slot) {});
    }
  }
  for (AccountId id = 0; id < 50; ++id) {
    auto sa = a.find(id), sb = b.find(id);
    REQUIRE(sa.has_value());
    REQUIRE(sb.has_value());
    const FeatureVector fa = a.features(*sa), fb = b.features(*sb);
    CHECK(std::memcmp(&fa, &fb, sizeof(fa)) == 0);
    CHECK(a.core(*sa).fills == b.core(*sb).fills);
  }
  CHECK(a.stats().markouts_resolved == b.stats().markouts_resolved);
  // Loaded with another shard count, each record goes with its overflow block.
  {
    AccountStore odd(params), even(params);
    ByteReader rs(w.view(), "SHRD");
    REQUIRE(AccountStore::for_each_saved_record(rs, params, [&](std::string_view rec, AccountId id) {
              (id % 2 ? odd : even).append_record(rec);
            }).ok());
    AccountStore restored(params);
    ByteReader rr(w.view(), "SHRD");
    REQUIRE(restored.load(rr).ok());
    for (AccountId id = 0; id < 50; ++id) {
      AccountStore& s = id % 2 ? odd : even;
      const auto so = s.find(id), sr = restored.find(id);
      REQUIRE(so.has_value());
      REQUIRE(sr.has_value());
      const FeatureVector fo = s.features(*so), fr = restored.features(*sr);
      CHECK(std::memcmp(&fo, &fr, sizeof(fo)) == 0);
      CHECK(s.positions(*so).size() == restored.positions(*sr).size());
    }
    CHECK(odd.overflow_pool().in_use() + even.overflow_pool().in_use() == restored.overflow_pool().in_use());
  }
  // Another layout (another max_positions) is refused, not misread.
  FeatureParams other = params;
  other.max_positions = params.max_positions + 1;
  AccountStore c(other);
  ByteReader rc(w.view(), "SHRD");
  const absl::Status st = c.load(rc);
  CHECK_FALSE(st.ok());
  CHECK_THAT(std::string(st.message()), Catch::Contains("another layout"));
}

TEST_CASE("checkpoint: the clusterer and its model through the codec continue byte for byte", "[checkpoint]") {
  BlobWorld world(8, 6000, 1.0, 3);
  ClustererConfig cfg;
  cfg.k = 8;
  cfg.min_accounts = 2000;
  cfg.half_life_ns = 60 * kSec;
  cfg.publish_interval_ns = 0;
  cfg.sample_size = 2048;
  cfg.silhouette_points = 128;
  cfg.restart_interval_ns = 10 * kSec;
  cfg.vote_horizon_ns = 10 * kSec;
  cfg.seed = 9;
  Clusterer a(cfg);
  std::int64_t now = 0;
  for (int i = 0; i < 20; ++i) a.update(world.batch(1024), now += kSec);
  REQUIRE(a.model()->ready());
  ByteWriter cw, mw;
  save_clusterer_state(cw, a.state());
  save_model(mw, *a.model());
  ByteReader cr(cw.view(), "CLUS"), mr(mw.view(), "MODL");
  const ClustererState state = load_clusterer_state(cr);
  const ModelPtr model = load_model(mr);
  REQUIRE(cr.ok());
  REQUIRE(cr.at_end());
  REQUIRE(model);
  REQUIRE(mr.at_end());
  for (const Segment& s : model->segments) {  // the default rules' policies in every regime
    CHECK(s.stressed_policy.margin_multiplier >= s.policy.margin_multiplier);
    CHECK(s.extreme_policy.quote_width_bps > s.policy.quote_width_bps);
  }
  {
    // A MODL section written before the market regimes ends at the scaler version: its segments
    // keep their calm policy in every regime.
    std::size_t trailing = 0;
    for (const Segment& s : model->segments) trailing += 48 + 4 + s.base_label.size();  // u32 length + bytes
    const std::string_view older = mw.view().substr(0, mw.view().size() - trailing);
    ByteReader r(older, "MODL");
    const ModelPtr m = load_model(r);
    REQUIRE(m);
    CHECK(r.at_end());
    for (const Segment& s : m->segments) {
      CHECK(s.stressed_policy == s.policy);
      CHECK(s.extreme_policy == s.policy);
    }
  }
  Clusterer b(cfg, state, model);
  CHECK(model_bytes(*b.model()) == model_bytes(*a.model()));
  CHECK(b.model()->events.size() == a.model()->events.size());
  for (int i = 0; i < 20; ++i) {
    now += kSec;
    const auto batch = world.batch(1024);
    REQUIRE(model_bytes(*a.update(batch, now)) == model_bytes(*b.update(batch, now)));
  }
}

TEST_CASE("checkpoint: names, instruments and the tape keep their ids", "[checkpoint]") {
  AccountInterner names;
  for (int i = 0; i < 100; ++i) names.intern("acct-" + std::to_string(i * 13 % 101));
  ByteWriter w;
  save_interner(w, names);
  AccountInterner back;
  ByteReader r(w.view(), "ACCT");
  load_interner(r, back);
  REQUIRE(r.ok());
  REQUIRE(back.size() == names.size());
  for (AccountId id = 0; id < names.size(); ++id) CHECK(back.name(id) == names.name(id));
  ByteReader again(w.view(), "ACCT");
  CHECK(check_interner(again) == names.size());

  InstrumentRegistry reg{parse_symbol};
  const InstrumentId eth = *reg.resolve(Venue::kDeribit, "ETH-PERPETUAL");
  const InstrumentId btc = *reg.resolve(Venue::kBinance, "BTCUSDT");
  reg.underlying_id("SOL");  // an underlying no instrument named yet
  ByteWriter iw;
  save_registry(iw, reg);
  InstrumentRegistry reg2{parse_symbol};
  ByteReader ir(iw.view(), "INST");
  load_registry(ir, reg2);
  REQUIRE(ir.ok());
  CHECK(reg2.size() == 2);
  CHECK(*reg2.resolve(Venue::kDeribit, "ETH-PERPETUAL") == eth);
  CHECK(*reg2.resolve(Venue::kBinance, "BTCUSDT") == btc);
  CHECK(reg2.underlying_id("SOL") == reg.underlying_id("SOL"));
  CHECK(reg2.underlying_of(eth) == reg.underlying_of(eth));

  PriceTape tape(32, 8, 2);
  tape.record_instrument(1, 5, 100, 42.5);
  tape.record_instrument(0, 5, 90, 41.0);  // older, other writer: the newest wins
  tape.record_index(0, 3, 100, 60000.0);
  ByteWriter tw;
  save_tape(tw, tape);
  PriceTape tape2(32, 8, 1);
  ByteReader tr(tw.view(), "TAPE");
  load_tape(tr, tape2);
  REQUIRE(tr.ok());
  REQUIRE(tape2.instrument(5).has_value());
  CHECK(tape2.instrument(5)->price == 42.5);
  CHECK(tape2.instrument(5)->ts_ns == 100);
  CHECK_FALSE(tape2.instrument(4).has_value());
  CHECK(tape2.index(3)->price == 60000.0);

  // Market data is saved beside the fill prints, each kind in its own slots, so that the tape
  // restored answers as the one saved (a replay resumed from it writes the same bytes).
  PriceTape hold(32, 8, 1, 1000);
  hold.record_instrument(0, 6, 2000, 10.0, /*set_by=*/3);
  hold.record_market(0, 6, 1500, 9.5);  // within the hold of the print: it is the price
  hold.record_market(0, 7, 100, 1.25);
  ByteWriter hw;
  save_tape(hw, hold);
  PriceTape restored_tape(32, 8, 1, 1000);
  ByteReader hr(hw.view(), "TAPE");
  load_tape(hr, restored_tape);
  REQUIRE(hr.ok());
  CHECK(hr.at_end());
  CHECK(restored_tape.instrument(6)->price == 9.5);
  CHECK(restored_tape.fill_price(6)->price == 10.0);
  CHECK(restored_tape.market_price(7)->price == 1.25);

  // A section written before market data (fill prints and indices only) still loads.
  ByteWriter old;
  old.u64(1);
  old.u32(5);
  old.i64(100);
  old.f64(42.5);
  old.u64(0);
  PriceTape from_old(32, 8, 1);
  ByteReader orr(old.view(), "TAPE");
  load_tape(orr, from_old);
  REQUIRE(orr.ok());
  CHECK(from_old.instrument(5)->price == 42.5);
  CHECK_FALSE(from_old.market_price(5).has_value());
}

namespace {

//! A temporary file of `bytes` bytes, mapped shared; closed, unmapped and deleted at the end.
struct MappedTemp {
  explicit MappedTemp(std::size_t bytes) : size(bytes) {
    char name[] = "/tmp/segmentd-checkpoint-test-XXXXXX";
    fd = ::mkstemp(name);
    path = name;
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, static_cast<off_t>(bytes)) == 0);
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(p != MAP_FAILED);
    map = static_cast<char*>(p);
  }
  ~MappedTemp() {
    ::munmap(map, size);
    ::close(fd);
    ::unlink(path.c_str());
  }
  std::string contents() const {
    struct stat st {};
    ::fstat(fd, &st);
    std::string out(static_cast<std::size_t>(st.st_size), '\0');
    const ssize_t n = ::pread(fd, out.data(), out.size(), 0);
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
  }
  int fd = -1;
  char* map = nullptr;
  std::size_t size = 0;
  std::string path;
};

//! Deterministic bytes for shard k's records.
std::string records(int k, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + static_cast<std::size_t>(k) * 7) % 251);
  return s;
}

//! The layout Pipeline::capture makes: section "SHRD"-like first, a count, then per shard a
//! length and the records, each shard's records written in place at the start of its region
//! (regions `region` bytes apart), then a small second section.
CheckpointImage laid_out_image(char* map, std::size_t region, const std::vector<std::size_t>& sizes) {
  CheckpointImage img;
  img.header.config_fingerprint = 5;
  img.header.sequence = 3;
  img.header.written_unix_ns = 1234;
  img.add(section_tag("SHRD")).u32(static_cast<std::uint32_t>(sizes.size()));
  std::size_t at = kCheckpointFirstPayload + 4;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    at += 8;
    ByteWriter w;
    if (map != nullptr) w.write_into(map + at, region);
    const std::string r = records(static_cast<int>(k), sizes[k]);
    // In pieces, as a shard writes field by field.
    for (std::size_t i = 0; i < r.size(); i += 1000) w.raw(r.data() + i, std::min<std::size_t>(1000, r.size() - i));
    at += region;
    ByteWriter len;
    len.u64(w.size());
    img.append(section_tag("SHRD"), std::move(len));
    img.append(section_tag("SHRD"), std::move(w));
  }
  img.add(section_tag("TAIL")).str("after the shards");
  return img;
}

}  // namespace

TEST_CASE("checkpoint: a writer in place spills to its own buffer when full and keeps every byte", "[checkpoint]") {
  std::string space(16, '\0');
  ByteWriter w;
  w.write_into(space.data(), space.size());
  w.u64(1);
  CHECK(w.in_place());
  CHECK(w.view().data() == space.data());
  w.u64(2);
  CHECK(w.in_place());  // exactly full
  w.u32(3);
  CHECK_FALSE(w.in_place());
  ByteReader r(w.view(), "TEST");
  CHECK(r.u64() == 1);
  CHECK(r.u64() == 2);
  CHECK(r.u32() == 3);
  CHECK(r.at_end());
}

TEST_CASE("checkpoint: a first section laid out in a file's mapping gives the same file as encode()", "[checkpoint]") {
  const std::size_t region = 50'000;
  const std::vector<std::size_t> sizes{41'234, 0, 49'999, 17};
  MappedTemp file(kCheckpointFirstPayload + 4 + sizes.size() * (8 + region));
  CheckpointImage in_place = laid_out_image(file.map, region, sizes);
  auto written = in_place.write_mapped(file.fd, file.map, file.size, file.path);
  REQUIRE(written.ok());
  const std::string expect = laid_out_image(nullptr, region, sizes).encode();
  CHECK(*written == expect.size());
  const std::string got = file.contents();  // cut to its length
  CHECK(got.size() == expect.size());
  CHECK(got == expect);
  auto back = CheckpointImage::decode(got, 5);
  REQUIRE(back.ok());
  ByteReader shards = back->reader(section_tag("SHRD"));
  CHECK(shards.u32() == 4);
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    REQUIRE(shards.u64() == sizes[k]);
    CHECK(std::string(shards.raw(sizes[k])) == records(static_cast<int>(k), sizes[k]));
  }
  CHECK(shards.at_end());
  CHECK(back->reader(section_tag("TAIL")).str() == "after the shards");
}

TEST_CASE("checkpoint: a layout that cannot be made in place is refused before a byte moves", "[checkpoint]") {
  const std::size_t region = 10'000;
  // Shard 0 overflows its region (spills to its own buffer): copying it in would overwrite
  // shard 1's records before they moved.
  const std::vector<std::size_t> sizes{12'000, 9'000};
  MappedTemp file(kCheckpointFirstPayload + 4 + sizes.size() * (8 + region));
  CheckpointImage img = laid_out_image(file.map, region, sizes);
  const std::string before(file.map, file.size);
  auto written = img.write_mapped(file.fd, file.map, file.size, file.path);
  REQUIRE_FALSE(written.ok());
  CHECK(absl::IsFailedPrecondition(written.status()));
  CHECK(std::string(file.map, file.size) == before);
  // The image is still whole: written by copy into another file, it reads back.
  MappedTemp other(1);
  REQUIRE(::ftruncate(other.fd, 0) == 0);
  auto copied = img.write_to(other.fd, other.path);
  REQUIRE(copied.ok());
  CHECK(other.contents() == laid_out_image(nullptr, region, sizes).encode());

  // A mapping too small for the section is refused too.
  MappedTemp small(kCheckpointFirstPayload + 4 + 8 + 100);
  CheckpointImage tiny = laid_out_image(small.map, 100, {50});
  CHECK(tiny.write_mapped(small.fd, small.map, small.size, small.path).ok());
  CheckpointImage big = laid_out_image(nullptr, 0, {5'000});
  CHECK(absl::IsFailedPrecondition(big.write_mapped(small.fd, small.map, small.size, small.path).status()));
}

TEST_CASE("checkpoint: the segment change log round-trips and refuses what it cannot mean", "[checkpoint]") {
  std::vector<SegmentChange> log(3);
  for (std::size_t i = 0; i < log.size(); ++i) {
    SegmentChange& c = log[i];
    c.ts_ns = 1'700'000'000'000'000'000LL + static_cast<std::int64_t>(i);
    c.recv_ns = c.ts_ns + 5;
    c.account = static_cast<AccountId>(i * 2);
    c.from = i == 0 ? kNoSegment : static_cast<SegmentId>(i);
    c.to = static_cast<SegmentId>(i + 1);
    c.confidence = 0.25 * static_cast<double>(i + 1);
    c.model_version = 40 + i;
    c.cause = i == 0 ? SegmentChange::Cause::kFirstAssignment : SegmentChange::Cause::kMoved;
    c.reasons[0] = ChangeReason{static_cast<std::int8_t>(i), 1.5, 2.5, 3.5};
  }
  ByteWriter w;
  save_segment_changes(w, log);
  const std::string bytes(w.view());
  {
    ByteReader r(bytes, "CHLG");
    const std::vector<SegmentChange> back = load_segment_changes(r, 5);
    REQUIRE(r.ok());
    CHECK(r.at_end());
    REQUIRE(back.size() == log.size());
    for (std::size_t i = 0; i < log.size(); ++i) {
      CHECK(back[i].ts_ns == log[i].ts_ns);
      CHECK(back[i].recv_ns == log[i].recv_ns);
      CHECK(back[i].account == log[i].account);
      CHECK(back[i].from == log[i].from);
      CHECK(back[i].to == log[i].to);
      CHECK(back[i].confidence == log[i].confidence);
      CHECK(back[i].model_version == log[i].model_version);
      CHECK(back[i].cause == log[i].cause);
      CHECK(back[i].reasons[0].feature == log[i].reasons[0].feature);
      CHECK(back[i].reasons[0].centroid_to == 3.5);
      CHECK(back[i].reasons[1].feature == -1);
    }
  }
  {
    ByteReader r(bytes, "CHLG");
    CHECK(load_segment_changes(r, 4).empty());  // account 4 has no name among 4 accounts
    CHECK_THAT(std::string(r.status().message()), Catch::Contains("account without a name"));
  }
  {
    ByteReader r(std::string_view(bytes).substr(0, bytes.size() - 3), "CHLG");
    CHECK(load_segment_changes(r, 5).empty());
    CHECK_FALSE(r.ok());  // truncated
  }
  {
    std::string bad = bytes;
    // The first change's cause byte: after u64 n, i64 ts, i64 recv, 3 × u32, f64, u64.
    bad[8 + 8 + 8 + 12 + 8 + 8] = 7;
    ByteReader r(bad, "CHLG");
    CHECK(load_segment_changes(r, 5).empty());
    CHECK_THAT(std::string(r.status().message()), Catch::Contains("unknown change cause"));
  }
}
