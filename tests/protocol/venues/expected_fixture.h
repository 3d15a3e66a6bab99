#pragma once
// Runs an adapter over one of the repository's own fixtures (tests/fixtures/exchanges/<stem>.json
// or .ndjson) and checks each outcome and fill against its sibling <stem>.expected.json, whose
// values were worked out by hand from the message and the venue's docs (never by running this
// code): see tests/fixtures/exchanges/README.md for the fields and their meaning.
//
// Mapping of the expectation onto Fill:
//   qty_base → qty; maker → liquidity; dedup_key → trade_id = stable_hash(dedup_key);
//   fee_usd, iv, underlying_price, mark_price: null → NaN ("unknown");
//   notional_usd: null → NaN (the message does not determine it);
//   expiry_ns, strike: null → 0; option_type: null → kNone;
//   index_price, venue_trade_id, derivation: information only (Fill has no such field; the
//   dedup key covers the trade id).
// Numbers compare with a relative tolerance of 1e-12 (check_close).

#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "simdjson.h"
#include "tests/protocol/venues/adapter_test_support.h"

namespace segmentd::testing {

//! One fill of an .expected.json; std::nullopt = null.
struct FixtureFill {
  std::string account;
  std::string symbol;
  std::string kind;
  std::string side;
  bool maker = false;
  double qty_base = 0;
  double price = 0;
  std::optional<double> fee_usd;
  std::optional<double> notional_usd;
  std::optional<double> underlying_price;
  std::optional<double> mark_price;
  std::optional<double> iv;
  std::string dedup_key;
  std::int64_t venue_ns = 0;
  std::optional<std::int64_t> expiry_ns;
  std::optional<std::string> option_type;
  std::optional<double> strike;
};

//! One message of an .expected.json (one line of an .ndjson).
struct FixtureMessage {
  std::string kind;
  std::optional<std::int64_t> request_id;
  std::optional<std::int64_t> venue_code;
  std::optional<std::int64_t> skipped;
  std::optional<bool> success;
  std::optional<bool> snapshot;
  std::vector<FixtureFill> fills;
};

struct FixtureExpectation {
  std::string stem;  //!< "<venue>/<name>", without extension
  std::string configured_account;
  std::vector<FixtureMessage> messages;
};

namespace detail {

inline bool has(simdjson::dom::object o, std::string_view key) {
  simdjson::dom::element e;
  return o.at_key(key).get(e) == simdjson::SUCCESS;
}

inline bool is_null_or_absent(simdjson::dom::object o, std::string_view key) {
  simdjson::dom::element e;
  return o.at_key(key).get(e) != simdjson::SUCCESS || e.is_null();
}

inline double number(simdjson::dom::element e) {
  if (e.is_int64()) return static_cast<double>(std::int64_t(e.get_int64()));
  if (e.is_uint64()) return static_cast<double>(std::uint64_t(e.get_uint64()));
  return double(e.get_double());
}

inline std::optional<double> optional_number(simdjson::dom::object o, std::string_view key) {
  if (is_null_or_absent(o, key)) return std::nullopt;
  return number(o[key]);
}

inline std::optional<std::int64_t> optional_int(simdjson::dom::object o, std::string_view key) {
  if (is_null_or_absent(o, key)) return std::nullopt;
  return std::int64_t(o[key].get_int64());
}

inline std::string text(simdjson::dom::object o, std::string_view key) {
  return std::string(std::string_view(o[key].get_string()));
}

}  // namespace detail

//! Reads tests/fixtures/exchanges/<stem>.expected.json.
inline FixtureExpectation load_expectation(const std::string& stem) {
  using namespace detail;
  const std::string path = own_fixture_path(stem + ".expected.json");
  INFO("reading " << path);
  simdjson::dom::parser parser;
  const std::string json = read_text_file(path);
  simdjson::dom::object root;
  REQUIRE(parser.parse(json).get(root) == simdjson::SUCCESS);
  FixtureExpectation x;
  x.stem = stem;
  REQUIRE(has(root, "messages"));
  if (has(root, "configured_account")) x.configured_account = text(root, "configured_account");
  for (simdjson::dom::object m : root["messages"].get_array()) {
    FixtureMessage msg;
    msg.kind = text(m, "kind");
    msg.request_id = optional_int(m, "request_id");
    msg.venue_code = optional_int(m, "venue_code");
    msg.skipped = optional_int(m, "skipped");
    if (!is_null_or_absent(m, "success")) msg.success = bool(m["success"].get_bool());
    if (!is_null_or_absent(m, "snapshot")) msg.snapshot = bool(m["snapshot"].get_bool());
    for (simdjson::dom::object f : m["fills"].get_array()) {
      FixtureFill e;
      e.account = text(f, "account");
      e.symbol = text(f, "symbol");
      e.kind = text(f, "kind");
      e.side = text(f, "side");
      e.maker = bool(f["maker"].get_bool());
      e.qty_base = number(f["qty_base"]);
      e.price = number(f["price"]);
      e.fee_usd = optional_number(f, "fee_usd");
      e.notional_usd = optional_number(f, "notional_usd");
      e.underlying_price = optional_number(f, "underlying_price");
      e.mark_price = optional_number(f, "mark_price");
      e.iv = optional_number(f, "iv");
      e.dedup_key = text(f, "dedup_key");
      e.venue_ns = std::int64_t(f["venue_ns"].get_int64());
      e.expiry_ns = optional_int(f, "expiry_ns");
      if (!is_null_or_absent(f, "option_type")) e.option_type = text(f, "option_type");
      e.strike = optional_number(f, "strike");
      msg.fills.push_back(std::move(e));
    }
    x.messages.push_back(std::move(msg));
  }
  return x;
}

//! The messages of tests/fixtures/exchanges/<stem>.json (one) or <stem>.ndjson (one a line).
inline std::vector<std::string> load_fixture_messages(const std::string& stem) {
  std::error_code ec;
  if (std::filesystem::exists(own_fixture_path(stem + ".ndjson"), ec)) {
    std::istringstream lines(own_fixture(stem + ".ndjson"));
    std::vector<std::string> out;
    std::string line;
    while (std::getline(lines, line))
      if (!line.empty()) out.push_back(line);
    return out;
  }
  return {own_fixture(stem + ".json")};
}

//! Which fields of a fill to compare: every field but some, or only some. A field left out of
//! the plain test of a fixture is one where the adapter and the documented expectation differ
//! today; its own "(known deviation, issue follow-up)" test case checks it (tests/README.md).
struct FieldSet {
  bool only = false;
  std::set<std::string> names;
  bool wants(const std::string& field) const { return only == (names.count(field) != 0); }
};
inline FieldSet all_fields() { return {}; }
inline FieldSet all_fields_but(std::set<std::string> names) { return {false, std::move(names)}; }
inline FieldSet only_fields(std::set<std::string> names) { return {true, std::move(names)}; }

inline void check_optional_close(double actual, const std::optional<double>& expected, double if_null,
                                 const char* what) {
  check_close(actual, expected ? *expected : if_null, what);
}

//! Compares one decoded fill with its hand-computed expectation.
inline void check_fixture_fill(AdapterHarness& h, const Fill& f, const FixtureFill& e, const FieldSet& fields) {
  INFO("fill " << e.dedup_key);
  CHECK(f.recv_ns == kRecvNs);
  if (fields.wants("account")) CHECK(h.account_name(f.account) == e.account);
  if (fields.wants("symbol")) CHECK(h.instrument(f).symbol == e.symbol);
  if (fields.wants("kind")) CHECK(to_string(f.kind) == e.kind);
  if (fields.wants("side")) CHECK(to_string(f.side) == e.side);
  if (fields.wants("maker")) CHECK(f.liquidity == (e.maker ? Liquidity::kMaker : Liquidity::kTaker));
  if (fields.wants("qty_base")) check_close(f.qty, e.qty_base, "qty_base");
  if (fields.wants("price")) check_close(f.price, e.price, "price");
  if (fields.wants("fee_usd")) check_optional_close(f.fee_usd, e.fee_usd, kNaN, "fee_usd");
  if (fields.wants("notional_usd")) check_optional_close(f.notional_usd, e.notional_usd, kNaN, "notional_usd");
  if (fields.wants("underlying_price"))
    check_optional_close(f.underlying_price, e.underlying_price, kNaN, "underlying_price");
  if (fields.wants("mark_price")) check_optional_close(f.mark_price, e.mark_price, kNaN, "mark_price");
  if (fields.wants("iv")) check_optional_close(f.iv, e.iv, kNaN, "iv");
  if (fields.wants("dedup_key")) CHECK(f.trade_id == trade_hash(e.dedup_key));
  if (fields.wants("venue_ns")) CHECK(f.venue_ns == e.venue_ns);
  if (fields.wants("expiry_ns")) CHECK(f.expiry_ns == e.expiry_ns.value_or(0));
  if (fields.wants("option_type")) {
    const OptionType expected = !e.option_type             ? OptionType::kNone
                                : *e.option_type == "call" ? OptionType::kCall
                                                           : OptionType::kPut;
    CHECK(f.option_type == expected);
  }
  if (fields.wants("strike")) check_optional_close(f.strike, e.strike, 0.0, "strike");
}

//! Compares what decode() said about a message with its expectation (the fields it gives).
inline void check_fixture_outcome(const DecodeOutcome& out, std::size_t fills_appended, const FixtureMessage& m) {
  CHECK(to_string(out.kind) == m.kind);
  CHECK(fills_appended == m.fills.size());
  CHECK(out.fills == m.fills.size());
  CHECK(out.duplicates == 0);
  if (m.request_id) CHECK(out.request_id == *m.request_id);
  if (m.venue_code) CHECK(out.venue_code == *m.venue_code);
  if (m.skipped) CHECK(out.skipped == *m.skipped);
  if (m.success) CHECK(out.success == *m.success);
  if (m.snapshot) CHECK(out.snapshot == *m.snapshot);
}

//! Decodes every message of the fixture `stem` with a fresh adapter configured with the
//! expectation's account, and checks each outcome and each fill (the `fields` of each fill).
//! Returns the harness, for further checks (replays, ...).
inline std::unique_ptr<AdapterHarness> check_own_fixture(Venue venue, const std::string& stem,
                                                         const FieldSet& fields = all_fields()) {
  INFO("fixture " << stem);
  const FixtureExpectation x = load_expectation(stem);
  const std::vector<std::string> messages = load_fixture_messages(stem);
  REQUIRE(messages.size() == x.messages.size());
  auto h = std::make_unique<AdapterHarness>(venue, x.configured_account);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    INFO("message " << i + 1);
    const std::size_t before = h->fills.size();
    const DecodeOutcome out = h->ok(messages[i]);
    const FixtureMessage& m = x.messages[i];
    check_fixture_outcome(out, h->fills.size() - before, m);
    if (h->fills.size() - before != m.fills.size()) continue;
    for (std::size_t k = 0; k < m.fills.size(); ++k) check_fixture_fill(*h, h->fills[before + k], m.fills[k], fields);
  }
  return h;
}

}  // namespace segmentd::testing
