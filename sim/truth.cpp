#include "sim/truth.h"

#include <cstdio>
#include <string_view>

#include "absl/strings/numbers.h"

namespace fillsim {

absl::StatusOr<std::vector<TruthEntry>> parse_truth_csv(const std::string& text) {
  std::vector<TruthEntry> rows;
  std::string_view rest(text);
  std::size_t line_no = 0;
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError("truth CSV line " + std::to_string(line_no) + ": " + why);
  };
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line_no == 1) {
      if (line != "account,archetype,switch_ts_ns,new_archetype")
        return bad("expected the header account,archetype,switch_ts_ns,new_archetype");
      continue;
    }
    std::string_view f[4];
    int n = 0;
    for (std::size_t start = 0;;) {
      std::size_t comma = line.find(',', start);
      if (n == 4) return bad("more than 4 columns");
      f[n++] = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (n != 4) return bad("expected 4 columns");
    TruthEntry e;
    e.account = std::string(f[0]);
    if (e.account.empty()) return bad("empty account");
    auto a = parse_archetype(f[1]);
    if (!a) return bad("unknown archetype '" + std::string(f[1]) + "'");
    e.archetype = e.new_archetype = *a;
    if (f[2].empty() != f[3].empty()) return bad("switch_ts_ns and new_archetype go together");
    if (!f[2].empty()) {
      if (!absl::SimpleAtoi(std::string(f[2]), &e.switch_ns) || e.switch_ns <= 0) return bad("bad switch_ts_ns");
      auto b = parse_archetype(f[3]);
      if (!b) return bad("unknown archetype '" + std::string(f[3]) + "'");
      e.new_archetype = *b;
    }
    rows.push_back(std::move(e));
  }
  if (line_no == 0) return absl::InvalidArgumentError("truth CSV is empty");
  return rows;
}

absl::StatusOr<std::vector<TruthEntry>> read_truth_csv(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return absl::NotFoundError("cannot open '" + path + "'");
  std::string text;
  char buf[1 << 16];
  std::size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, got);
  bool err = std::ferror(f) != 0;
  std::fclose(f);
  if (err) return absl::DataLossError("error reading '" + path + "'");
  return parse_truth_csv(text);
}

}  // namespace fillsim
