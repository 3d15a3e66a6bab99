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
  absl::StatusOr<std::optional<Loaded>> load_newest(std::uint64_t fingerprint,
                                                    const std::function<absl::Status(const CheckpointImage&)>& validate,
                                                    std::vector<Rejected>* rejected) const;

 private:
  std::string dir_;
  int keep_;
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
  using Capture = std::function<absl::StatusOr<CheckpointCapture>()>;
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
