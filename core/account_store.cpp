#include "core/account_store.h"
#include "core/scenario.h"

#include <cstring>
#include <string>

#include "core/str_cat.h"

#include <cstdlib>
#include <new>

#include "core/huge_pages.h"
#include "core/segment_exposure.h"

namespace segmentd {
namespace {

std::size_t round_up(std::size_t x, std::size_t to) { return (x + to - 1) / to * to; }

}  // namespace

void AccountStore::FreeBlock::operator()(std::byte* p) const { std::free(p); }

AccountStore::AccountStore(const FeatureParams& params)
    : params_(params), pool_(static_cast<std::size_t>(std::max(params.overflow_blocks, 0))) {
  static_assert(alignof(AccountCore) <= kLine && alignof(PositionBook) <= kLine && alignof(HeldPosition) <= kLine &&
                alignof(PendingMarkout) <= kLine);
  const auto np = static_cast<std::size_t>(params_.max_positions);
  const std::size_t ring = ring_slots();
  // core | book + instruments (the line after the core for up to 10 positions) | positions, from
  // a line boundary so that none straddles two lines | ring of older markouts | the slow clock's
  // sums (with the default bounds they end the record at exactly 1 KiB).
  book_offset_ = sizeof(AccountCore);
  instruments_offset_ = book_offset_ + sizeof(PositionBook);
  positions_offset_ = round_up(instruments_offset_ + np * sizeof(InstrumentId), kLine);
  markouts_offset_ = round_up(positions_offset_ + np * sizeof(HeldPosition), alignof(PendingMarkout));
  slow_offset_ = round_up(markouts_offset_ + ring * sizeof(PendingMarkout), alignof(SlowSums));
  record_bytes_ = round_up(slow_offset_ + sizeof(SlowSums), kLine);
  one_clock_record_bytes_ = round_up(markouts_offset_ + ring * sizeof(PendingMarkout), kLine);
  block_bytes_ = huge_page_round(kBlockAccounts * record_bytes_);
}

AccountRef AccountStore::ref(Slot slot) {
  std::byte* r = record(slot);
  const auto np = static_cast<std::size_t>(params_.max_positions);
  return AccountRef{reinterpret_cast<AccountCore*>(r),
                    reinterpret_cast<PositionBook*>(r + book_offset_),
                    std::span<InstrumentId>(reinterpret_cast<InstrumentId*>(r + instruments_offset_), np),
                    std::span<HeldPosition>(reinterpret_cast<HeldPosition*>(r + positions_offset_), np),
                    std::span<PendingMarkout>(reinterpret_cast<PendingMarkout*>(r + markouts_offset_), ring_slots()),
                    reinterpret_cast<SlowSums*>(r + slow_offset_),
                    &pool_};
}

AccountStore::Slot AccountStore::create(AccountId account) {
  const Slot slot = static_cast<Slot>(size_);
  if ((slot >> kBlockShift) == blocks_.size()) {
    // Pages are touched only as records are created, so a small store holds little memory. The
    // first block is left to ordinary pages (a store of a few accounts must not fault in 2 MiB);
    // from the second on, every block — and then the first too — is advised for huge pages.
    BlockPtr block(static_cast<std::byte*>(allocate_huge_aligned(block_bytes_, !blocks_.empty())));
    blocks_.push_back(std::move(block));
    if (blocks_.size() == 2) {
      advise_huge_pages(blocks_[0].get(), block_bytes_);
      index_.use_huge_pages();
    }
  }
  ++size_;
  AccountRef a = ref(slot);
  new (a.core) AccountCore{};
  new (a.book) PositionBook{};
  for (InstrumentId& id : a.instruments) new (&id) InstrumentId{kNoInstrument};
  for (HeldPosition& pos : a.positions) new (&pos) HeldPosition{};
  for (PendingMarkout& m : a.markouts) new (&m) PendingMarkout{};
  new (a.slow) SlowSums{};
  a.core->account = account;
  return slot;
}

AccountStore::Slot AccountStore::slot_for(AccountId account) {
  Slot slot = index_.find(account);
  if (slot == kNoSlot) {
    if (max_accounts_ != 0 && size_ >= max_accounts_) {
      ++refused_fills_;
      return kNoSlot;
    }
    slot = create(account);
    index_.insert(account, slot);
  }
  return slot;
}

void AccountStore::apply_at(Slot slot, const Fill& fill, bool move_position) {
  AccountRef a = ref(slot);
  if (apply_fill(params_, a, fill, &stats_, move_position) && !(a.core->flags & AccountCore::kInPendingList)) {
    a.core->flags |= AccountCore::kInPendingList;
    pending_.push_back(pending_entry(slot, a));
  }
}

AccountStore::Slot AccountStore::apply(const Fill& fill) {
  const Slot slot = slot_for(fill.account);
  if (slot != kNoSlot) apply_at(slot, fill);
  return slot;
}

AccountStore::Slot AccountStore::set_position(const Fill& rec) {
  const Slot slot = slot_for(rec.account);
  if (slot != kNoSlot) segmentd::set_position(params_, ref(slot), rec, &stats_);
  return slot;
}

double AccountStore::position_qty(Slot slot, InstrumentId instrument, double* usd_per_unit) {
  return segmentd::position_qty(ref(slot), instrument, usd_per_unit);
}

std::optional<AccountStore::Slot> AccountStore::find(AccountId account) const {
  const Slot slot = index_.find(account);
  if (slot == kNoSlot) return std::nullopt;
  return slot;
}

FeatureVector AccountStore::features(Slot slot, Clock clock) const {
  return compute_features(params_, clock, core(slot), slow(slot), held(slot), overflow(slot));
}

ClockFeatures AccountStore::clock_features(Slot slot) const {
  return compute_clock_features(params_, core(slot), slow(slot), held(slot), overflow(slot));
}

FeatureVector AccountStore::model_features(Slot slot) const {
  return compute_model_features(params_, core(slot), slow(slot), held(slot), overflow(slot));
}

const SlowSums& AccountStore::slow(Slot slot) const {
  return *reinterpret_cast<const SlowSums*>(record(slot) + slow_offset_);
}

const OverflowBlock* AccountStore::overflow(Slot slot) const {
  const std::uint32_t h = book(slot).overflow;
  return h != 0 ? &pool_.at(h) : nullptr;
}

ClockFeatures AccountStore::clock_features(Slot slot, std::int64_t now_ns) const {
  const std::byte* r = record(slot);
  const std::span<const InstrumentId> ids(reinterpret_cast<const InstrumentId*>(r + instruments_offset_),
                                          static_cast<std::size_t>(params_.max_positions));
  return compute_features_at(params_, core(slot), slow(slot), *reinterpret_cast<const PositionBook*>(r + book_offset_),
                             ids, held(slot), now_ns, overflow(slot));
}

std::span<const HeldPosition> AccountStore::held(Slot slot) const {
  const std::byte* r = record(slot);
  return std::span<const HeldPosition>(reinterpret_cast<const HeldPosition*>(r + positions_offset_),
                                       static_cast<std::size_t>(params_.max_positions));
}

std::vector<Position> AccountStore::positions(Slot slot) const {
  std::vector<Position> out;
  positions(slot, out);
  return out;
}

void AccountStore::scan_exposure(ExposureScan& scan, ScenarioScan* scenarios) const {
  // The lines a scan reads (core, book, instruments, positions) of the account kAhead places on
  // are prefetched: records are 1 KiB apart, more than the hardware prefetcher follows.
  constexpr Slot kAhead = 6;
  std::vector<Position> held_now;
  for (Slot s = 0; s < size_; ++s) {
    if (s + kAhead < size_) {
      const std::byte* r = record(s + kAhead);
      for (std::size_t off = 0; off < positions_offset_ + params_.max_positions * sizeof(HeldPosition); off += kLine)
        prefetch(r + off);
    }
    positions(s, held_now);
    const AccountCore& c = core(s);
    scan.add_account(c.segment, c.account, held_now);
    if (scenarios != nullptr) scenarios->add_account(c.segment, c.account, held_now);
  }
}

void AccountStore::positions(Slot slot, std::vector<Position>& out) const {
  const std::byte* r = record(slot);
  const auto* ids = reinterpret_cast<const InstrumentId*>(r + instruments_offset_);
  const auto& book = *reinterpret_cast<const PositionBook*>(r + book_offset_);
  out.clear();
  const std::span<const HeldPosition> held_now = held(slot);
  for (std::size_t i = 0; i < held_now.size(); ++i) {
    if (ids[i] == kNoInstrument) continue;
    const HeldPosition& h = held_now[i];
    out.push_back(Position{h.expiry_ns, h.qty, h.delta_usd_per_unit, h.vega_per_unit, ids[i],
                           ((book.greeks_mask >> i) & 1) != 0});
  }
  if (const OverflowBlock* ov = overflow(slot)) {
    for (int k = 0; k < kOverflowPositions; ++k) {
      if (ov->instruments[k] == kNoInstrument) continue;
      const HeldPosition& h = ov->positions[k];
      out.push_back(Position{h.expiry_ns, h.qty, h.delta_usd_per_unit, h.vega_per_unit, ov->instruments[k],
                             ((ov->greeks_mask >> k) & 1) != 0});
    }
  }
}

const PositionBook& AccountStore::book(Slot slot) const {
  return *reinterpret_cast<const PositionBook*>(record(slot) + book_offset_);
}

std::vector<PendingMarkout> AccountStore::pending_markouts(Slot slot) const {
  const std::byte* r = record(slot);
  const AccountCore& c = core(slot);
  const auto* ring = reinterpret_cast<const PendingMarkout*>(r + markouts_offset_);
  std::vector<PendingMarkout> out;
  if (c.markout_count == 0) return out;
  for (int k = 0; k + 1 < c.markout_count; ++k) out.push_back(ring[(c.markout_head + k) % ring_slots()]);
  out.push_back(c.newest());
  return out;
}

std::size_t AccountStore::memory_bytes() const {
  return blocks_.size() * block_bytes_ + index_.mapped_bytes() + pending_.capacity() * sizeof(Pending) +
         blocks_.capacity() * sizeof(BlockPtr) + pool_.memory_bytes();
}

namespace {

struct RecordLayout {
  std::uint32_t core_bytes;
  std::uint32_t record_bytes;
  std::int32_t max_positions;
  std::int32_t markout_slots;
  std::uint32_t overflow_bytes;
};

}  // namespace

void AccountStore::save(ByteWriter& w) const {
  w.pod(RecordLayout{static_cast<std::uint32_t>(sizeof(AccountCore)), static_cast<std::uint32_t>(record_bytes_),
                     params_.max_positions, params_.markout_slots, static_cast<std::uint32_t>(sizeof(OverflowBlock))});
  // The overflow blocks before the records, so that a reader streaming the records has them
  // (released ones too: a record names its block by index).
  static_assert(std::is_trivially_copyable_v<OverflowBlock>);
  w.u64(pool_.allocated());
  for (std::uint32_t h = 1; h <= pool_.allocated(); ++h) w.pod(pool_.at(h));
  w.u64(size_);
  for (Slot s = 0; s < size_; s += kBlockAccounts) {
    const std::size_t n = std::min<std::size_t>(kBlockAccounts, size_ - s);
    w.raw(record(s), n * record_bytes_);
  }
  static_assert(std::is_trivially_copyable_v<Pending>);
  w.pods(pending_);
  w.raw(&stats_, kCheckpointedAccountStatsBytes);  // the counters since the process started are not saved
}

SlowSums AccountStore::slow_from_fast(const FeatureParams& params, const AccountCore& core) {
  const double r = static_cast<double>(params.slow_half_life_ns) / static_cast<double>(params.half_life_ns);
  SlowSums s;
  s.sums = core.sums;
  scale_sums(s.sums, r);
  for (int i = 0; i < kTrackedUnderlyings; ++i) s.underlying_notional[i] = core.underlying_notional[i] * r;
  return s;
}

absl::Status AccountStore::for_each_saved_record(ByteReader& r, const FeatureParams& params,
                                                 const std::function<void(std::string_view, AccountId)>& fn) {
  const auto layout = r.pod<RecordLayout>();
  AccountStore probe(params);
  const bool same_bounds = layout.core_bytes == sizeof(AccountCore) && layout.max_positions == params.max_positions &&
                           layout.markout_slots == params.markout_slots;
  // Records of a checkpoint written before the slow clock: the same record without its SlowSums,
  // overflow blocks without their slow underlyings. Converted as they are read (core/checkpoint.md).
  const bool one_clock = same_bounds && layout.record_bytes == probe.one_clock_record_bytes_ &&
                         layout.overflow_bytes == kOneClockOverflowBytes;
  if (r.ok() && !one_clock &&
      (!same_bounds || layout.record_bytes != probe.record_bytes_ || layout.overflow_bytes != sizeof(OverflowBlock)))
    return absl::FailedPreconditionError(str_cat("account records of another layout (record ", layout.record_bytes,
                                                 " B, max_positions ", layout.max_positions, ", markout_slots ",
                                                 layout.markout_slots, "; this build and config: ", probe.record_bytes_,
                                                 " B, ", params.max_positions, ", ", params.markout_slots, ")"));
  const double slow_ratio = static_cast<double>(params.slow_half_life_ns) / static_cast<double>(params.half_life_ns);
  std::vector<OverflowBlock> blocks(r.count(layout.overflow_bytes == 0 ? 1 : layout.overflow_bytes));
  for (OverflowBlock& b : blocks) {
    if (!one_clock) {
      b = r.pod<OverflowBlock>();
      continue;
    }
    const std::string_view bytes = r.raw(kOneClockOverflowBytes);
    if (!r.ok()) break;
    b = OverflowBlock{};
    std::memcpy(&b, bytes.data(), bytes.size());
    for (int i = 0; i < kOverflowUnderlyings; ++i)
      b.slow_underlying_notional[i] = b.underlying_notional[i] * slow_ratio;
  }
  const std::uint64_t n = r.count(layout.record_bytes == 0 ? 1 : layout.record_bytes);
  std::string with_block;
  std::string converted;
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string_view rec = r.raw(layout.record_bytes);
    if (!r.ok()) break;
    AccountCore core;
    std::memcpy(&core, rec.data(), sizeof(core));
    if (one_clock) {
      // Core, book, positions and ring where they were; the slow clock starts from the fast one.
      converted.assign(probe.record_bytes_, '\0');
      std::memcpy(converted.data(), rec.data(), std::min(rec.size(), probe.slow_offset_));
      const SlowSums slow = slow_from_fast(params, core);
      std::memcpy(converted.data() + probe.slow_offset_, &slow, sizeof(slow));
      rec = converted;
    }
    PositionBook book;
    std::memcpy(&book, rec.data() + sizeof(AccountCore), sizeof(book));
    if (book.overflow == 0) {
      fn(rec, core.account);
      continue;
    }
    if (book.overflow > blocks.size())
      return absl::DataLossError("an account record names an overflow block past the saved ones");
    with_block.assign(rec);
    with_block.append(reinterpret_cast<const char*>(&blocks[book.overflow - 1]), sizeof(OverflowBlock));
    fn(with_block, core.account);
  }
  return r.status();
}

