#include "service/state/checkpointer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_format.h"
#include "core/str_cat.h"
#include "service/base/log.h"

namespace segmentd {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "checkpoint-";
constexpr std::string_view kSuffix = ".sdc";
constexpr std::string_view kTempSuffix = ".tmp";  // <name>.tmp, <name>.copy.tmp

std::int64_t unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string errno_text() { return std::strerror(errno); }

#ifdef MADV_POPULATE_WRITE
constexpr int kPopulateWrite = MADV_POPULATE_WRITE;
#else
constexpr int kPopulateWrite = 23;  // Linux 5.14
#endif

//! Set on a file laid out in place (CheckpointImage::write_mapped) at memory speed. Only such a
//! file is written over with its pages as they are; any other is emptied first. The page cache
//! of a file can be made of small folios (written by cp, or created while memory was
//! fragmented), and writes through a mapping into those ran 4 to 10 times slower on our VM
//! (bench/README.md, "Checkpoints"): closing the margins and checksumming took 2.0-2.6 s per GB
//! instead of 0.5-0.6 s. Such a file is not reused, so a slow file does not stay slow.
constexpr const char* kLaidOutAttr = "user.segmentd.laid_out";
constexpr double kSlowSecondsPerGigabyte = 1.2;
constexpr double kJudgedFromGigabytes = 0.064;  // smaller files are always reused

std::string file_name(std::uint64_t sequence) { return absl::StrFormat("%s%020d%s", kPrefix, sequence, kSuffix); }

//! Whether at least half of the file's first `bytes` are in the page cache.
bool mostly_cached(int fd, std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return false;
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in((bytes + page - 1) / page);
  std::size_t resident = 0;
  if (::mincore(p, bytes, in.data()) == 0)
    for (const unsigned char c : in) resident += c & 1;
  ::munmap(p, bytes);
  return resident * 2 >= in.size();
}

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
  const std::string final_path = (fs::path(dir_) / file_name(image.header.sequence)).string();
  return write_copy(image, final_path, final_path + ".tmp");
}

absl::StatusOr<CheckpointDirectory::Written> CheckpointDirectory::write(CheckpointImage& image,
                                                                        CheckpointFile& file) const {
  image.header.sequence = file.sequence_;
  if (file.map_ != nullptr) {
    const auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<std::uint64_t> written = image.write_mapped(file.fd_, file.map_, file.map_size_, file.temp_path_);
    if (written.ok()) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      // Marked for reuse only when laying it out ran at memory speed (kLaidOutAttr); a hint only:
      // without it the file is emptied before it is written over again.
      const double gigabytes = static_cast<double>(*written) / 1e9;
      if (gigabytes < kJudgedFromGigabytes || seconds / gigabytes <= kSlowSecondsPerGigabyte)
        (void)::fsetxattr(file.fd_, kLaidOutAttr, "1", 1, 0);
      file.unmap();
      const int fd = std::exchange(file.fd_, -1);
      file.committed_ = true;  // commit() renames or deletes it
      return commit(fd, *written, file.temp_path_, file.final_path_, seconds);
    }
    if (!absl::IsFailedPrecondition(written.status())) return written.status();
    // The capture's chunks stay readable in the mapping: written by copy into another file.
    SEGMENTD_LOG_WARN("checkpoint", "checkpoint written by copy, not in place",
                      {"reason", std::string(written.status().message())}, {"path", file.final_path_});
  }
  return write_copy(image, file.final_path_, file.final_path_ + ".copy.tmp");
}

absl::StatusOr<CheckpointDirectory::Written> CheckpointDirectory::write_copy(CheckpointImage& image,
                                                                             const std::string& final_path,
                                                                             const std::string& temp_path) const {
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return absl::InternalError(str_cat("cannot create ", temp_path, ": ", errno_text()));
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<std::uint64_t> written = image.write_to(fd, temp_path, CheckpointImage::Release::kAsWritten);
  const double write_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!written.ok()) {
    ::close(fd);
    ::unlink(temp_path.c_str());
    return written.status();
  }
  return commit(fd, *written, temp_path, final_path, write_seconds);
}

