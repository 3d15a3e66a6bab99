#include "service/config/config_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/str_cat.h"

namespace segmentd {

void ConfigErrors::add(const toml::source_region& where, std::string_view key, std::string_view reason) {
  messages_.push_back(str_cat(file_, ":", where.begin.line, ": ", key, ": ", reason));
}

void ConfigErrors::add_file(std::string_view reason) { messages_.push_back(str_cat(file_, ": ", reason)); }

ConfigSection::ConfigSection(const toml::table* table, std::string path, ConfigErrors* errors)
    : table_(table), path_(std::move(path)), errors_(errors) {}

ConfigSection::~ConfigSection() {
  if (table_ == nullptr) return;
  for (const auto& [k, v] : *table_) {
    std::string_view key = k.str();
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
      errors_->add(v.source(), full(key), "unknown key");
    }
  }
}

std::string ConfigSection::full(std::string_view key) const {
  return path_.empty() ? std::string(key) : str_cat(path_, ".", key);
}

bool ConfigSection::has(std::string_view key) const { return table_ != nullptr && table_->contains(key); }

const toml::node* ConfigSection::take(std::string_view key) {
  known_.emplace_back(key);
  if (table_ == nullptr) return nullptr;
  return table_->get(key);
}

void ConfigSection::error(std::string_view key, std::string_view reason) {
  const toml::node* n = table_ ? table_->get(key) : nullptr;
  if (n)
    errors_->add(n->source(), full(key), reason);
  else if (table_)
    errors_->add(table_->source(), full(key), reason);
  else
    errors_->add_file(str_cat(full(key), ": ", reason));
}

void ConfigSection::integer(std::string_view key, std::int64_t* dst, std::int64_t min, std::int64_t max) {
  const toml::node* n = take(key);
  if (n == nullptr) return;
  auto v = n->value_exact<std::int64_t>();
  if (!v) return errors_->add(n->source(), full(key), "must be an integer");
  if (*v < min || *v > max)
    return errors_->add(n->source(), full(key), str_cat("must be in ", min, "..", max, ", got ", *v));
  *dst = *v;
}

void ConfigSection::integer(std::string_view key, int* dst, int min, int max) {
  std::int64_t v = *dst;
  integer(key, &v, min, max);
  *dst = static_cast<int>(v);
}

void ConfigSection::number(std::string_view key, double* dst, double min, double max) {
  const toml::node* n = take(key);
  if (n == nullptr) return;
  std::optional<double> v;
  if (n->is_floating_point())
    v = n->as_floating_point()->get();
  else if (n->is_integer())
    v = static_cast<double>(n->as_integer()->get());
  if (!v) return errors_->add(n->source(), full(key), "must be a number");
  if (!std::isfinite(*v) || *v < min || *v > max)
    return errors_->add(n->source(), full(key), str_cat("must be in ", min, "..", max, ", got ", *v));
  *dst = *v;
}

void ConfigSection::boolean(std::string_view key, bool* dst) {
  const toml::node* n = take(key);
  if (n == nullptr) return;
  auto v = n->value_exact<bool>();
  if (!v) return errors_->add(n->source(), full(key), "must be true or false");
  *dst = *v;
}

void ConfigSection::string(std::string_view key, std::string* dst, bool allow_empty) {
  const toml::node* n = take(key);
  if (n == nullptr) return;
  auto v = n->value_exact<std::string>();
  if (!v) return errors_->add(n->source(), full(key), "must be a string");
  if (!allow_empty && v->empty()) return errors_->add(n->source(), full(key), "must not be empty");
  *dst = *v;
}

void ConfigSection::choice(std::string_view key, std::string* dst, std::initializer_list<std::string_view> allowed) {
  const toml::node* n = take(key);
  if (n == nullptr) return;
  auto v = n->value_exact<std::string>();
  std::string list;
  for (auto a : allowed) list += str_cat(list.empty() ? "" : ", ", "\"", a, "\"");
  if (!v) return errors_->add(n->source(), full(key), str_cat("must be one of ", list));
  if (std::find(allowed.begin(), allowed.end(), std::string_view(*v)) == allowed.end())
    return errors_->add(n->source(), full(key), str_cat("must be one of ", list, ", got \"", *v, "\""));
  *dst = *v;
}

std::optional<std::int64_t> parse_duration_ns(std::string_view s) {
  double value = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  std::string_view unit(p, static_cast<std::size_t>(s.data() + s.size() - p));
  double scale = 0;
  if (unit == "ns")
    scale = 1;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "s")
    scale = 1e9;
  else if (unit == "m")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  else if (unit == "d")
    scale = 86400e9;
  else
    return std::nullopt;
  double ns = value * scale;
  if (!std::isfinite(ns) || ns < 0 || ns > 9.2e18) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(ns));
}

