#include "core/checkpoint_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "core/str_cat.h"

namespace segmentd {
namespace {

constexpr char kMagic[8] = {'S', 'E', 'G', 'M', 'E', 'N', 'T', 'D'};
constexpr char kEndMagic[8] = {'S', 'E', 'G', 'D', 'D', 'O', 'N', 'E'};
constexpr std::size_t kHeaderBytes = 48;   // magic, version, sections, fingerprint, time, sequence, crc, 0
constexpr std::size_t kSectionHead = 16;   // tag, crc, size
constexpr std::size_t kTrailerBytes = 16;  // total size, end magic
static_assert(kCheckpointFirstPayload == kHeaderBytes + kSectionHead);

// write_to() starts the disk's writeback every this many bytes (see there).
constexpr std::size_t kWritebackSlice = std::size_t{32} << 20;

//! Asks the kernel to start writing [offset, offset + bytes) of fd to disk, without waiting.
//! Only a hint: durability still comes from the caller's fsync.
void start_writeback(int fd, std::uint64_t offset, std::uint64_t bytes) {
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
  (void)::sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(bytes), SYNC_FILE_RANGE_WRITE);
#else
  (void)fd;
  (void)offset;
  (void)bytes;
#endif
}

//! Gives the whole huge pages of [from, to) back to the kernel (their bytes read as zeros
//! afterwards); returns where the next call should start. The page cache that write() fills
//! then gets memory this process just used, not fresh memory (which costs seconds per GB to
//! fault in on some VMs: bench/README.md, "Checkpoints").
const char* give_back(const char* from, const char* to) {
#if defined(__linux__)
  const auto a = (reinterpret_cast<std::uintptr_t>(from) + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  const auto b = reinterpret_cast<std::uintptr_t>(to) / kHugePageBytes * kHugePageBytes;
  if (b <= a) return from;
  (void)::madvise(reinterpret_cast<void*>(a), b - a, MADV_DONTNEED);
  return reinterpret_cast<const char*>(b);
#else
  (void)to;
  return from;
#endif
}

constexpr std::uint32_t kCrcPoly = 0x82F63B78u;  // CRC-32C, reflected

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kCrcPoly : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<std::uint32_t, 256> kTable = make_table();

std::uint32_t crc_table(const unsigned char* p, std::size_t n, std::uint32_t c) {
  for (std::size_t i = 0; i < n; ++i) c = kTable[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc_sse42(const unsigned char* p, std::size_t n, std::uint32_t c) {
  std::uint64_t c64 = c;
  while (n >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    c64 = __builtin_ia32_crc32di(c64, v);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c64);
  while (n-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}
const bool have_sse42 = __builtin_cpu_supports("sse4.2");
#endif

template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <class T>
T get(std::string_view in, std::size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof(T));
  return v;
}

absl::Status fault_status(CheckpointFault* out, CheckpointFault f, std::string msg) {
  if (out != nullptr) *out = f;
  return absl::DataLossError(std::move(msg));
}

}  // namespace

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::uint32_t c = ~crc;
#if defined(__x86_64__)
  if (have_sse42) return ~crc_sse42(p, bytes.size(), c);
#endif
  return ~crc_table(p, bytes.size(), c);
}

absl::Status ByteReader::status() const {
  if (ok()) return absl::OkStatus();
  return absl::DataLossError(str_cat("section ", what_, ": ", error_));
}

void ByteReader::fail(std::string_view why) {
  if (error_.empty()) error_ = str_cat(why, " at byte ", pos_);
}

std::string tag_name(std::uint32_t tag) {
  std::string s(4, ' ');
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>((tag >> (8 * i)) & 0xFF);
    s[static_cast<std::size_t>(i)] = (c >= 0x20 && c < 0x7F) ? c : '?';
  }
  return s;
}

ByteWriter& CheckpointImage::add(std::uint32_t tag) {
  sections_.push_back(Section{tag, {}, {}, 0, 0});
  return sections_.back().w;
}

void CheckpointImage::append(std::uint32_t tag, ByteWriter&& chunk) {
  for (auto it = sections_.rbegin(); it != sections_.rend(); ++it) {
    if (it->tag == tag) {
      it->more.push_back(std::move(chunk));
      return;
    }
  }
  add(tag) = std::move(chunk);
}

bool CheckpointImage::has(std::uint32_t tag) const {
  for (const Section& s : sections_)
    if (s.tag == tag) return true;
  return false;
}

std::uint64_t CheckpointImage::Section::payload_size() const {
  std::uint64_t n = w.size();
  for (const ByteWriter& m : more) n += m.size();
  return n;
}

std::uint32_t CheckpointImage::Section::crc() const {
  std::uint32_t c = crc32c(w.view());
  for (const ByteWriter& m : more) c = crc32c(m.view(), c);
  return c;
}

ByteReader CheckpointImage::reader(std::uint32_t tag) const {
  for (const Section& s : sections_) {
    if (s.tag != tag) continue;
    if (data_.empty()) {
      if (!s.more.empty()) return ByteReader::failed(tag_name(tag), "written in chunks: read it back from a file");
      return ByteReader(s.w.view(), tag_name(tag));
    }
    return ByteReader(data_.substr(s.offset, s.size), tag_name(tag));
  }
  return ByteReader::failed(tag_name(tag), "missing");
}

namespace {

//! The header's 48 bytes.
std::string header_bytes(const CheckpointHeader& h, std::uint32_t sections) {
  std::string out;
  out.append(kMagic, sizeof(kMagic));
  put(out, h.format_version);
  put(out, sections);
  put(out, h.config_fingerprint);
  put(out, h.written_unix_ns);
  put(out, h.sequence);
  put(out, crc32c(out));
  put(out, std::uint32_t{0});
  return out;
}

std::string section_head(std::uint32_t tag, std::uint32_t crc, std::uint64_t size) {
  std::string out;
  put(out, tag);
  put(out, crc);
  put(out, size);
  return out;
}

}  // namespace

std::string CheckpointImage::encode() const {
  std::string out = header_bytes(header, static_cast<std::uint32_t>(sections_.size()));
  for (const Section& s : sections_) {
    out.append(section_head(s.tag, s.crc(), s.payload_size()));
    out.append(s.w.view());
    for (const ByteWriter& m : s.more) out.append(m.view());
  }
  put(out, static_cast<std::uint64_t>(out.size() + kTrailerBytes));
  out.append(kEndMagic, sizeof(kEndMagic));
  return out;
}

namespace {

//! write(2) of a file's bytes in order from `total`, in slices each handed to the disk as soon as
//! it is in the page cache: the disk writes while the next slice is copied, and the caller's
//! fsync waits only for the last ones.
class SliceWriter {
 public:
  SliceWriter(int fd, const std::string& path, std::uint64_t total, CheckpointImage::Release release)
      : fd_(fd), path_(path), total_(total), flushed_(total), release_(release) {}
  std::uint64_t total() const { return total_; }
  absl::Status write(std::string_view b) {
    const char* released = b.data();  // b's bytes before this are given back (Release::kAsWritten)
    while (!b.empty()) {
      const std::size_t slice = std::min<std::size_t>(b.size(), kWritebackSlice);
      const ssize_t n = ::write(fd_, b.data(), slice);
      if (n < 0) {
        if (errno == EINTR) continue;
        return absl::InternalError(str_cat("writing ", path_, ": ", std::strerror(errno)));
      }
      b.remove_prefix(static_cast<std::size_t>(n));
      total_ += static_cast<std::uint64_t>(n);
      if (total_ - flushed_ >= kWritebackSlice) {
        start_writeback(fd_, flushed_, total_ - flushed_);
        flushed_ = total_;
      }
      if (release_ == CheckpointImage::Release::kAsWritten) released = give_back(released, b.data());
    }
    return absl::OkStatus();
  }
  absl::Status trailer() {
    std::string t;
    put(t, static_cast<std::uint64_t>(total_ + kTrailerBytes));
    t.append(kEndMagic, sizeof(kEndMagic));
    return write(t);
  }

