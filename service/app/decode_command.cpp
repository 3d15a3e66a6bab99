#include "service/app/decode_command.h"
#include "protocol/venues/registry.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "protocol/native_format.h"
#include "protocol/venues/venue_adapter.h"

namespace segmentd {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

struct Message {
  std::size_t number = 0;  //!< 1-based line (NDJSON) or 1 (single message)
  std::string_view text;
};

//! NDJSON when the first non-empty line is a whole message on its own (a bare word such as
//! OKX's "pong", or {...} / [...] on one line); a pretty-printed message starts with a lone "{".
std::vector<Message> split_messages(std::string_view content) {
  std::vector<Message> lines;
  std::size_t number = 0;
  std::size_t start = 0;
  while (start <= content.size()) {
    std::size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    ++number;
    const std::string_view line = trim(content.substr(start, end - start));
    if (!line.empty()) lines.push_back({number, line});
    start = end + 1;
  }
  if (lines.size() <= 1) return lines;
  const std::string_view first = lines.front().text;
  const bool opens = first.front() == '{' || first.front() == '[';
  const bool closes = first.back() == '}' || first.back() == ']';
  const bool whole = opens ? (closes && first.size() > 1) : true;
  if (whole) return lines;
  return {Message{1, trim(content)}};
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int run_decode(const std::string& venue_name, const std::string& path, const std::string& account, std::ostream& out,
               std::ostream& err) {
  const auto venue = parse_venue(venue_name);
  if (!venue || *venue == Venue::kNative) {
    err << "decode: unknown venue '" << venue_name << "' (deribit, binance, okx, bybit, hyperliquid)\n";
    return 2;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err << "decode: cannot read '" << path << "'\n";
    return 2;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string content = buffer.str();

  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  AdapterContext ctx;
  ctx.accounts = &accounts;
  ctx.instruments = &instruments;
  // Private streams carry no account id: name it after the flag, or "account" without one.
  ctx.account = account.empty() && *venue != Venue::kHyperliquid ? "account" : account;
  auto adapter = make_venue_adapter(*venue, std::move(ctx));

  std::vector<Fill> fills;
  DecodeOutcome outcome;
  ParseError error;
  std::string line;
  int rc = 0;
  const std::int64_t fallback_ns = now_ns();
  for (const Message& m : split_messages(content)) {
    fills.clear();
    if (!adapter->decode_unpadded(m.text, 0, fills, outcome, error)) {
      err << "message " << m.number << ": error " << to_string(error.reason) << ": " << error.detail << "\n";
      rc = 1;
      continue;
    }
    err << "message " << m.number << ": " << to_string(outcome.kind) << ": " << outcome.reason;
    if (outcome.kind == MessageKind::kFills || outcome.fills > 0 || outcome.duplicates > 0) {
      err << " (" << outcome.fills << " fills, " << outcome.duplicates << " duplicates)";
    }
    if (outcome.skipped > 0) err << " (" << outcome.skipped << " entries not fills)";
    if (outcome.venue_code != 0) err << " (venue code " << outcome.venue_code << ")";
    err << "\n";
    for (Fill& f : fills) {
      f.recv_ns = f.venue_ns > 0 ? f.venue_ns : fallback_ns;
      line.clear();
      append_native_fill(line, f, accounts.name(f.account), native_symbol(instruments.get(f.instrument)));
      out << line;
    }
  }
  return rc;
}

}  // namespace segmentd
