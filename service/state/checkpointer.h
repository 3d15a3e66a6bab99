#pragma once
// Durable state on disk (core/checkpoint.md is the format; docs/architecture.md, "Durable state").
//
// CheckpointDirectory: the files of one state directory, `checkpoint-<sequence>.sdc`, each
// written as temp file → fsync → rename → fsync of the directory, so that a crash at any point
// leaves the previous files intact and never a half-written file under a checkpoint's name; the
// newest `keep` are kept. Loading tries the newest first and falls back file by file, naming
// each rejected file with its reason.
//
// Checkpointer: the thread that writes one every `interval` and whenever asked (SIGTERM, POST
// /v1/checkpoint). The caller's capture function takes the consistent cut (the pipeline pauses its
// sources and shards for that long only) and returns the image; encoding and I/O happen here,
// off the shard threads. Its status and counters are what /v1/checkpoint and the
// segmentd_checkpoint_* metrics show.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "core/checkpoint_io.h"

namespace segmentd {

class CheckpointFile;

class CheckpointDirectory {
 public:
  CheckpointDirectory(std::string dir, int keep) : dir_(std::move(dir)), keep_(keep < 1 ? 1 : keep) {}

  const std::string& path() const { return dir_; }
  //! Creates the directory (and parents) and removes temp files a crash left behind.
  absl::Status prepare() const;

  struct File {
    std::uint64_t sequence = 0;
    std::string path;
  };
  //! The checkpoint files, newest (highest sequence) first.
  std::vector<File> list() const;

  struct Written {
    std::string path;
    std::uint64_t bytes = 0;
    std::uint64_t sequence = 0;
    double write_seconds = 0.0;  //!< checksums and write(2) into the page cache
    double sync_seconds = 0.0;   //!< fsync of the file, rename, fsync of the directory
  };
  //! Gives the image the next sequence number, writes it atomically and deletes all but the
  //! newest `keep` files. The image's large sections are given back to the kernel as they are
  //! written (CheckpointImage::Release::kAsWritten): drop the image afterwards.
  absl::StatusOr<Written> write(CheckpointImage& image) const;
  //! The same, into `file` (made for this directory before the capture): when the capture wrote
  //! the first section into file.map(), the file is finished in place
  //! (CheckpointImage::write_mapped); when that layout does not work out, or there is no mapping,
  //! the image is written by copy into a new file as write(image) does.
  absl::StatusOr<Written> write(CheckpointImage& image, CheckpointFile& file) const;

  struct Rejected {
    std::string path;
    std::string reason;
  };
  struct Loaded {
    CheckpointImage image;
    std::string path;
  };
  //! The newest file that decodes with `fingerprint` and that `validate` accepts; nullopt when
  //! the directory has no checkpoint file at all. Every file tried and refused is appended to
  //! *rejected. An error only when files exist and none is valid (the caller decides: refuse or
  //! start empty).
  absl::StatusOr<std::optional<Loaded>> load_newest(Fingerprints fingerprint,
                                                    const std::function<absl::Status(const CheckpointImage&)>& validate,
                                                    std::vector<Rejected>* rejected) const;

 private:
  friend class CheckpointFile;
  absl::StatusOr<Written> write_copy(CheckpointImage& image, const std::string& final_path,
                                     const std::string& temp_path) const;
  absl::StatusOr<Written> commit(int fd, std::uint64_t bytes, const std::string& temp_path,
                                 const std::string& final_path, double write_seconds) const;
  std::string dir_;
  int keep_;
};

//! The file one checkpoint is written into, made before the capture so that the cut can write
//! the large section (the shards' records, a gigabyte at 1,000,000 accounts) straight into the
//! file's pages through a shared mapping, with no buffer in between and no copy afterwards.
//!
//! When this write would delete the oldest file anyway (`keep` files exist, and at least two, so
//! that a valid one stays meanwhile), that file is renamed to the temp name and written over:
//! its pages are usually still in the page cache, so the checkpoint needs no fresh memory, which
//! costs seconds per gigabyte on some VMs (bench/README.md, "Checkpoints"). A file mostly out of
//! the page cache is emptied first (writing over it would read it back from disk), and so is a
//! file that was not laid out in place (its page cache may be slow to write through a mapping:
//! kLaidOutAttr in checkpointer.cpp).
//! The space is allocated (fallocate) before it is mapped: a full disk is an error here, never a
//! SIGBUS in the cut.
class CheckpointFile {
 public:
  explicit CheckpointFile(const CheckpointDirectory& directory);
  ~CheckpointFile();  //!< unmaps, closes, and deletes the temp file unless it was committed
  CheckpointFile(const CheckpointFile&) = delete;
  CheckpointFile& operator=(const CheckpointFile&) = delete;