 private:
  int fd_;
  const std::string& path_;
  std::uint64_t total_;
  std::uint64_t flushed_;  // start of the bytes not yet handed to writeback
  CheckpointImage::Release release_;
};

}  // namespace

absl::StatusOr<std::uint64_t> CheckpointImage::write_to(int fd, const std::string& path, Release release) const {
  SliceWriter out(fd, path, 0, release);
  if (absl::Status st = out.write(header_bytes(header, static_cast<std::uint32_t>(sections_.size()))); !st.ok())
    return st;
  for (const Section& s : sections_) {
    if (absl::Status st = out.write(section_head(s.tag, s.crc(), s.payload_size())); !st.ok()) return st;
    if (absl::Status st = out.write(s.w.view()); !st.ok()) return st;
    for (const ByteWriter& m : s.more)
      if (absl::Status st = out.write(m.view()); !st.ok()) return st;
  }
  if (absl::Status st = out.trailer(); !st.ok()) return st;
  return out.total();
}

absl::StatusOr<std::uint64_t> CheckpointImage::write_mapped(int fd, char* map, std::size_t map_size,
                                                            const std::string& path) const {
  if (sections_.empty()) return absl::FailedPreconditionError("no section to write in place");
  // The plan: where each chunk of the first section goes. A chunk in the mapping must not move up
  // (it would overwrite the next one before that moved) and must not land on a later chunk's
  // bytes; the chunks outside it (small ones: counts, lengths) are copied in.
  const Section& first = sections_.front();
  std::vector<const ByteWriter*> chunks{&first.w};
  for (const ByteWriter& m : first.more) chunks.push_back(&m);
  const std::size_t payload_at = kCheckpointFirstPayload;
  struct Move {
    const char* from;
    std::size_t to;
    std::size_t size;
    bool in_map;
  };
  std::vector<Move> moves;
  std::size_t at = payload_at;
  const char* map_end = map + map_size;
  for (const ByteWriter* c : chunks) {
    const std::string_view v = c->view();
    const bool in_map = c->in_place() && v.data() >= map && v.data() + v.size() <= map_end;
    if (c->in_place() && !in_map) return absl::FailedPreconditionError("a chunk written in place outside the mapping");
    moves.push_back(Move{v.data(), at, v.size(), in_map});
    at += v.size();
  }
  const std::size_t end = at;
  if (end > map_size) return absl::FailedPreconditionError("the section does not fit the mapping");
  const char* next_src = map_end;  // the lowest source of a chunk still to move, from the back
  for (std::size_t i = moves.size(); i-- > 0;) {
    const Move& m = moves[i];
    if (m.to + m.size > static_cast<std::size_t>(next_src - map))
      return absl::FailedPreconditionError("a chunk would overwrite one not yet moved");
    if (m.in_map) {
      if (m.from < map + m.to) return absl::FailedPreconditionError("a chunk lies before its place");
      next_src = std::min(next_src, m.from);
    }
  }
  for (const Move& m : moves) {
    if (m.size == 0 || m.from == map + m.to) continue;
    std::memmove(map + m.to, m.from, m.size);
  }
  const std::uint64_t payload = end - payload_at;
  const std::string head = header_bytes(header, static_cast<std::uint32_t>(sections_.size()));
  const std::string section = section_head(first.tag, crc32c(std::string_view(map + payload_at, payload)), payload);
  std::memcpy(map, head.data(), head.size());
  std::memcpy(map + kHeaderBytes, section.data(), section.size());
  start_writeback(fd, 0, end);

  if (::lseek(fd, static_cast<off_t>(end), SEEK_SET) < 0)
    return absl::InternalError(str_cat("seeking in ", path, ": ", std::strerror(errno)));
  SliceWriter out(fd, path, end, Release::kKeep);
  for (std::size_t i = 1; i < sections_.size(); ++i) {
    const Section& s = sections_[i];
    if (absl::Status st = out.write(section_head(s.tag, s.crc(), s.payload_size())); !st.ok()) return st;
    if (absl::Status st = out.write(s.w.view()); !st.ok()) return st;
    for (const ByteWriter& m : s.more)
      if (absl::Status st = out.write(m.view()); !st.ok()) return st;
  }
  if (absl::Status st = out.trailer(); !st.ok()) return st;
  if (::ftruncate(fd, static_cast<off_t>(out.total())) != 0)
    return absl::InternalError(str_cat("cutting ", path, " to its length: ", std::strerror(errno)));
  return out.total();
}

absl::StatusOr<CheckpointImage> CheckpointImage::decode(std::string bytes, Fingerprints expect,
                                                        CheckpointFault* fault) {
  auto owner = std::make_shared<const std::string>(std::move(bytes));
  std::string_view view(*owner);
  return decode_view(std::move(owner), view, expect, fault);
}

absl::StatusOr<CheckpointImage> CheckpointImage::decode_file(const std::string& path, Fingerprints expect,
                                                             CheckpointFault* fault) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fault_status(fault, CheckpointFault::kNotACheckpoint, str_cat("cannot open: ", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    return fault_status(fault, CheckpointFault::kNotACheckpoint, str_cat("cannot stat: ", err));
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return fault_status(fault, CheckpointFault::kNotACheckpoint, "not a segmentd checkpoint (empty file)");
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED)
    return fault_status(fault, CheckpointFault::kNotACheckpoint, str_cat("cannot map: ", std::strerror(errno)));
  (void)::madvise(p, size, MADV_SEQUENTIAL);
  std::shared_ptr<const void> owner(p, [size](const void* q) { ::munmap(const_cast<void*>(q), size); });
  return decode_view(std::move(owner), std::string_view(static_cast<const char*>(p), size), expect, fault);
}

absl::StatusOr<CheckpointImage> CheckpointImage::decode_view(std::shared_ptr<const void> owner, std::string_view in,
                                                             Fingerprints expect, CheckpointFault* fault) {
  if (fault != nullptr) *fault = CheckpointFault::kNone;
  if (in.size() < sizeof(kMagic) || std::memcmp(in.data(), kMagic, sizeof(kMagic)) != 0)
    return fault_status(fault, CheckpointFault::kNotACheckpoint, "not a segmentd checkpoint (no magic)");
  if (in.size() < kHeaderBytes)
    return fault_status(fault, CheckpointFault::kTruncated, str_cat("truncated: ", in.size(), " bytes, no header"));
  CheckpointImage img;
  img.header.format_version = get<std::uint32_t>(in, 8);
  if (img.header.format_version != kCheckpointFormatVersion)
    return fault_status(
        fault, CheckpointFault::kVersion,
        str_cat("format version ", img.header.format_version, ", this build reads version ", kCheckpointFormatVersion));
  const auto sections = get<std::uint32_t>(in, 12);
  img.header.config_fingerprint = get<std::uint64_t>(in, 16);
  img.header.written_unix_ns = get<std::int64_t>(in, 24);
  img.header.sequence = get<std::uint64_t>(in, 32);
  if (crc32c(in.substr(0, 40)) != get<std::uint32_t>(in, 40))
    return fault_status(fault, CheckpointFault::kChecksum, "header checksum mismatch");
  if (in.size() < kHeaderBytes + kTrailerBytes ||
      std::memcmp(in.data() + in.size() - sizeof(kEndMagic), kEndMagic, sizeof(kEndMagic)) != 0 ||
      get<std::uint64_t>(in, in.size() - kTrailerBytes) != in.size())
    return fault_status(fault, CheckpointFault::kTruncated,
                        str_cat("truncated or extended: ", in.size(), " bytes, no valid trailer"));
  if (!expect.accepts(img.header.config_fingerprint))
    return fault_status(
        fault, CheckpointFault::kConfig,
        str_cat("written with another configuration (fingerprint ", img.header.config_fingerprint, ", this config ",
                expect.current, "): a feature, half-life, bound, k or weight changed"));
  std::size_t at = kHeaderBytes;
  const std::size_t end = in.size() - kTrailerBytes;
  for (std::uint32_t i = 0; i < sections; ++i) {
    if (end - at < kSectionHead)
      return fault_status(fault, CheckpointFault::kMalformed, str_cat("section ", i, ": header past the end"));
    Section s{get<std::uint32_t>(in, at), {}, {}, 0, 0};
    const auto crc = get<std::uint32_t>(in, at + 4);
    const auto size = get<std::uint64_t>(in, at + 8);
    at += kSectionHead;
    if (size > end - at)
      return fault_status(fault, CheckpointFault::kMalformed,
                          str_cat("section ", tag_name(s.tag), ": ", size, " bytes past the end"));
    if (crc32c(in.substr(at, size)) != crc)
      return fault_status(fault, CheckpointFault::kChecksum,
                          str_cat("section ", tag_name(s.tag), ": checksum mismatch"));
    s.offset = at;
    s.size = size;
    at += size;
    img.sections_.push_back(std::move(s));
  }
  if (at != end)
    return fault_status(fault, CheckpointFault::kMalformed, str_cat(end - at, " bytes after the last section"));
  img.owner_ = std::move(owner);
  img.data_ = in;
  return img;
}

void Fingerprint::add(std::string_view bytes) {
  for (const char c : bytes) {
    h_ ^= static_cast<unsigned char>(c);
    h_ *= 1099511628211ULL;
  }
}

}  // namespace segmentd
