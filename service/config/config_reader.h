#pragma once
// Typed, validated reading of one TOML table. Every error names the file, the line, the full
// key and the reason; all errors of a file are collected so that one run reports them all.
// A key that no section reads is an error ("unknown key"): typos never pass silently.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace segmentd {

class ConfigErrors {
 public:
  explicit ConfigErrors(std::string file) : file_(std::move(file)) {}
  void add(const toml::source_region& where, std::string_view key, std::string_view reason);
  void add_file(std::string_view reason);
  bool empty() const { return messages_.empty(); }
  const std::vector<std::string>& messages() const { return messages_; }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<std::string> messages_;
};

class ConfigSection {
 public:
  //! `table` may be null (section absent: every key takes its default).
  ConfigSection(const toml::table* table, std::string path, ConfigErrors* errors);
  ~ConfigSection();  // reports unknown keys
  ConfigSection(const ConfigSection&) = delete;
  ConfigSection& operator=(const ConfigSection&) = delete;

  void integer(std::string_view key, std::int64_t* dst, std::int64_t min, std::int64_t max);
  void integer(std::string_view key, int* dst, int min, int max);
  void number(std::string_view key, double* dst, double min, double max);
  void boolean(std::string_view key, bool* dst);
  void string(std::string_view key, std::string* dst, bool allow_empty = true);
  //! A string that must be one of `allowed`.
  void choice(std::string_view key, std::string* dst, std::initializer_list<std::string_view> allowed);
  //! A duration: an integer or float number of seconds, or a string "250ms", "10s", "5m", "1h", "2d".
  void duration_ns(std::string_view key, std::int64_t* dst, std::int64_t min_ns, std::int64_t max_ns);
  void strings(std::string_view key, std::vector<std::string>* dst);
  //! An array of numbers, each in min..max, at most max_items.
  void numbers(std::string_view key, std::vector<double>* dst, double min, double max, std::size_t max_items);
  //! Checks that `path`, the value of `key`, names a file that can be opened and read now: a
  //! config that validates must not fail later on a file it references (check-config opens
  //! every one). "" = not set, nothing to check.
  void readable_file(std::string_view key, const std::string& path);

  //! A nested table; absent → an empty section. Marks the key as known.
  const toml::table* table(std::string_view key);
  //! An array of tables ([[key]]); absent → empty. Marks the key as known.
  std::vector<const toml::table*> tables(std::string_view key);
  bool has(std::string_view key) const;
  //! Report an error about `key` from outside (cross-field checks).
  void error(std::string_view key, std::string_view reason);
  const std::string& path() const { return path_; }
  ConfigErrors* errors() const { return errors_; }

 private:
  const toml::node* take(std::string_view key);
  std::string full(std::string_view key) const;

  const toml::table* table_;
  std::string path_;
  ConfigErrors* errors_;
  std::vector<std::string> known_;
};

//! Why `path` cannot be read as an input file (it does not exist, cannot be opened, is a directory
//! or another non-regular file, or a read fails), or nullopt when it can. The reason names the path.
std::optional<std::string> file_problem(const std::string& path);

//! Parses "250ms", "10s", "5m", "1h", "2d", "1500us", "100ns" into nanoseconds.
std::optional<std::int64_t> parse_duration_ns(std::string_view s);

}  // namespace segmentd