  //! The file's first `bytes` bytes as writable memory (shared mapping), or nullptr when it
  //! cannot be had (the reason is logged; the capture then writes into its own buffers). Once.
  char* map(std::size_t bytes);
  //! Faults in the pages of [p, p + n) of the mapping for writing, ahead of the cut.
  void populate(char* p, std::size_t n) const;
  bool recycled() const { return recycled_; }  //!< written over the oldest file
  std::uint64_t sequence() const { return sequence_; }

 private:
  friend class CheckpointDirectory;
  void unmap();

  const CheckpointDirectory& directory_;
  std::uint64_t sequence_ = 0;
  std::string final_path_;
  std::string temp_path_;
  int fd_ = -1;
  char* map_ = nullptr;
  std::size_t map_size_ = 0;
  bool recycled_ = false;
  bool committed_ = false;
};

//! The outcome of one checkpoint.
struct CheckpointResult {
  bool ok = false;
  std::string error;  //!< when !ok
  std::string path;   //!< the file written
  std::uint64_t sequence = 0;
  std::uint64_t bytes = 0;
  std::int64_t finished_unix_ns = 0;
  double seconds = 0.0;      //!< capture + encode + write
  double cut_seconds = 0.0;  //!< the part during which ingest was paused
  //! Where `seconds` went: buffers faulted in before the cut, the whole capture (cut included),
  //! checksums and write(2), fsyncs and rename.
  double prefault_seconds = 0.0;
  double capture_seconds = 0.0;
  double write_seconds = 0.0;
  double sync_seconds = 0.0;
  std::uint64_t accounts = 0;
  std::string trigger;  //!< "interval", "request", "shutdown"
};

//! What the capture function returns: the image and how long ingest was paused to take it.
struct CheckpointCapture {
  CheckpointImage image;
  double cut_seconds = 0.0;
  double prefault_seconds = 0.0;
  std::uint64_t accounts = 0;
};

class Checkpointer {
 public:
  //! Takes the cut into an image; may write its first section into `file`'s mapping.
  using Capture = std::function<absl::StatusOr<CheckpointCapture>(CheckpointFile& file)>;
  //! Called after every write, on the writing thread (metrics).
  using OnResult = std::function<void(const CheckpointResult&)>;
  Checkpointer(CheckpointDirectory directory, std::int64_t interval_ns, Capture capture, OnResult on_result = {});
  ~Checkpointer();  //!< stop()
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  void start();
  //! Joins the thread; no checkpoint is written by stop() itself (call write_now first).
  void stop();
  //! Writes one now on the calling thread (shutdown: after the sources stopped). Serialized
  //! with the thread's writes.
  CheckpointResult write_now(const std::string& trigger);
  //! Asks the thread for one now; the future is ready when it is written.
  std::future<CheckpointResult> request();
  //! Asks the thread for one now; `done` is called once with the result, on the checkpointer's
  //! thread (or on the caller's or stop()'s, when the checkpointer is not running or stops first).
  using Done = std::function<void(const CheckpointResult&)>;
  void request(Done done);

  //! The last write's outcome (nullopt before the first). Any thread.
  std::optional<CheckpointResult> last() const;
  const CheckpointDirectory& directory() const { return directory_; }

  // Counters for metrics (any thread).
  std::uint64_t writes() const { return writes_.load(std::memory_order_relaxed); }
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  //! Unix time of the last successful write (0 before one: the age is then since start).
  std::int64_t last_success_unix_ns() const { return last_success_ns_.load(std::memory_order_relaxed); }
  std::int64_t started_unix_ns() const { return started_ns_; }

 private:
  void run();

  CheckpointDirectory directory_;
  std::int64_t interval_ns_;
  Capture capture_;
  OnResult on_result_;
  std::int64_t started_ns_ = 0;

  std::mutex write_mu_;  //!< one write at a time
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                 // guarded by mu_
  std::vector<Done> requests_;            // guarded by mu_
  std::optional<CheckpointResult> last_;  // guarded by mu_
  std::thread thread_;

  std::atomic<std::uint64_t> writes_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::int64_t> last_success_ns_{0};
};

}  // namespace segmentd