void AccountStore::append_record(std::string_view rec) {
  AccountCore core;
  std::memcpy(&core, rec.data(), sizeof(core));
  const Slot slot = create(core.account);
  index_.insert(core.account, slot);
  std::memcpy(record(slot), rec.data(), record_bytes_);
  AccountRef a = ref(slot);
  if (a.book->overflow != 0) {
    // The block appended by for_each_saved_record, into this store's pool (another index).
    a.book->overflow = 0;
    if (rec.size() >= record_bytes_ + sizeof(OverflowBlock)) {
      const std::uint32_t h = pool_.allocate(core.account);
      if (h != 0) {
        std::memcpy(&pool_.at(h), rec.data() + record_bytes_, sizeof(OverflowBlock));
        a.book->overflow = h;
      } else {
        ++stats_.overflow_pool_full;
      }
    }
  }
  if (a.core->flags & AccountCore::kInPendingList) pending_.push_back(pending_entry(slot, a));
}

absl::Status AccountStore::load(ByteReader& r) {
  if (size_ != 0) return absl::FailedPreconditionError("the account store is not empty");
  absl::Status st = for_each_saved_record(r, params_, [this](std::string_view rec, AccountId) { append_record(rec); });
  if (!st.ok()) return st;
  // The saved pending list replaces the one rebuilt in slot order: resolution then visits the
  // accounts in the order an uninterrupted run would.
  std::vector<Pending> pending = r.pods<Pending>();
  const std::string_view saved_stats = r.raw(kCheckpointedAccountStatsBytes);
  if (!r.ok()) return r.status();
  stats_ = AccountStats{};
  std::memcpy(&stats_, saved_stats.data(), kCheckpointedAccountStatsBytes);
  if (pending.size() != pending_.size()) return absl::DataLossError("pending-markout list does not match the records");
  for (const Pending& p : pending)
    if (p.slot >= size_) return absl::DataLossError("pending-markout list names a slot past the records");
  pending_ = std::move(pending);
  return absl::OkStatus();
}

}  // namespace segmentd
