// CheckpointFile and CheckpointDirectory::write(image, file): a checkpoint laid out in place in
// a shared mapping of its file, over the file the write would delete anyway when there is one.
#include <sys/stat.h>
#include <sys/xattr.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "core/checkpoint_io.h"
#include "service/state/checkpointer.h"

using namespace segmentd;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kRegion = 64 * 1024;

std::string fresh_dir(const std::string& name) {
  const std::string dir = std::string(SEGMENTD_BINARY_DIR) + "/checkpoint_file_test_" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string records(std::uint64_t seed, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 13 + seed * 101) % 251);
  return s;
}

//! An image as Pipeline::capture makes it: the records of `shards` shards written into the
//! file's mapping when it has one (record_bytes each; more than kRegion spills), then a second
//! section.
CheckpointImage capture_into(CheckpointFile* file, std::uint64_t seed, int shards, std::size_t record_bytes) {
  CheckpointImage img;
  img.header.config_fingerprint = 77;
  img.add(section_tag("SHRD")).u32(static_cast<std::uint32_t>(shards));
  char* map = file != nullptr
                  ? file->map(kCheckpointFirstPayload + 4 + static_cast<std::size_t>(shards) * (8 + kRegion))
                  : nullptr;
  std::size_t at = kCheckpointFirstPayload + 4;
  for (int k = 0; k < shards; ++k) {
    at += 8;
    ByteWriter w;
    if (map != nullptr) {
      w.write_into(map + at, kRegion);
      file->populate(map + at, kRegion);
    }
    const std::string r = records(seed + static_cast<std::uint64_t>(k), record_bytes);
    w.raw(r.data(), r.size());
    at += kRegion;
    ByteWriter len;
    len.u64(w.size());
    img.append(section_tag("SHRD"), std::move(len));
    img.append(section_tag("SHRD"), std::move(w));
  }
  img.add(section_tag("TAIL")).u64(seed);
  return img;
}

//! The file's seed (TAIL), after checking every shard's records against it.
std::uint64_t seed_of(const std::string& path, int shards, std::size_t record_bytes) {
  auto img = CheckpointImage::decode_file(path, 77);
  REQUIRE(img.ok());
  const std::uint64_t seed = img->reader(section_tag("TAIL")).u64();
  ByteReader r = img->reader(section_tag("SHRD"));
  REQUIRE(r.u32() == static_cast<std::uint32_t>(shards));
  for (int k = 0; k < shards; ++k) {
    REQUIRE(r.u64() == record_bytes);
    CHECK(std::string(r.raw(record_bytes)) == records(seed + static_cast<std::uint64_t>(k), record_bytes));
  }
  CHECK(r.at_end());
  return seed;
}

std::uint64_t inode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

std::vector<std::string> names(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

CheckpointDirectory::Written write_one(const CheckpointDirectory& dir, std::uint64_t seed, int shards = 3,
                                       std::size_t record_bytes = 40'000) {
  CheckpointFile file(dir);
  CheckpointImage img = capture_into(&file, seed, shards, record_bytes);
  auto w = dir.write(img, file);
  REQUIRE(w.ok());
  return *w;
}

}  // namespace