absl::StatusOr<CheckpointDirectory::Written> CheckpointDirectory::commit(int fd, std::uint64_t bytes,
                                                                         const std::string& temp_path,
                                                                         const std::string& final_path,
                                                                         double write_seconds) const {
  const auto t1 = std::chrono::steady_clock::now();
  absl::Status st;
  if (::fsync(fd) != 0) st = absl::InternalError(str_cat("fsync of ", temp_path, ": ", errno_text()));
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
  const std::optional<std::uint64_t> sequence = sequence_of(fs::path(final_path).filename().string());
  return Written{final_path, bytes, sequence.value_or(0), write_seconds,
                 std::chrono::duration<double>(t2 - t1).count()};
}

CheckpointFile::CheckpointFile(const CheckpointDirectory& directory) : directory_(directory) {
  const std::vector<CheckpointDirectory::File> existing = directory_.list();
  sequence_ = existing.empty() ? 1 : existing.front().sequence + 1;
  final_path_ = (fs::path(directory_.path()) / file_name(sequence_)).string();
  temp_path_ = final_path_ + ".tmp";
}

CheckpointFile::~CheckpointFile() {
  unmap();
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && (fd_ >= 0 || recycled_)) ::unlink(temp_path_.c_str());
}

void CheckpointFile::unmap() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
  map_ = nullptr;
}

char* CheckpointFile::map(std::size_t bytes) {
  if (fd_ >= 0 || bytes == 0) return nullptr;
  auto give_up = [&](std::string_view what) -> char* {
    SEGMENTD_LOG_WARN("checkpoint", "checkpoint written through a buffer, not mapped", {"step", what},
                      {"error", errno_text()}, {"path", temp_path_});
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(temp_path_.c_str());
    return nullptr;
  };
  const std::vector<CheckpointDirectory::File> files = directory_.list();
  if (files.size() >= static_cast<std::size_t>(directory_.keep_) && files.size() >= 2 &&
      ::rename(files.back().path.c_str(), temp_path_.c_str()) == 0) {
    recycled_ = true;
    fd_ = ::open(temp_path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) return give_up("open");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return give_up("fstat");
    const bool laid_out = ::fgetxattr(fd_, kLaidOutAttr, nullptr, 0) >= 0;
    if (st.st_size > 0 && (!laid_out || !mostly_cached(fd_, static_cast<std::size_t>(st.st_size)))) {
      // Writing over pages not in memory would read them from disk first; pages written another
      // way may be slow to write through a mapping (kLaidOutAttr).
      if (::ftruncate(fd_, 0) != 0) return give_up("ftruncate");
    }
    (void)::fremovexattr(fd_, kLaidOutAttr);
  } else {
    fd_ = ::open(temp_path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd_ < 0) return give_up("open");
  }
  if (::fallocate(fd_, 0, 0, static_cast<off_t>(bytes)) != 0) return give_up("fallocate");
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) return give_up("mmap");
  map_ = static_cast<char*>(p);
  map_size_ = bytes;
  return map_;
}

void CheckpointFile::populate(char* p, std::size_t n) const {
  if (map_ == nullptr || p < map_ || n == 0) return;
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  auto a = reinterpret_cast<std::uintptr_t>(p) / page * page;
  const auto b = std::min(reinterpret_cast<std::uintptr_t>(p) + n, reinterpret_cast<std::uintptr_t>(map_ + map_size_));
  a = std::max(a, reinterpret_cast<std::uintptr_t>(map_));
  if (b <= a) return;
  // Faults every page in at once (a page at a time in the cut would be that many faults there);
  // older kernels without it fault them in during the cut.
  (void)::madvise(reinterpret_cast<void*>(a), b - a, kPopulateWrite);
}

absl::StatusOr<std::optional<CheckpointDirectory::Loaded>> CheckpointDirectory::load_newest(
    Fingerprints fingerprint, const std::function<absl::Status(const CheckpointImage&)>& validate,
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
  CheckpointFile file(directory_);
  absl::StatusOr<CheckpointCapture> cap = capture_(file);
  if (!cap.ok()) {
    r.error = std::string(cap.status().message());
  } else {
    r.cut_seconds = cap->cut_seconds;
    r.prefault_seconds = cap->prefault_seconds;
    r.capture_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.accounts = cap->accounts;
    cap->image.header.written_unix_ns = unix_ns();
    absl::StatusOr<CheckpointDirectory::Written> w = directory_.write(cap->image, file);
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
