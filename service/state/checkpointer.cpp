#include "service/state/checkpointer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_format.h"
#include "core/str_cat.h"
#include "service/base/log.h"

namespace segmentd {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "checkpoint-";
constexpr std::string_view kSuffix = ".sdc";
constexpr std::string_view kTempSuffix = ".sdc.tmp";

std::int64_t unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string errno_text() { return std::strerror(errno); }

//! The sequence in "checkpoint-<digits>.sdc", or nullopt.
std::optional<std::uint64_t> sequence_of(std::string_view name) {
  if (name.size() <= kPrefix.size() + kSuffix.size() || name.substr(0, kPrefix.size()) != kPrefix ||
      name.substr(name.size() - kSuffix.size()) != kSuffix)
    return std::nullopt;
  std::string_view digits = name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  std::uint64_t v = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

absl::Status fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(str_cat("opening ", path, " to sync: ", errno_text()));
  const int rc = ::fsync(fd);
  const std::string err = rc != 0 ? errno_text() : "";
  ::close(fd);
  if (rc != 0) return absl::InternalError(str_cat("fsync of ", path, ": ", err));
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckpointDirectory::prepare() const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return absl::FailedPreconditionError(str_cat("cannot create state directory ", dir_, ": ", ec.message()));
  if (!fs::is_directory(dir_, ec))
    return absl::FailedPreconditionError(str_cat("state directory ", dir_, " is not a directory"));
  if (::access(dir_.c_str(), W_OK | X_OK) != 0)
    return absl::FailedPreconditionError(str_cat("state directory ", dir_, " is not writable: ", errno_text()));
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > kTempSuffix.size() && name.substr(0, kPrefix.size()) == kPrefix &&
        name.substr(name.size() - kTempSuffix.size()) == kTempSuffix)
      fs::remove(e.path(), ec);  // a write a crash interrupted: never renamed, never valid
  }
  return absl::OkStatus();
}

std::vector<CheckpointDirectory::File> CheckpointDirectory::list() const {
  std::vector<File> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (auto seq = sequence_of(name)) files.push_back(File{*seq, e.path().string()});
  }
  std::sort(files.begin(), files.end(), [](const File& a, const File& b) { return a.sequence > b.sequence; });
  return files;
}

absl::StatusOr<CheckpointDirectory::Written> CheckpointDirectory::write(CheckpointImage& image) const {
  const std::vector<File> existing = list();
  image.header.sequence = existing.empty() ? 1 : existing.front().sequence + 1;
  const std::string name = absl::StrFormat("%s%020d%s", kPrefix, image.header.sequence, kSuffix);
  const std::string final_path = (fs::path(dir_) / name).string();
  const std::string temp_path = final_path + ".tmp";
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return absl::InternalError(str_cat("cannot create ", temp_path, ": ", errno_text()));
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<std::uint64_t> written = image.write_to(fd, temp_path, CheckpointImage::Release::kAsWritten);
  const auto t1 = std::chrono::steady_clock::now();
  absl::Status st = written.status();
  if (st.ok() && ::fsync(fd) != 0) st = absl::InternalError(str_cat("fsync of ", temp_path, ": ", errno_text()));
  if (::close(fd) != 0 && st.ok()) st = absl::InternalError(str_cat("closing ", temp_path, ": ", errno_text()));
  if (st.ok() && ::rename(temp_path.c_str(), final_path.c_str()) != 0)
    st = absl::InternalError(str_cat("renaming ", temp_path, " to ", final_path, ": ", errno_text()));
  if (!st.ok()) {
    ::unlink(temp_path.c_str());
    return st;
  }
  // The rename is durable only once the directory entry is.
  if (absl::Status d = fsync_path(dir_, O_RDONLY | O_DIRECTORY); !d.ok()) return d;
  const auto t2 = std::chrono::steady_clock::now();
  std::vector<File> files = list();
  std::error_code ec;
  for (std::size_t i = static_cast<std::size_t>(keep_); i < files.size(); ++i) fs::remove(files[i].path, ec);
  return Written{final_path, *written, image.header.sequence, std::chrono::duration<double>(t1 - t0).count(),
                 std::chrono::duration<double>(t2 - t1).count()};
}