TEST_CASE("checkpoint file: the file a write would delete is written over in place and every file reads back",
          "[checkpoint]") {
  const std::string d = fresh_dir("recycle");
  CheckpointDirectory dir(d, 2);
  REQUIRE(dir.prepare().ok());
  const auto first = write_one(dir, 1);
  const auto second = write_one(dir, 2);
  CHECK(first.sequence == 1);
  CHECK(second.sequence == 2);
  CHECK(inode(first.path) != inode(second.path));
  const std::uint64_t first_inode = inode(first.path);
  // keep = 2 and two files: the third is written over the first, which it replaces.
  const auto third = write_one(dir, 3);
  CHECK(third.sequence == 3);
  CHECK(inode(third.path) == first_inode);
  CHECK_FALSE(fs::exists(first.path));
  CHECK(names(d) ==
        std::vector<std::string>{"checkpoint-00000000000000000002.sdc", "checkpoint-00000000000000000003.sdc"});
  CHECK(seed_of(second.path, 3, 40'000) == 2);
  CHECK(seed_of(third.path, 3, 40'000) == 3);
  // Shorter and longer states than the file written over: cut to length, or extended.
  const auto shorter = write_one(dir, 4, 2, 1'000);
  CHECK(seed_of(shorter.path, 2, 1'000) == 4);
  CHECK(fs::file_size(shorter.path) < fs::file_size(third.path));
  const auto longer = write_one(dir, 5, 4, 60'000);
  CHECK(seed_of(longer.path, 4, 60'000) == 5);
  CHECK(names(d).size() == 2);
  fs::remove_all(d);
}

TEST_CASE("checkpoint file: a file not laid out in place is emptied before it is written over", "[checkpoint]") {
  const std::string d = fresh_dir("foreign");
  CheckpointDirectory dir(d, 2);
  REQUIRE(dir.prepare().ok());
  // Two files written by copy (no mapping), as an older build wrote them.
  for (std::uint64_t seed = 1; seed <= 2; ++seed) {
    CheckpointImage img = capture_into(nullptr, seed, 3, 40'000);
    REQUIRE(dir.write(img).ok());
  }
  const std::string oldest = dir.list().back().path;
  char value[4];
  CHECK(::getxattr(oldest.c_str(), "user.segmentd.laid_out", value, sizeof(value)) < 0);
  const auto third = write_one(dir, 3);
  CHECK(seed_of(third.path, 3, 40'000) == 3);
  // The file laid out in place carries the mark that lets the next write reuse its pages (where
  // the file system keeps extended attributes).
  const ssize_t n = ::getxattr(third.path.c_str(), "user.segmentd.laid_out", value, sizeof(value));
  if (n < 0 && errno == ENOTSUP)
    WARN("no user extended attributes on this file system");
  else
    CHECK(n == 1);
  fs::remove_all(d);
}

TEST_CASE("checkpoint file: with keep = 1 the only checkpoint is never written over", "[checkpoint]") {
  const std::string d = fresh_dir("keep1");
  CheckpointDirectory dir(d, 1);
  REQUIRE(dir.prepare().ok());
  const auto first = write_one(dir, 1);
  const std::uint64_t first_inode = inode(first.path);
  const auto second = write_one(dir, 2);
  CHECK(inode(second.path) != first_inode);
  CHECK(names(d) == std::vector<std::string>{"checkpoint-00000000000000000002.sdc"});
  CHECK(seed_of(second.path, 3, 40'000) == 2);
  fs::remove_all(d);
}

TEST_CASE("checkpoint file: a shard that outgrew its region is written by copy", "[checkpoint]") {
  const std::string d = fresh_dir("spill");
  CheckpointDirectory dir(d, 2);
  REQUIRE(dir.prepare().ok());
  write_one(dir, 1);
  write_one(dir, 2);
  // Records larger than the region: the first shard spills and would overwrite the next one.
  const auto big = write_one(dir, 3, 3, kRegion + 5'000);
  CHECK(seed_of(big.path, 3, kRegion + 5'000) == 3);
  CHECK(names(d) ==
        std::vector<std::string>{"checkpoint-00000000000000000002.sdc", "checkpoint-00000000000000000003.sdc"});
  fs::remove_all(d);
}

TEST_CASE("checkpoint file: a write abandoned after the mapping leaves no temp file and the newest checkpoint",
          "[checkpoint]") {
  const std::string d = fresh_dir("abandon");
  CheckpointDirectory dir(d, 2);
  REQUIRE(dir.prepare().ok());
  write_one(dir, 1);
  const auto second = write_one(dir, 2);
  {
    CheckpointFile file(dir);
    CheckpointImage img = capture_into(&file, 3, 3, 40'000);
    CHECK(file.recycled());
    // The capture failed: the image is dropped, never written.
  }
  CHECK(names(d) == std::vector<std::string>{"checkpoint-00000000000000000002.sdc"});
  CHECK(seed_of(second.path, 3, 40'000) == 2);
  const auto next = write_one(dir, 4);
  CHECK(next.sequence == 3);
  CHECK(seed_of(next.path, 3, 40'000) == 4);
  fs::remove_all(d);
}
