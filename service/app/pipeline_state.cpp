// Pipeline's durable state: the consistent cut (capture), and a restart from the newest valid
// checkpoint (restore). core/checkpoint.md is the format; docs/architecture.md, "Durable state",
// the design.

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "core/checkpoint_codec.h"
#include "core/checkpoint_sections.h"
#include "core/str_cat.h"
#include "protocol/venues/registry.h"
#include "service/app/pipeline.h"
#include "service/base/log.h"
#include "service/publisher/publisher.h"
#include "service/state/config_fingerprint.h"

namespace segmentd {
namespace {

//! BTCH: the clusterer's open mini-batch, u64 n × TouchedAccount as in memory, by account id.
//! An account id >= `accounts` fails it.
absl::StatusOr<std::vector<TouchedAccount>> read_open_batch(ByteReader& r, std::uint64_t accounts) {
  std::vector<TouchedAccount> batch = r.pods<TouchedAccount>();
  for (const TouchedAccount& t : batch)
    if (t.account >= accounts) r.fail("an open-batch vector of an account without a name");
  if (!r.ok()) return r.status();
  return batch;
}

//! The shard sections inside SHRD: u32 count, then per shard a length-prefixed save_state.
std::vector<std::string_view> shard_parts(ByteReader& r) {
  std::vector<std::string_view> parts;
  const std::uint32_t n = r.u32();
  if (n > 4096) r.fail("shard count out of range");
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    const std::uint64_t len = r.u64();
    if (len > r.remaining()) {
      r.fail("shard section past its end");
      break;
    }
    parts.push_back(r.raw(len));
  }
  return parts;
}

//! Runs task(0..n-1) on up to one thread per core while `here` runs on the calling thread;
//! returns the first error of the tasks in index order, else here's status. A restart loads or
//! checks each shard's accounts on its own core: most of its time is copying records into fresh
//! memory.
template <typename Task, typename Here>
absl::Status in_parallel(std::size_t n, const Task& task, const Here& here) {
  std::vector<absl::Status> status(n);
  const std::size_t workers = std::min<std::size_t>(n, std::max(1U, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (std::size_t w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      for (std::size_t k = w; k < n; k += workers) status[k] = task(k);
    });
  absl::Status mine = here();
  for (std::thread& t : threads) t.join();
  for (absl::Status& st : status)
    if (!st.ok()) return st;
  return mine;
}

std::vector<std::pair<std::string, std::string>> read_sources(ByteReader& r) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::uint64_t n = r.count(8);
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string name = r.str();
    std::string pos = r.str();
    out.emplace_back(std::move(name), std::move(pos));
  }
  return out;
}

}  // namespace