void ConfigSection::duration_ns(std::string_view key, std::int64_t* dst, std::int64_t min_ns, std::int64_t max_ns) {
  const toml::node* n = take(key);
  if (n == nullptr) return;
  std::optional<std::int64_t> ns;
  if (n->is_integer())
    ns = n->as_integer()->get() * 1'000'000'000LL;
  else if (n->is_floating_point())
    ns = static_cast<std::int64_t>(std::llround(n->as_floating_point()->get() * 1e9));
  else if (n->is_string())
    ns = parse_duration_ns(n->as_string()->get());
  if (!ns)
    return errors_->add(
        n->source(), full(key),
        "must be a duration: seconds as a number, or a string like \"250ms\", \"10s\", \"5m\", \"1h\", \"2d\"");
  if (*ns < min_ns || *ns > max_ns)
    return errors_->add(
        n->source(), full(key),
        str_cat("must be between ", min_ns / 1e9, " s and ", max_ns / 1e9, " s, got ", *ns / 1e9, " s"));
  *dst = *ns;
}

void ConfigSection::strings(std::string_view key, std::vector<std::string>* dst) {
  const toml::node* n = take(key);
  if (n == nullptr) return;
  const toml::array* arr = n->as_array();
  if (arr == nullptr) return errors_->add(n->source(), full(key), "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : *arr) {
    auto v = e.value_exact<std::string>();
    if (!v) return errors_->add(e.source(), full(key), "must be an array of strings");
    out.push_back(*v);
  }
  *dst = std::move(out);
}

void ConfigSection::numbers(std::string_view key, std::vector<double>* dst, double min, double max,
                            std::size_t max_items) {
  const toml::node* n = take(key);
  if (n == nullptr) return;
  const toml::array* arr = n->as_array();
  if (arr == nullptr) return errors_->add(n->source(), full(key), "must be an array of numbers");
  if (arr->size() > max_items)
    return errors_->add(n->source(), full(key),
                        str_cat("must have at most ", max_items, " numbers, got ", arr->size()));
  std::vector<double> out;
  for (const auto& e : *arr) {
    std::optional<double> v;
    if (e.is_floating_point())
      v = e.as_floating_point()->get();
    else if (e.is_integer())
      v = static_cast<double>(e.as_integer()->get());
    if (!v) return errors_->add(e.source(), full(key), "must be an array of numbers");
    if (!std::isfinite(*v) || *v < min || *v > max)
      return errors_->add(e.source(), full(key), str_cat("each must be in ", min, "..", max, ", got ", *v));
    out.push_back(*v);
  }
  *dst = std::move(out);
}

std::optional<std::string> file_problem(const std::string& path) {
  // O_NONBLOCK: a FIFO must not hang validation (it is refused as not a regular file below).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return str_cat("cannot open \"", path, "\": ", std::strerror(errno));
  std::optional<std::string> problem;
  struct stat st {};
  char byte = 0;
  if (::fstat(fd, &st) != 0)
    problem = str_cat("cannot stat \"", path, "\": ", std::strerror(errno));
  else if (S_ISDIR(st.st_mode))
    problem = str_cat("\"", path, "\" is a directory, not a file");
  else if (!S_ISREG(st.st_mode))
    problem = str_cat("\"", path, "\" is not a regular file");
  else if (::read(fd, &byte, 1) < 0)
    problem = str_cat("cannot read \"", path, "\": ", std::strerror(errno));
  ::close(fd);
  return problem;
}

void ConfigSection::readable_file(std::string_view key, const std::string& path) {
  if (path.empty()) return;
  if (auto problem = file_problem(path)) error(key, *problem);
}

const toml::table* ConfigSection::table(std::string_view key) {
  const toml::node* n = take(key);
  if (n == nullptr) return nullptr;
  if (!n->is_table()) {
    errors_->add(n->source(), full(key), "must be a table");
    return nullptr;
  }
  return n->as_table();
}

std::vector<const toml::table*> ConfigSection::tables(std::string_view key) {
  std::vector<const toml::table*> out;
  const toml::node* n = take(key);
  if (n == nullptr) return out;
  const toml::array* arr = n->as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    errors_->add(n->source(), full(key), str_cat("must be an array of tables ([[", full(key), "]])"));
    return out;
  }
  for (const auto& e : *arr) out.push_back(e.as_table());
  return out;
}

}  // namespace segmentd
