#pragma once
// The checkpoint container (core/checkpoint.md is the format): a header, tagged sections each
// with its own CRC-32C, and a trailer, so that a reader tells a bit flip, a short file, another
// format version and another configuration apart and names which.
//
//   CheckpointImage img;
//   img.header = {.config_fingerprint = fp, .written_unix_ns = now};
//   ByteWriter& w = img.add(kSectionAccounts);  w.u64(n); ...
//   std::string bytes = img.encode();
//   ...
//   absl::StatusOr<CheckpointImage> back = CheckpointImage::decode(bytes, fp);
//   ByteReader r = back->reader(kSectionAccounts);  ...
//
// Byte order is little-endian (the only hosts we build for; checked at compile time), fixed-width
// integers and IEEE doubles, so a file is read back bit for bit.
//
// ByteReader never reads past its end: every read checks the length and the first failure sticks
// (ok() false, later reads return zeros), so decoding code reads a whole structure and checks once.

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/huge_pages.h"

namespace segmentd {

static_assert(std::endian::native == std::endian::little, "checkpoints are little-endian");

//! CRC-32C (Castagnoli), with the SSE 4.2 instruction where the CPU has it (≈10 GB/s), else a table.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);

//! Bytes being written. Large sections (the account records: a gigabyte at 1,000,000 accounts)
//! live on transparent huge pages: faulting in fresh 4 KiB pages, not copying, was most of a
//! checkpoint's time (bench/README.md). reserve() and prefault() let a caller pay for the memory
//! before the cut rather than during it.
class ByteWriter {
 public:
  using Buffer = std::vector<char, HugePageAllocator<char>>;
  ByteWriter() = default;
  ByteWriter(ByteWriter&& o) noexcept { *this = std::move(o); }
  ByteWriter& operator=(ByteWriter&& o) noexcept {
    out_ = std::move(o.out_);
    ext_ = std::exchange(o.ext_, nullptr);
    ext_size_ = std::exchange(o.ext_size_, 0);
    ext_cap_ = std::exchange(o.ext_cap_, 0);
    return *this;
  }

  std::string_view view() const {
    return ext_ != nullptr ? std::string_view(ext_, ext_size_) : std::string_view(out_.data(), out_.size());
  }
  std::size_t size() const { return ext_ != nullptr ? ext_size_ : out_.size(); }
  void clear() {
    out_.clear();
    ext_size_ = 0;
  }
  //! Capacity for n bytes, with every page touched (so appends up to n fault nothing).
  void prefault(std::size_t n) {
    if (ext_ != nullptr) return;
    if (out_.capacity() < n) out_.reserve(n);
    const std::size_t old = out_.size();
    out_.resize(out_.capacity());  // value-initialises: touches the pages
    out_.resize(old);
  }
  //! Writes go into [data, data + capacity), memory the caller owns (a checkpoint file's shared
  //! mapping: the bytes are then written where the file wants them, with no buffer and no copy),
  //! until that is full: the bytes then move to a buffer of the writer's own and writing goes on
  //! there (in_place() turns false). Call on an empty writer.
  void write_into(char* data, std::size_t capacity) {
    out_.clear();
    ext_ = data;
    ext_size_ = 0;
    ext_cap_ = capacity;
  }
  //! True while the bytes are in the memory given to write_into().
  bool in_place() const { return ext_ != nullptr; }

  template <class T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    raw(&v, sizeof(T));
  }
  void u8(std::uint8_t v) { pod(v); }
  void u32(std::uint32_t v) { pod(v); }
  void u64(std::uint64_t v) { pod(v); }
  void i64(std::int64_t v) { pod(v); }
  void f64(double v) { pod(v); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  //! Length-prefixed (u32).
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  void raw(const void* p, std::size_t n) {
    const auto* c = static_cast<const char*>(p);
    if (ext_ != nullptr) {
      if (n <= ext_cap_ - ext_size_) {
        if (n > 0) std::memcpy(ext_ + ext_size_, c, n);
        ext_size_ += n;
        return;
      }
      spill();
    }
    out_.insert(out_.end(), c, c + n);
  }
  //! A vector of trivially copyable values, length-prefixed (u64).
  template <class T>
  void pods(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    u64(v.size());
    raw(v.data(), v.size() * sizeof(T));
  }

 private:
  //! The memory given to write_into() is full: move to a buffer of our own.
  void spill() {
    out_.reserve(ext_size_ * 2 + 4096);
    out_.assign(ext_, ext_ + ext_size_);
    ext_ = nullptr;
    ext_size_ = 0;
    ext_cap_ = 0;
  }

  Buffer out_;
  char* ext_ = nullptr;  //!< write_into()'s memory, while in_place()
  std::size_t ext_size_ = 0;
  std::size_t ext_cap_ = 0;
};

class ByteReader {
 public:
  ByteReader() = default;
  ByteReader(std::string_view bytes, std::string_view what) : in_(bytes), what_(what) {}
  //! A reader over `bytes` that is already failed with `why` (a missing section).
  static ByteReader failed(std::string_view what, std::string_view why) {
    ByteReader r({}, what);
    r.fail(why);
    return r;
  }

