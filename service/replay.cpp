#include "service/replay.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <iostream>
#include <ostream>

#include "absl/container/flat_hash_map.h"
#include "core/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "protocol/json_writer.h"
#include "protocol/native_format.h"
#include "service/shard_set.h"

namespace segmentd {
namespace {

// Per-account totals, owned by one shard thread.
class TotalsHandler final : public ShardHandler {
 public:
  struct Totals {
    std::uint64_t fills = 0;
    double notional_usd = 0.0;
  };
  void on_fill(const Fill& f) override {
    Totals& t = totals_[f.account];
    ++t.fills;
    t.notional_usd += f.notional_usd;
  }
  const absl::flat_hash_map<AccountId, Totals>& totals() const { return totals_; }

 private:
  absl::flat_hash_map<AccountId, Totals> totals_;
};

}  // namespace

absl::StatusOr<ReplaySummary> run_replay(const Config& config, const ReplayOptions& options, std::ostream& log) {
  auto t0 = std::chrono::steady_clock::now();
  AccountInterner accounts;
  InstrumentRegistry instruments(config.contracts);
  NativeFillParser parser(accounts, instruments);

  ShardSetConfig sc;
  sc.shards = config.shards.shards;
  sc.producers = 1;
  sc.ring_capacity = config.shards.ring_capacity;
  sc.full_policy = RingFullPolicy::kBlock;  // a file can always wait for the shards
  std::vector<std::unique_ptr<ShardHandler>> handlers;
  for (int i = 0; i < sc.shards; ++i) handlers.push_back(std::make_unique<TotalsHandler>());
  ShardSet shards(sc, std::move(handlers));
  shards.start();

  ReplaySummary summary;
  NativeReadStats stats;
  std::size_t shown = 0;
  auto status = read_native_file(
      options.input, parser, config.replay.max_line_bytes, [&](const Fill& f) { shards.push(0, f); },
      [&](std::uint64_t line, const ParseError& e) {
        if (shown++ < options.max_errors_shown)
          log << options.input << ":" << line << ": skipped (" << to_string(e.reason) << "): " << e.detail << "\n";
      },
      &stats);
  shards.stop();
  if (!status.ok()) return status;
  if (shown > options.max_errors_shown)
    log << options.input << ": " << (shown - options.max_errors_shown) << " more bad lines not shown\n";

  // Gather per-account results and sort by account name: the order of the output never
  // depends on shard count or thread timing.
  struct Row {
    const std::string* name;
    TotalsHandler::Totals totals;
  };
  std::vector<Row> rows;
  rows.reserve(accounts.size());
  for (int s = 0; s < shards.shards(); ++s) {
    auto& h = static_cast<TotalsHandler&>(shards.handler(s));
    for (const auto& [id, t] : h.totals()) rows.push_back({&accounts.name(id), t});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return *a.name < *b.name; });

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (options.output != "-" && !options.output.empty()) {
    file.open(options.output, std::ios::binary | std::ios::trunc);
    if (!file) return absl::PermissionDeniedError(str_cat("cannot write '", options.output, "'"));
    out = &file;
  }
  std::string line;
  for (const Row& r : rows) {
    line.clear();
    line.append("{\"account\":");
    json::append_string(line, *r.name);
    line.append(",\"fills\":");
    json::append_uint(line, r.totals.fills);
    line.append(",\"notional_usd\":");
    json::append_double(line, r.totals.notional_usd);
    line.append("}\n");
    out->write(line.data(), static_cast<std::streamsize>(line.size()));
    summary.notional_usd += r.totals.notional_usd;
  }
  out->flush();
  if (!*out) return absl::DataLossError(str_cat("error writing '", options.output, "'"));

  summary.lines = stats.lines;
  summary.fills = stats.fills;
  summary.errors = stats.errors;
  summary.accounts = rows.size();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

void print_summary(const ReplaySummary& s, std::ostream& out) {
  out << absl::StrFormat("replay: %d lines, %d fills, %d accounts, %.2f USD notional, %d bad lines, %.3f s (%.0f fills/s)\n",
                         s.lines, s.fills, s.accounts, s.notional_usd, s.errors.total(), s.seconds,
                         s.seconds > 0 ? s.fills / s.seconds : 0.0);
  for (int r = 0; r < kParseErrorReasonCount; ++r) {
    if (s.errors.by_reason[r] == 0) continue;
    out << absl::StrFormat("  bad lines, %s: %d\n", to_string(static_cast<ParseErrorReason>(r)), s.errors.by_reason[r]);
  }
}

}  // namespace segmentd