absl::Status Pipeline::restore() {
  CheckpointDirectory dir(state_dir_, config_.checkpoint.keep);
  if (absl::Status st = dir.prepare(); !st.ok()) {
    state_refused_ = true;
    return absl::FailedPreconditionError(str_cat("[checkpoint] dir: ", st.message()));
  }
  // Validation builds every part in scratch objects first: a file that passes is then applied in
  // full, so a refused file never leaves a half-loaded pipeline behind.
  auto validate = [this](const CheckpointImage& img) -> absl::Status {
    ByteReader a = img.reader(kSectionAccounts);
    const std::uint64_t names = check_interner(a);
    if (!a.ok()) return a.status();
    InstrumentRegistry instruments(parse_symbol, config_.contracts, config_.spot_pairs);
    ByteReader i = img.reader(kSectionInstruments);
    load_registry(i, instruments);
    if (!i.ok()) return i.status();
    ByteReader m = img.reader(kSectionModel);
    if (!load_model(m)) return m.status();
    ByteReader c = img.reader(kSectionClusterer);
    load_clusterer_state(c);
    if (!c.ok()) return c.status();
    ByteReader s = img.reader(kSectionShards);
    const std::vector<std::string_view> parts = shard_parts(s);
    if (!s.ok()) return s.status();
    auto check_part = [&](std::size_t k) -> absl::Status {
      ByteReader p(parts[k], "SHRD");
      AccountShard scratch(0, AccountShardOptions{});
      if (absl::Status st = AccountShard::merge_saved_clocks(p, scratch); !st.ok()) return st;
      std::uint64_t n = 0;
      if (absl::Status st = AccountStore::for_each_saved_record(
              p, config_.features.params, [&](std::string_view, AccountId id) { n += id < names ? 0 : 1; });
          !st.ok())
        return st;
      if (n > 0) return absl::DataLossError(str_cat("section SHRD: ", n, " accounts without a name"));
      return absl::OkStatus();
    };
    if (absl::Status st = in_parallel(parts.size(), check_part, [] { return absl::OkStatus(); }); !st.ok()) return st;
    ByteReader src = img.reader(kSectionSources);
    for (const auto& [name, pos] : read_sources(src))
      for (const auto& source : sources_)
        if (source->name() == name)
          if (absl::Status st = source->check_position(pos); !st.ok()) return st;
    if (!src.ok()) return src.status();
    // Sections a checkpoint of an older build may lack: read only when present.
    if (img.has(kSectionOpenBatch)) {
      ByteReader b = img.reader(kSectionOpenBatch);
      if (absl::Status st = read_open_batch(b, names).status(); !st.ok()) return st;
    }
    if (img.has(kSectionChangeLog)) {
      ByteReader l = img.reader(kSectionChangeLog);
      load_segment_changes(l, names);
      if (!l.ok()) return l.status();
    }
    return absl::OkStatus();
  };
  std::vector<CheckpointDirectory::Rejected> rejected;
  absl::StatusOr<std::optional<CheckpointDirectory::Loaded>> loaded =
      dir.load_newest(Fingerprints(fingerprint_, config_fingerprint_one_clock(config_)), validate, &rejected);
  for (const auto& r : rejected)
    SEGMENTD_LOG_WARN("checkpoint", "checkpoint refused", {"path", r.path}, {"reason", r.reason});
  if (!loaded.ok()) {
    std::string list;
    for (const auto& r : rejected) list += str_cat("\n  ", r.path, ": ", r.reason);
    if (config_.checkpoint.on_invalid == "start-empty") {
      SEGMENTD_LOG_WARN("checkpoint", "no valid checkpoint: starting empty (checkpoint.on_invalid = start-empty)",
                        {"dir", state_dir_});
      return absl::OkStatus();
    }
    state_refused_ = true;
    return absl::FailedPreconditionError(
        str_cat("no valid checkpoint in ", state_dir_, list,
                "\n(set [checkpoint] on_invalid = \"start-empty\" to start with no state, or move the files away)"));
  }
  if (!loaded->has_value()) return absl::OkStatus();  // a fresh directory
  const auto t0 = std::chrono::steady_clock::now();
  if (absl::Status st = apply((*loaded)->image); !st.ok())
    return absl::Status(st.code(), str_cat((*loaded)->path, ": ", st.message()));
  restored_from_ = (*loaded)->path;
  SEGMENTD_LOG_INFO("checkpoint", "restored", {"path", restored_from_}, {"accounts", accounts_.size()},
                    {"model_version", clusterer_->model()->version},
                    {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
  return absl::OkStatus();
}

absl::Status Pipeline::apply(const CheckpointImage& img) {
  ByteReader i = img.reader(kSectionInstruments);
  load_registry(i, instruments_);
  if (!i.ok()) return i.status();
  ByteReader t = img.reader(kSectionTape);
  load_tape(t, *tape_);
  if (!t.ok()) return t.status();
  ByteReader m = img.reader(kSectionModel);
  ModelPtr model = load_model(m);
  ByteReader c = img.reader(kSectionClusterer);
  ClustererState cs = load_clusterer_state(c);
  if (!m.ok() || !c.ok()) return m.ok() ? c.status() : m.status();
  std::vector<TouchedAccount> open_batch;
  if (img.has(kSectionOpenBatch)) {
    ByteReader b = img.reader(kSectionOpenBatch);
    auto read = read_open_batch(b, std::numeric_limits<std::uint64_t>::max());
    if (!read.ok()) return read.status();
    open_batch = std::move(*read);
  }
  clusterer_->restore(cs, model->version > 0 ? model : nullptr, open_batch);

  // Accounts: shard by shard when the shard count is the same, else each record to its new shard.
  ByteReader s = img.reader(kSectionShards);
  std::vector<std::string_view> parts = shard_parts(s);
  if (!s.ok()) return s.status();
  const int shards = shards_->shards();
  // The account names load on this thread meanwhile: the shards keep ids, not names.
  auto load_names = [&]() -> absl::Status {
    ByteReader a = img.reader(kSectionAccounts);
    load_interner(a, accounts_);
    return a.status();
  };
  if (static_cast<int>(parts.size()) == shards) {
    auto load_part = [&](std::size_t k) -> absl::Status {
      ByteReader p(parts[k], "SHRD");
      return static_cast<AccountShard&>(shards_->handler(static_cast<int>(k))).load_state(p);
    };
    if (absl::Status st = in_parallel(parts.size(), load_part, load_names); !st.ok()) return st;
  } else {
    if (absl::Status st = load_names(); !st.ok()) return st;
    SEGMENTD_LOG_INFO("checkpoint", "shard count changed: accounts re-routed", {"saved", parts.size()},
                      {"now", shards});
    for (std::string_view part : parts) {
      for (int k = 0; k < shards; ++k) {
        ByteReader clocks(part, "SHRD");
        if (absl::Status st = AccountShard::merge_saved_clocks(clocks, static_cast<AccountShard&>(shards_->handler(k)));
            !st.ok())
          return st;
      }
      ByteReader skip(part, "SHRD");
      AccountShard scratch(0, AccountShardOptions{});
      (void)AccountShard::merge_saved_clocks(skip, scratch);
      absl::Status st =
          AccountStore::for_each_saved_record(skip, config_.features.params, [&](std::string_view rec, AccountId id) {
            static_cast<AccountShard&>(shards_->handler(shard_of(id, shards))).append_record(rec);
          });
      if (!st.ok()) return st;
    }
  }
  // The change log's exact segment sizes, from the restored assignments.
  {
    std::lock_guard<std::mutex> lock(changes_mu_);
    recent_.clear();
    if (img.has(kSectionChangeLog)) {
      ByteReader l = img.reader(kSectionChangeLog);
      const std::vector<SegmentChange> log = load_segment_changes(l, accounts_.size());
      if (!l.ok()) return l.status();
      const std::size_t skip = log.size() > kRecentChanges ? log.size() - kRecentChanges : 0;
      recent_.assign(log.begin() + static_cast<std::ptrdiff_t>(skip), log.end());
    }
    segment_sizes_.clear();
    for (int k = 0; k < shards; ++k) {
      static_cast<AccountShard&>(shards_->handler(k)).for_each_account([this](const AccountSnapshot& snap) {
        if (snap.segment != kNoSegment) ++segment_sizes_[snap.segment];
      });
    }
  }

  if (publisher_ && img.has(kSectionPublisher)) {
    ByteReader p = img.reader(kSectionPublisher);
    std::string_view bytes = p.raw(p.remaining());
    if (absl::Status st = publisher_->load_state(bytes, model->version > 0 ? model : nullptr); !st.ok()) return st;
  }

  ByteReader src = img.reader(kSectionSources);
  for (const auto& [name, pos] : read_sources(src)) {
    bool found = false;
    for (auto& source : sources_) {
      if (source->name() != name) continue;
      found = true;
      if (absl::Status st = source->restore_position(pos); !st.ok()) return st;
    }
    if (!found) SEGMENTD_LOG_WARN("checkpoint", "source in the checkpoint is not configured", {"source", name});
  }
  ByteReader pipe = img.reader(kSectionPipeline);
  restored_fills_ = pipe.u64();
  change_count_.store(pipe.u64(), std::memory_order_relaxed);
  move_count_.store(pipe.u64(), std::memory_order_relaxed);
  return pipe.status();
}

absl::StatusOr<CheckpointCapture> Pipeline::capture(CheckpointFile* file) {
  CheckpointCapture cap;
  CheckpointImage& img = cap.image;
  img.header.config_fingerprint = fingerprint_;
  const bool live = running_.load(std::memory_order_acquire);
  const int shards = shards_->shards();
  // The shards' records are the file's first section. Each shard writes its records into its
  // own region of the checkpoint file's mapping (CheckpointFile), or without one into its own
  // buffer; either is faulted in here, before the cut: the cut then copies memory and faults in
  // none (in a VM, faulting a gigabyte took seconds). CheckpointImage::write_mapped later closes
  // the gaps the regions' margins leave.
  std::vector<ByteWriter> shard_bytes(static_cast<std::size_t>(shards));
  img.add(kSectionShards).u32(static_cast<std::uint32_t>(shards));
  const auto t_prefault = std::chrono::steady_clock::now();
  {
    const std::size_t record = static_cast<AccountShard&>(shards_->handler(0)).store().bytes_per_account_state();
    const std::size_t expected = accounts_.size() / static_cast<std::size_t>(shards) * (record + 16) + (1 << 16);
    const std::size_t per_shard = accounts_.size() / static_cast<std::size_t>(shards) * 5 / 4 + 1024;
    const std::size_t region = per_shard * (record + 16) + (1 << 16);
    // The section's count (u32), then per shard its length (u64) and its records.
    const std::size_t mapped = kCheckpointFirstPayload + 4 + static_cast<std::size_t>(shards) * (8 + region);
    char* map = file != nullptr ? file->map(mapped) : nullptr;
    std::size_t at = kCheckpointFirstPayload + 4;
    for (ByteWriter& w : shard_bytes) {
      if (map != nullptr) {
        at += 8;
        w.write_into(map + at, region);
        file->populate(map + at, std::min(expected, region));
        at += region;
      } else {
        w.prefault(region);
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> positions;

  const auto t0 = std::chrono::steady_clock::now();
  cap.prefault_seconds = std::chrono::duration<double>(t0 - t_prefault).count();
  if (live) {
    // The cut: every source stops at a unit boundary, the shards apply everything pushed before,
    // and each shard copies its state on its own thread. Ingest waits only for this block.
    pause_sinks_.store(true, std::memory_order_seq_cst);
    for (const auto& sink : sinks_)
      while (sink->busy()) std::this_thread::sleep_for(std::chrono::microseconds(20));
    for (int k = 0; k < shards; ++k)
      while (shards_->depth(k) > 0) std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  for (auto& source : sources_) {
    std::string pos;
    source->save_position(pos);
    positions.emplace_back(std::string(source->name()), std::move(pos));
  }
  if (live) {
    std::vector<std::future<void>> done;
    for (int k = 0; k < shards; ++k) {
      done.push_back(shards_->call(k, [&shard_bytes, k](ShardHandler& h) {
        static_cast<AccountShard&>(h).save_state(shard_bytes[static_cast<std::size_t>(k)]);
      }));
    }
    for (auto& d : done) d.get();
  } else {
    for (int k = 0; k < shards; ++k)
      static_cast<AccountShard&>(shards_->handler(k)).save_state(shard_bytes[static_cast<std::size_t>(k)]);
  }
  save_interner(img.add(kSectionAccounts), accounts_);
  save_registry(img.add(kSectionInstruments), instruments_);
  save_tape(img.add(kSectionTape), *tape_);
  std::uint64_t fills = restored_fills_;
  for (int k = 0; k < shards; ++k) fills += shards_->processed(k);
  if (live) pause_sinks_.store(false, std::memory_order_seq_cst);
  cap.cut_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Off the cut: the clusterer (on its thread, between batches) and the publisher (its lock).
  ClustererLoopState loop = clusterer_->request_state().get();
  save_clusterer_state(img.add(kSectionClusterer), loop.clusterer);
  save_model(img.add(kSectionModel), loop.model ? *loop.model : Model{});
  img.add(kSectionOpenBatch).pods(loop.open_batch);
  for (ByteWriter& b : shard_bytes) {
    ByteWriter len;
    len.u64(b.size());
    img.append(kSectionShards, std::move(len));
    img.append(kSectionShards, std::move(b));
  }
  if (publisher_) publisher_->save_state(img.add(kSectionPublisher));
  {
    ByteWriter& w = img.add(kSectionSources);
    w.u64(positions.size());
    for (const auto& [name, pos] : positions) {
      w.str(name);
      w.str(pos);
    }
  }
  {
    std::vector<SegmentChange> log;  // copied under the lock, written after it
    {
      std::lock_guard<std::mutex> lock(changes_mu_);
      log.assign(recent_.begin(), recent_.end());
    }
    save_segment_changes(img.add(kSectionChangeLog), log);
  }
  {
    ByteWriter& w = img.add(kSectionPipeline);
    w.u64(fills);
    w.u64(change_count_.load(std::memory_order_relaxed));
    w.u64(move_count_.load(std::memory_order_relaxed));
  }
  {
    ByteWriter& w = img.add(kSectionInfo);
    w.str(str_cat("segmentd ", SEGMENTD_VERSION, "; run; config ", config_.path, "; shards ", shards));
  }
  cap.accounts = accounts_.size();
  return cap;
}

}  // namespace segmentd