  bool ok() const { return error_.empty(); }
  bool at_end() const { return pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }
  //! OK, or DataLoss naming the section and what was wrong.
  absl::Status status() const;
  //! Marks the reader failed (a value out of its range); the first failure is kept.
  void fail(std::string_view why);

  template <class T>
  T pod() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v{};
    if (take(sizeof(T))) std::memcpy(&v, in_.data() + pos_ - sizeof(T), sizeof(T));
    return v;
  }
  std::uint8_t u8() { return pod<std::uint8_t>(); }
  std::uint32_t u32() { return pod<std::uint32_t>(); }
  std::uint64_t u64() { return pod<std::uint64_t>(); }
  std::int64_t i64() { return pod<std::int64_t>(); }
  double f64() { return pod<double>(); }
  bool boolean() {
    const std::uint8_t b = u8();
    if (b > 1) fail("bad boolean");
    return b == 1;
  }
  std::string str() {
    const std::uint32_t n = u32();
    if (!take(n)) return {};
    return std::string(in_.substr(pos_ - n, n));
  }
  //! n bytes, viewed in place (valid while the source bytes live); empty on failure.
  std::string_view raw(std::size_t n) {
    if (!take(n)) return {};
    return in_.substr(pos_ - n, n);
  }
  template <class T>
  std::vector<T> pods() {
    static_assert(std::is_trivially_copyable_v<T>);
    const std::uint64_t n = u64();
    std::vector<T> v;
    if (n > remaining() / sizeof(T)) {
      fail("vector longer than its section");
      return v;
    }
    v.resize(n);
    std::string_view b = raw(n * sizeof(T));
    if (!b.empty()) std::memcpy(v.data(), b.data(), b.size());
    return v;
  }
  //! A count about to be read element by element, each at least min_bytes: fails when the
  //! section cannot hold that many (a corrupt count must not allocate gigabytes).
  std::uint64_t count(std::size_t min_bytes) {
    const std::uint64_t n = u64();
    if (min_bytes > 0 && n > remaining() / min_bytes) {
      fail("count larger than its section");
      return 0;
    }
    return n;
  }

 private:
  bool take(std::size_t n) {
    if (!ok()) return false;
    if (n > in_.size() - pos_) {
      fail("truncated");
      return false;
    }
    pos_ += n;
    return true;
  }

  std::string_view in_;
  std::string what_;
  std::size_t pos_ = 0;
  std::string error_;
};

//! Section tags: four ASCII characters, read as a little-endian u32.
constexpr std::uint32_t section_tag(const char (&s)[5]) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[3])) << 24;
}
std::string tag_name(std::uint32_t tag);

inline constexpr std::uint32_t kCheckpointFormatVersion = 2;  // 2: overflow blocks in SHRD
//! Where the first section's payload starts in a file (after the header and its section head).
inline constexpr std::size_t kCheckpointFirstPayload = 64;

struct CheckpointHeader {
  std::uint32_t format_version = kCheckpointFormatVersion;
  std::uint64_t config_fingerprint = 0;  //!< of the keys that change what the state means
  std::int64_t written_unix_ns = 0;      //!< wall clock at the write
  std::uint64_t sequence = 0;            //!< 1, 2, ... per state directory (the file name's number)
};

//! Why decode() refused a file: the caller tries the previous checkpoint on any of them, and
//! reports the reason with the path.
enum class CheckpointFault { kNone, kNotACheckpoint, kTruncated, kChecksum, kVersion, kConfig, kMalformed };