absl::StatusOr<std::optional<CheckpointDirectory::Loaded>> CheckpointDirectory::load_newest(
    std::uint64_t fingerprint, const std::function<absl::Status(const CheckpointImage&)>& validate,
    std::vector<Rejected>* rejected) const {
  const std::vector<File> files = list();
  if (files.empty()) return std::optional<Loaded>();
  for (const File& f : files) {
    absl::StatusOr<CheckpointImage> img = CheckpointImage::decode_file(f.path, fingerprint);
    if (!img.ok()) {
      rejected->push_back({f.path, std::string(img.status().message())});
      continue;
    }
    if (absl::Status v = validate(*img); !v.ok()) {
      rejected->push_back({f.path, std::string(v.message())});
      continue;
    }
    return std::optional<Loaded>(Loaded{*std::move(img), f.path});
  }
  return absl::DataLossError(str_cat("no valid checkpoint among ", files.size(), " in ", dir_));
}

Checkpointer::Checkpointer(CheckpointDirectory directory, std::int64_t interval_ns, Capture capture, OnResult on_result)
    : directory_(std::move(directory)),
      interval_ns_(interval_ns),
      capture_(std::move(capture)),
      on_result_(std::move(on_result)),
      started_ns_(unix_ns()) {}

Checkpointer::~Checkpointer() { stop(); }

void Checkpointer::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void Checkpointer::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<Done> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(requests_);
  }
  for (auto& done : left) {
    CheckpointResult r;
    r.error = "the service is stopping";
    r.trigger = "request";
    done(r);
  }
}

std::future<CheckpointResult> Checkpointer::request() {
  auto p = std::make_shared<std::promise<CheckpointResult>>();
  auto f = p->get_future();
  request([p](const CheckpointResult& r) { p->set_value(r); });
  return f;
}

void Checkpointer::request(Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_ && thread_.joinable()) {
      requests_.push_back(std::move(done));
      cv_.notify_all();
      return;
    }
  }
  CheckpointResult r;
  r.error = "the checkpointer is not running";
  r.trigger = "request";
  done(r);
}

std::optional<CheckpointResult> Checkpointer::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

CheckpointResult Checkpointer::write_now(const std::string& trigger) {
  std::lock_guard<std::mutex> serial(write_mu_);
  CheckpointResult r;
  r.trigger = trigger;
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<CheckpointCapture> cap = capture_();
  if (!cap.ok()) {
    r.error = std::string(cap.status().message());
  } else {
    r.cut_seconds = cap->cut_seconds;
    r.prefault_seconds = cap->prefault_seconds;
    r.capture_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.accounts = cap->accounts;
    cap->image.header.written_unix_ns = unix_ns();
    absl::StatusOr<CheckpointDirectory::Written> w = directory_.write(cap->image);
    if (!w.ok()) {
      r.error = std::string(w.status().message());
    } else {
      r.ok = true;
      r.path = w->path;
      r.bytes = w->bytes;
      r.sequence = w->sequence;
      r.write_seconds = w->write_seconds;
      r.sync_seconds = w->sync_seconds;
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.finished_unix_ns = unix_ns();
  if (r.ok) {
    writes_.fetch_add(1, std::memory_order_relaxed);
    last_success_ns_.store(r.finished_unix_ns, std::memory_order_relaxed);
    SEGMENTD_LOG_INFO("checkpoint", "checkpoint written", {"path", r.path}, {"bytes", r.bytes},
                      {"accounts", r.accounts}, {"seconds", r.seconds}, {"ingest_paused_seconds", r.cut_seconds},
                      {"prefault_seconds", r.prefault_seconds}, {"capture_seconds", r.capture_seconds},
                      {"write_seconds", r.write_seconds}, {"sync_seconds", r.sync_seconds}, {"trigger", r.trigger});
  } else {
    failures_.fetch_add(1, std::memory_order_relaxed);
    SEGMENTD_LOG_ERROR("checkpoint", "checkpoint failed", {"dir", directory_.path()}, {"error", r.error},
                       {"trigger", r.trigger});
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_ = r;
  }
  if (on_result_) on_result_(r);
  return r;
}

void Checkpointer::run() {
  auto next = std::chrono::steady_clock::now() + std::chrono::nanoseconds(interval_ns_);
  for (;;) {
    std::vector<Done> asked;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, next, [this] { return stopping_ || !requests_.empty(); });
      if (stopping_) return;
      asked.swap(requests_);
    }
    const bool due = std::chrono::steady_clock::now() >= next;
    if (asked.empty() && !due) continue;
    CheckpointResult r = write_now(asked.empty() ? "interval" : "request");
    for (auto& done : asked) done(r);
    next = std::chrono::steady_clock::now() + std::chrono::nanoseconds(interval_ns_);
  }
}

}  // namespace segmentd