//! The config fingerprints a reader accepts: this build's, and `legacy`, what the same config
//! hashed to before a format change whose files this build still converts (0: none). Implicit
//! from one fingerprint.
struct Fingerprints {
  std::uint64_t current = 0;
  std::uint64_t legacy = 0;
  Fingerprints(std::uint64_t current_fingerprint,
               std::uint64_t legacy_fingerprint = 0)  // NOLINT(google-explicit-constructor)
      : current(current_fingerprint), legacy(legacy_fingerprint) {}
  bool accepts(std::uint64_t f) const { return f == current || (legacy != 0 && f == legacy); }
};

class CheckpointImage {
 public:
  CheckpointHeader header;

  //! Starts a new section (a tag appears at most once) and returns its writer.
  ByteWriter& add(std::uint32_t tag);
  //! Appends bytes written elsewhere (a shard's records, written on the shard's thread) to the
  //! section `tag` started with add(): no copy, the file gets them in order after its writer's.
  void append(std::uint32_t tag, ByteWriter&& chunk);
  bool has(std::uint32_t tag) const;
  //! A reader over the section's bytes (failed reader when the section is absent).
  ByteReader reader(std::uint32_t tag) const;
  std::size_t section_count() const { return sections_.size(); }

  //! The whole file: header, sections, trailer.
  std::string encode() const;
  //! kAsWritten: the memory of large sections (whole huge pages) is given back to the kernel as
  //! soon as it is written, so that a gigabyte checkpoint does not hold its buffers and the page
  //! cache at once; the image's bytes read as zeros afterwards (write it, then drop it).
  enum class Release { kKeep, kAsWritten };
  //! Writes the file to `fd` with no copy of the sections (write() from where they are);
  //! returns the bytes written. Errors name `path`.
  absl::StatusOr<std::uint64_t> write_to(int fd, const std::string& path, Release release = Release::kKeep) const;
  //! Writes the file to `fd` when its first `map_size` bytes are mapped shared at `map` and the
  //! first section's chunks were written in place there (ByteWriter::write_into), in file order,
  //! each at or after where the file wants it: moves them down into place (within the page cache,
  //! no buffer), copies in the chunks that are not in place, checksums the section where it
  //! lies, and writes the other sections and the trailer after it with write(). The file is cut
  //! to its length. Returns the bytes written; FailedPrecondition, before any byte was moved,
  //! when the chunks cannot be laid out in place (one was spilled, or the layout does not fit
  //! the mapping): the caller then writes another file with write_to().
  absl::StatusOr<std::uint64_t> write_mapped(int fd, char* map, std::size_t map_size, const std::string& path) const;
  //! decode() of a file, mapped rather than read into memory.
  static absl::StatusOr<CheckpointImage> decode_file(const std::string& path, Fingerprints expect,
                                                     CheckpointFault* fault = nullptr);
  //! Checks and splits a file. The header's fingerprint must be one of `expect`; a mismatch is
  //! kConfig. On error, *fault says which kind.
  static absl::StatusOr<CheckpointImage> decode(std::string bytes, Fingerprints expect,
                                                CheckpointFault* fault = nullptr);

 private:
  struct Section {
    std::uint32_t tag;
    ByteWriter w;                  //!< writing
    std::vector<ByteWriter> more;  //!< writing: chunks appended after w
    std::size_t offset = 0;        //!< read back: the payload is data_[offset, offset + size)
    std::size_t size = 0;
    std::uint64_t payload_size() const;
    std::uint32_t crc() const;
  };
  static absl::StatusOr<CheckpointImage> decode_view(std::shared_ptr<const void> owner, std::string_view bytes,
                                                     Fingerprints expect, CheckpointFault* fault);
  std::vector<Section> sections_;
  std::shared_ptr<const void> owner_;  //!< keeps the decoded bytes alive (a string or a mapping)
  std::string_view data_;              //!< the decoded file (sections view into it)
};

//! FNV-1a 64 over bytes, for config fingerprints (stable across runs and machines).
class Fingerprint {
 public:
  void add(std::string_view bytes);
  template <class T>
  void add_pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    add(std::string_view(reinterpret_cast<const char*>(&v), sizeof(T)));
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 14695981039346656037ULL;  // FNV-1a 64 offset basis
};

}  // namespace segmentd
