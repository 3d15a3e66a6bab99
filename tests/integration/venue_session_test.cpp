// End to end, per venue: segmentd's VenueSource against the simulator's venue server over TLS on
// 127.0.0.1. Login with signatures (and a wrong secret refused), heartbeats and test requests
// answered, a forced disconnect during which the account's fills run on (the server pushes none
// of them later: they come only through the REST gap-fill, which meets HTTP 500s, rate limits and
// truncated bodies on the way) after which no fill is lost or duplicated, a restart from a saved
// position that gap-fills from there, and bad frames (truncated, wrongly typed, not JSON,
// oversized) counted by reason and skipped.
// The server holds the client to something other than itself: it checks signatures with its own
// code over the strings the venues' docs define (tools/fillsim/venue_auth.h), and the expected
// trade ids are read from the frames it sends (tools/fillsim/frame_trade_ids.h), not from the
// venue adapters.
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "core/str_cat.h"
#include "protocol/venues/deribit/control.h"
#include "protocol/venues/registry.h"
#include "service/ingest/venue_source.h"
#include "service/shards/account_shard.h"
#include "tests/integration/test_support.h"
#include "tools/fillsim/venue_server.h"

using namespace segmentd;
using segmentd::testing::CollectingSink;
using segmentd::testing::test_certificate;
using segmentd::testing::wait_until;

namespace {

constexpr std::size_t kAccounts = 2;
constexpr std::size_t kFills = 60;

std::string account_name(Venue v, std::size_t i) {
  if (v == Venue::kHyperliquid) return str_cat("0x15f43d1f2dee81424afd891943262aa90f22cc2", i);
  return str_cat("sub", i);
}

using control::BinanceMarket;

fillsim::VenueServerOptions server_options(Venue venue, BinanceMarket market = BinanceMarket::kUsdM) {
  fillsim::VenueServerOptions o;
  o.venue = venue;
  o.binance_market = market;
  o.tls_cert_file = test_certificate().cert;
  o.tls_key_file = test_certificate().key;
  for (std::size_t i = 0; i < kAccounts; ++i) {
    fillsim::ServerAccount a;
    a.name = account_name(venue, i);
    if (venue != Venue::kHyperliquid) {
      a.key = str_cat("key-", to_string(venue), "-", i);
      a.secret = str_cat("secret-", to_string(venue), "-", i);
      if (venue == Venue::kOkx) a.passphrase = str_cat("pass-", i);
    }
    o.accounts.push_back(a);
  }
  o.sim.accounts = 50;
  o.sim.rate = 100;
  o.sim.duration_s = 0;
  o.sim.seed = 7;
  o.fills_per_account = kFills;
  o.batch = 3;
  o.messages_per_second = 400;
  o.snapshot_fills = 8;      // Hyperliquid's userFills snapshot on subscribe
  o.history_page_limit = 7;  // a gap spans several REST pages
  return o;
}

//! A source config pointing at the server, with credentials in environment variables.
SourceConfig client_config(Venue venue, const fillsim::VenueServer& venue_server,
                           const fillsim::VenueServerOptions& server, bool wrong_secret) {
  const std::uint16_t port = venue_server.port();
  SourceConfig c;
  c.name = str_cat("test-", to_string(venue));
  c.kind = SourceKind::kVenue;
  c.venue = venue;
  const bool binance_options = server.binance_market == BinanceMarket::kOptions;
  c.url = str_cat("wss://127.0.0.1:", port,
                  venue == Venue::kBinance ? (binance_options ? "/eoptions/ws" : "/ws") : "/ws/api/v2");
  c.rest_url = str_cat("https://127.0.0.1:", port);  // listenKey and the gap-fill's history
  c.binance_market = server.binance_market;
  // USDⓈ-M's history is per symbol; options' covers every symbol at once.
  if (venue == Venue::kBinance && !binance_options) c.history_symbols = venue_server.symbols();
  c.ca_file = test_certificate().cert;
  c.connect_timeout_ns = 5'000'000'000;
  c.handshake_timeout_ns = 5'000'000'000;
  c.heartbeat_interval_ns = 200'000'000;
  c.auth_timeout_ns = 5'000'000'000;
  c.backoff.initial_ns = 20'000'000;
  c.backoff.max_ns = 200'000'000;
  c.max_frame_bytes = 64 * 1024;
  for (std::size_t i = 0; i < server.accounts.size(); ++i) {
    SourceAccount a;
    a.name = server.accounts[i].name;
    if (venue != Venue::kHyperliquid) {
      const std::string prefix = str_cat("SEGMENTD_TEST_", static_cast<int>(venue), "_", i, wrong_secret ? "_BAD" : "");
      ::setenv((prefix + "_KEY").c_str(), server.accounts[i].key.c_str(), 1);
      ::setenv((prefix + "_SECRET").c_str(), (server.accounts[i].secret + (wrong_secret ? "x" : "")).c_str(), 1);
      a.key.env = prefix + "_KEY";
      a.secret.env = prefix + "_SECRET";
      if (venue == Venue::kOkx) {
        ::setenv((prefix + "_PASS").c_str(), server.accounts[i].passphrase.c_str(), 1);
        a.passphrase.env = prefix + "_PASS";
      }
      if (venue == Venue::kBinance && wrong_secret) {
        ::setenv((prefix + "_KEY").c_str(), "not-a-key", 1);  // Binance checks the API key only
      }
    }
    c.accounts.push_back(a);
  }
  return c;
}

//! Collects fills like CollectingSink, and checks the units: every push inside one, none nested.
class UnitSink final : public FillSink {
 public:
  bool push(const Fill& fill) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (depth_ != 1) ++outside_;
    (fill.is_fill() ? fills_ : records_).push_back(fill);
    pushed_.push_back(fill);
    return true;
  }
  bool push_price(const PriceRecord&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (depth_ != 1) ++outside_;
    return true;
  }
  void begin_unit() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (depth_++ != 0) ++nested_;
    ++units_;
  }
  void end_unit() override {
    std::lock_guard<std::mutex> lock(mu_);
    --depth_;
  }
  std::vector<Fill> fills() const {
    std::lock_guard<std::mutex> lock(mu_);
    return fills_;
  }
  //! Venue position records and ends of snapshots, in push order.
  std::vector<Fill> records() const {
    std::lock_guard<std::mutex> lock(mu_);
    return records_;
  }
  //! Fills and records together, in push order (each account's in its connection's order).
  std::vector<Fill> pushed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pushed_;
  }
  std::set<std::uint64_t> ids() const {
    std::set<std::uint64_t> out;
    for (const Fill& f : fills()) out.insert(f.trade_id);
    return out;
  }
  int outside() const { return outside_; }
  int nested() const { return nested_; }
  int units() const { return units_; }
  int depth() const { return depth_; }

 private:
  mutable std::mutex mu_;
  std::vector<Fill> fills_;
  std::vector<Fill> records_;
  std::vector<Fill> pushed_;
  int depth_ = 0, outside_ = 0, nested_ = 0, units_ = 0;
};

std::uint64_t gap_fill_errors(const GapFillStats& g) {
  return GapFillStats::get(g.http_errors) + GapFillStats::get(g.rate_limited) + GapFillStats::get(g.bad_responses);
}

void run_end_to_end(Venue venue, BinanceMarket market = BinanceMarket::kUsdM) {
  REQUIRE(test_certificate().ok);
  auto options = server_options(venue, market);
  options.faults.drop_after = 6;  // one forced disconnect mid-stream...
  options.faults.max_drops = 1;
  options.faults.away_fills = 12;       // ...that lasts 12 of the account's fills (more than Hyperliquid's snapshot)
  options.faults.rest_error_every = 3;  // every third history call fails: 429, truncated JSON, HTTP 500
  options.faults.bad_every = 4;
  options.faults.oversized_every = 9;
  options.faults.oversized_bytes = 100 * 1024;  // > the client's 64 KiB max frame
  fillsim::VenueServer server(options);
  const auto started = server.start();
  INFO(started.message());
  REQUIRE(started.ok());

  // From the frames the server sends (raw ids, dedup key, stable_hash), not from our decoder.
  std::set<std::uint64_t> expected;
  for (std::size_t a = 0; a < kAccounts; ++a)
    expected.insert(server.expected_trade_ids(a).begin(), server.expected_trade_ids(a).end());
  REQUIRE(expected.size() == kAccounts * kFills);

  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  UnitSink sink;
  AdapterContext ctx;
  ctx.accounts = &accounts;
  ctx.instruments = &instruments;
  VenueSource source(client_config(venue, server, options, false), ctx, sink);
  REQUIRE(source.start().ok());

  auto received_all = [&] {
    std::set<std::uint64_t> got;
    for (const Fill& f : sink.fills()) got.insert(f.trade_id);
    return got == expected;
  };
  // Every fill, and every gap-fill read to its end (each first connect's and the reconnect's).
  const bool complete = wait_until(
      [&] { return received_all() && GapFillStats::get(source.gap_fill_stats().completed) >= kAccounts + 1; });
  // The stream can be over before the first heartbeat is due: wait for one (bounded), rather
  // than assume the fills take longer than a heartbeat interval.
  const bool pinging = venue == Venue::kOkx || venue == Venue::kBybit || venue == Venue::kHyperliquid;
  if (pinging) wait_until([&] { return server.stats().pings.load() >= 1; }, std::chrono::seconds(10));
  if (venue == Venue::kDeribit)
    wait_until([&] { return SourceStats::get(source.stats().test_requests_answered) >= 1; }, std::chrono::seconds(10));
  source.stop();
  server.stop();

  const auto fills = sink.fills();
  std::set<std::uint64_t> got;
  for (const Fill& f : fills) got.insert(f.trade_id);
  const SourceStats& s = source.stats();
  INFO("venue " << to_string(venue) << ": fills " << fills.size() << ", unique " << got.size()
                << ", duplicates dropped " << SourceStats::get(s.duplicates) << ", disconnects "
                << SourceStats::get(s.disconnects));
  CHECK(complete);
  CHECK(got == expected);             // nothing lost...
  CHECK(fills.size() == got.size());  // ...nothing twice
  CHECK(server.stats().drops.load() == 1);
  // The disconnect missed fills that the venue never pushed again: only the gap-fill had them.
  CHECK(server.stats().missed.load() >= options.faults.away_fills);
  const GapFillStats& g = source.gap_fill_stats();
  INFO("gap-fill: runs " << GapFillStats::get(g.runs) << ", completed " << GapFillStats::get(g.completed)
                         << ", requests " << GapFillStats::get(g.requests) << ", pages " << GapFillStats::get(g.pages)
                         << ", records " << GapFillStats::get(g.records) << ", errors " << gap_fill_errors(g)
                         << ", retries " << GapFillStats::get(g.retries) << "; server missed "
                         << server.stats().missed.load() << ", history calls "
                         << server.stats().history_requests.load());
  CHECK(GapFillStats::get(g.completed) >= kAccounts + 1);  // each first connect, and the reconnect
  CHECK(GapFillStats::get(g.records) >= options.faults.away_fills);
  CHECK(server.stats().history_faults.load() >= 1);
  CHECK(gap_fill_errors(g) >= 1);                      // counted...
  CHECK(GapFillStats::get(g.retries) >= 1);            // ...and retried
  CHECK(server.stats().history_rejected.load() == 0);  // every call signed as the venue wants
  CHECK(sink.outside() == 0);                          // every push inside a unit...
  CHECK(sink.nested() == 0);                           // ...one at a time
  CHECK(sink.depth() == 0);
  CHECK(SourceStats::get(s.disconnects) >= 1);
  CHECK(SourceStats::get(s.connects) >= kAccounts + 1);  // every account, plus the reconnect
  CHECK(SourceStats::get(s.duplicates) >= 1);            // the replayed window was dropped
  // Each fill is attributed to the account of its connection.
  for (const Fill& f : fills) {
    const std::string name(accounts.name(f.account));
    CHECK((name == account_name(venue, 0) || name == account_name(venue, 1)));
    // Binance's options stream carries options only (its own event shape, "o" an array).
    if (market == BinanceMarket::kOptions) CHECK(f.kind == InstrumentKind::kOption);
  }
  // Bad frames: counted by reason, skipped, and the connection stayed up through them.
  CHECK(server.stats().bad_frames.load() >= 2);
  CHECK(s.error_count(ParseErrorReason::kMalformedJson) >= 1);
  CHECK(s.error_count(ParseErrorReason::kWrongType) + s.error_count(ParseErrorReason::kBadValue) >= 1);
  CHECK(s.error_count(ParseErrorReason::kOversized) >= 1);
  CHECK(SourceStats::get(s.disconnects) <= 2 * kAccounts);  // bad frames do not cost the connection
  if (venue != Venue::kHyperliquid && venue != Venue::kBinance) CHECK(server.stats().auth_ok.load() >= kAccounts);
  if (venue == Venue::kBinance) CHECK(server.stats().listen_keys.load() >= kAccounts);
  if (venue == Venue::kDeribit) {
    CHECK(server.stats().test_requests.load() >= 1);
    CHECK(SourceStats::get(s.test_requests_answered) >= 1);
    CHECK(server.stats().heartbeat_closes.load() == 0);
  }
  if (pinging) {
    CHECK(SourceStats::get(s.pings_sent) >= 1);
    CHECK(server.stats().pings.load() >= 1);
  }
}

//! Positions from the venue (issue 20, item 3): every account held a position before its stream
//! started, and one disconnect misses fills. Fills alone cannot know either; the venue's position
//! channel and its snapshot at every connect do. Everything the source pushed, replayed in order
//! into a shard, must end with the venue's own positions (read from the server, not decoded).
void run_positions(Venue venue, BinanceMarket market = BinanceMarket::kUsdM) {
  REQUIRE(test_certificate().ok);
  auto options = server_options(venue, market);
  // An options account opens a new position with nearly every fill: 20 fills stay within the
  // 24 positions an account's book holds (8, and 16 in an overflow block), so that the whole
  // book can be compared.
  if (market == BinanceMarket::kOptions) options.fills_per_account = 20;
  options.start_position = -0.75;  // base units, on each account's first instrument
  options.faults.drop_after = 6;
  options.faults.max_drops = 1;
  options.faults.away_fills = 12;
  options.faults.rest_error_every =
      3;  // REST calls (history, and Binance's and Bybit's positions) fail and are retried
  fillsim::VenueServer server(options);
  const auto started = server.start();
  INFO(started.message());
  REQUIRE(started.ok());
  std::set<std::uint64_t> expected;
  for (std::size_t a = 0; a < kAccounts; ++a)
    expected.insert(server.expected_trade_ids(a).begin(), server.expected_trade_ids(a).end());

  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  UnitSink sink;
  AdapterContext ctx;
  ctx.accounts = &accounts;
  ctx.instruments = &instruments;
  VenueSource source(client_config(venue, server, options, false), ctx, sink);
  REQUIRE(source.start().ok());
  auto ends = [&] {
    std::size_t n = 0;
    for (const Fill& r : sink.records()) n += r.record == RecordKind::kPositionsEnd ? 1 : 0;
    return n;
  };
  // Every fill, and a snapshot at every connect (each account's first, and the reconnect).
  const bool complete = wait_until([&] {
    std::set<std::uint64_t> got;
    for (const Fill& f : sink.fills()) got.insert(f.trade_id);
    return got == expected && ends() >= kAccounts && SourceStats::get(source.stats().connects) >= kAccounts + 1 &&
           source.ready_sessions() == kAccounts;
  });
  // The last fill message's position update may still be on its way.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  source.stop();
  server.stop();
  INFO("connects " << SourceStats::get(source.stats().connects) << ", position messages sent "
                   << server.stats().position_messages.load() << ", positions kind "
                   << source.stats().kind_count(MessageKind::kPositions) << ", venue errors "
                   << SourceStats::get(source.stats().venue_errors) << ", snapshot ends " << ends() << ", bad messages "
                   << source.stats().error_total() << ", unknown " << source.stats().kind_count(MessageKind::kUnknown)
                   << ", ignored " << source.stats().kind_count(MessageKind::kIgnored) << ", acks "
                   << source.stats().kind_count(MessageKind::kSubscriptionAck) << "; server: connections "
                   << server.stats().connections.load() << ", auth " << server.stats().auth_ok.load()
                   << ", heartbeat closes " << server.stats().heartbeat_closes.load() << ", refused upgrades "
                   << server.stats().refused_upgrades.load());
  CHECK(complete);
  CHECK(server.stats().drops.load() == 1);
  // A snapshot for each account; a connection dropped before the venue answered its request
  // (Deribit asks after the subscribe, while fills already flow) gets its own at the reconnect.
  CHECK(ends() >= kAccounts);
  CHECK(SourceStats::get(source.stats().positions) == sink.records().size());
  CHECK(source.stats().kind_count(MessageKind::kPositions) >= kAccounts);
  CHECK(sink.outside() == 0);
  if (venue == Venue::kBinance || venue == Venue::kBybit) {
    // The snapshot came over REST: one read to its end per connect that lived long enough.
    CHECK(SourceStats::get(source.stats().position_snapshots) >= kAccounts);
  }

  // Replay what the source pushed into a shard, and into one that sees the fills only.
  PriceTape tape(64, 16, 1);
  AccountShardOptions with_options;
  with_options.tape = &tape;
  with_options.instrument_of = [&instruments](InstrumentId id) {
    const Instrument& ins = instruments.get(id);
    return InstrumentScope{ins.venue, ins.kind, ins.inverse};
  };
  AccountShard with_venue(0, with_options);
  AccountShardOptions fills_options;
  fills_options.tape = &tape;
  AccountShard fills_only(1, fills_options);
  for (const Fill& f : sink.pushed()) {
    with_venue.on_fill(f);
    if (f.is_fill()) fills_only.on_fill(f);
  }
  with_venue.on_stop();
  auto book_of = [&](const AccountShard& shard, AccountId account) {
    std::map<InstrumentId, double> out;
    const auto slot = shard.store().find(account);
    if (!slot) return out;
    for (const Position& p : shard.store().positions(*slot)) out[p.instrument] = p.qty;
    return out;
  };
  bool fills_alone_differ = false;
  for (std::size_t a = 0; a < kAccounts; ++a) {
    const AccountId account = accounts.intern(account_name(venue, a));
    std::map<InstrumentId, double> truth;
    for (const auto& [symbol, qty] : server.venue_positions(a)) {
      auto id = instruments.resolve(venue, symbol);
      REQUIRE(id.ok());
      if (qty != 0.0) truth[*id] = qty;
    }
    const auto book = book_of(with_venue, account);
    const auto alone = book_of(fills_only, account);
    INFO("account " << a << ": venue positions " << truth.size() << ", book " << book.size() << ", fills alone "
                    << alone.size());
    CHECK(book.size() == truth.size());
    for (const auto& [id, qty] : truth) {
      INFO(instruments.get(id).symbol);
      REQUIRE(book.count(id) == 1);
      CHECK(book.at(id) == Approx(qty).epsilon(1e-9).margin(1e-12));
    }
    for (const auto& [id, qty] : truth)
      if (alone.count(id) == 0 || std::abs(alone.at(id) - qty) > 1e-6) fills_alone_differ = true;
  }
  CHECK(fills_alone_differ);  // the test can fail: fills alone miss the start positions
  const ReconcileStats r = with_venue.reconcile_stats();
  INFO("records " << r.records << ", snapshots " << r.snapshots << ", covered " << r.fills_covered << ", checked "
                  << r.checked << ", disagreed " << r.disagreements << " (" << r.disagreement_usd << " USD)");
  CHECK(r.snapshots >= kAccounts);
  CHECK(r.disagreements >= kAccounts);  // each account's start position, at its first snapshot
  CHECK(r.disagreement_usd > 0);
  // Only the start positions, and a snapshot's own timing, make the fills and the venue differ:
  // at most one disagreement per snapshot and per account beyond them.
  CHECK(r.disagreements <= r.snapshots + kAccounts);
}

void run_wrong_secret(Venue venue) {
  REQUIRE(test_certificate().ok);
  auto options = server_options(venue);
  fillsim::VenueServer server(options);
  REQUIRE(server.start().ok());
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CollectingSink sink;
  AdapterContext ctx;
  ctx.accounts = &accounts;
  ctx.instruments = &instruments;
  VenueSource source(client_config(venue, server, options, true), ctx, sink);
  REQUIRE(source.start().ok());
  CHECK(wait_until([&] { return SourceStats::get(source.stats().auth_failures) >= kAccounts; }));
  CHECK(source.ready_sessions() == 0);  // before stop(), which drops the sessions
  source.stop();
  server.stop();
  CHECK(sink.size() == 0);
  if (venue == Venue::kBinance)
    CHECK(server.stats().listen_key_rejected.load() >= kAccounts);
  else
    CHECK(server.stats().auth_rejected.load() >= kAccounts);
}

}  // namespace

TEST_CASE("deribit session end to end over TLS", "[integration][venue][tsan]") { run_end_to_end(Venue::kDeribit); }
TEST_CASE("okx session end to end over TLS", "[integration][venue]") { run_end_to_end(Venue::kOkx); }
TEST_CASE("bybit session end to end over TLS", "[integration][venue]") { run_end_to_end(Venue::kBybit); }
TEST_CASE("binance session end to end over TLS", "[integration][venue]") { run_end_to_end(Venue::kBinance); }
TEST_CASE("binance options session end to end over TLS", "[integration][venue]") {
  run_end_to_end(Venue::kBinance, BinanceMarket::kOptions);
}
TEST_CASE("hyperliquid session end to end over TLS", "[integration][venue]") { run_end_to_end(Venue::kHyperliquid); }

// --- Restart: save_position → restore_position → start ------------------------------------------
// A source runs a while and stops (a restart); the accounts' fills run on at the venue with nobody
// connected; a new source restored from the first one's position gap-fills from there. Every
// fill arrives exactly once over the two sources, though the venue pushed the missed ones to
// nobody.

namespace {

void run_restart(Venue venue, BinanceMarket market = BinanceMarket::kUsdM) {
  REQUIRE(test_certificate().ok);
  auto options = server_options(venue, market);
  options.fills_per_account = 150;
  options.messages_per_second = 25;  // 75 fills/s per account: the stream outlives the first source
  fillsim::VenueServer server(options);
  const auto started = server.start();
  INFO(started.message());
  REQUIRE(started.ok());
  std::set<std::uint64_t> expected;
  for (std::size_t a = 0; a < kAccounts; ++a)
    expected.insert(server.expected_trade_ids(a).begin(), server.expected_trade_ids(a).end());
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  AdapterContext ctx;
  ctx.accounts = &accounts;
  ctx.instruments = &instruments;
  const SourceConfig config = client_config(venue, server, options, false);

  UnitSink first_sink;
  std::string position;
  {
    VenueSource first(config, ctx, first_sink);
    REQUIRE(first.start().ok());
    CHECK(wait_until([&] { return first_sink.ids().size() >= 20; }));
    first.stop();
    first.save_position(position);  // after stop(): what a clean shutdown's checkpoint holds
  }
  const std::size_t missed_before = server.stats().missed.load();
  // Fills run on while no client is connected: at least 10 of each account's.
  const bool ran_on = wait_until([&] { return server.missed(0) >= 10 && server.missed(1) >= 10; });

  UnitSink second_sink;
  VenueSource second(config, ctx, second_sink);
  REQUIRE(second.restore_position(position).ok());
  REQUIRE(second.start().ok());
  auto all = [&] {
    std::set<std::uint64_t> got = first_sink.ids();
    const auto more = second_sink.ids();
    got.insert(more.begin(), more.end());
    return got == expected;
  };
  const bool complete = wait_until(all);
  second.stop();
  server.stop();

  const auto a = first_sink.fills(), b = second_sink.fills();
  std::set<std::uint64_t> got = first_sink.ids();
  std::size_t both = 0;
  for (const Fill& f : b) both += got.count(f.trade_id);
  for (const Fill& f : b) got.insert(f.trade_id);
  const GapFillStats& g = second.gap_fill_stats();
  INFO("venue " << to_string(venue) << ": first " << a.size() << ", second " << b.size() << ", in both " << both
                << ", missed while away " << server.stats().missed.load() - missed_before << ", gap-fill records "
                << GapFillStats::get(g.records) << ", duplicates dropped "
                << SourceStats::get(second.stats().duplicates) << ", position bytes " << position.size());
  CHECK(ran_on);
  CHECK(complete);
  CHECK(got == expected);                         // nothing lost...
  CHECK(a.size() + b.size() == expected.size());  // ...nothing twice, across the restart too
  CHECK(both == 0);
  CHECK(GapFillStats::get(g.records) >= 20);  // the missed fills came from the history
  CHECK(first_sink.outside() + second_sink.outside() == 0);
}

}  // namespace

TEST_CASE("hyperliquid positions: clearinghouseState snapshots correct the book across a reconnect",
          "[integration][venue][positions]") {
  run_positions(Venue::kHyperliquid);
}

TEST_CASE("okx positions: a paged snapshot at every login and the changes after it correct the book",
          "[integration][venue][positions]") {
  run_positions(Venue::kOkx);
}

TEST_CASE("deribit positions: get_positions at every login and user.changes after it correct the book",
          "[integration][venue][positions]") {
  run_positions(Venue::kDeribit);
}

TEST_CASE("binance positions: ACCOUNT_UPDATE before each trade corrects the book and the trade is not counted twice",
          "[integration][venue][positions]") {
  run_positions(Venue::kBinance);
}

TEST_CASE("binance options positions: a REST snapshot at every connect and BALANCE_POSITION_UPDATE correct the book",
          "[integration][venue][positions]") {
  run_positions(Venue::kBinance, BinanceMarket::kOptions);
}

TEST_CASE("bybit positions: a REST snapshot at every connect and the position topic correct the book",
          "[integration][venue][positions]") {
  run_positions(Venue::kBybit);
}

TEST_CASE("deribit restart gap-fills from the saved position", "[integration][venue][restart]") {
  run_restart(Venue::kDeribit);
}
TEST_CASE("okx restart gap-fills from the saved position", "[integration][venue][restart]") {
  run_restart(Venue::kOkx);
}
TEST_CASE("bybit restart gap-fills from the saved position", "[integration][venue][restart]") {
  run_restart(Venue::kBybit);
}
TEST_CASE("binance restart gap-fills from the saved position", "[integration][venue][restart]") {
  run_restart(Venue::kBinance);
}
TEST_CASE("binance options restart gap-fills from the saved position", "[integration][venue][restart]") {
  run_restart(Venue::kBinance, BinanceMarket::kOptions);
}
TEST_CASE("hyperliquid restart gap-fills from the saved position", "[integration][venue][restart]") {
  run_restart(Venue::kHyperliquid);
}

TEST_CASE("a venue source refuses a position it cannot read", "[integration][venue][restart]") {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  AdapterContext ctx;
  ctx.accounts = &accounts;
  ctx.instruments = &instruments;
  SourceConfig config;
  config.name = "restore";
  config.venue = Venue::kOkx;
  config.accounts.push_back(SourceAccount{"sub0", {}, {}, {}});
  UnitSink sink;
  VenueSource source(config, ctx, sink);
  CHECK_FALSE(source.restore_position("not a position").ok());
  CHECK_FALSE(source.restore_position("segmentd-venue-position 1\nsub0\tx\t1\t\n").ok());
  CHECK_FALSE(source.restore_position("segmentd-venue-position 1\nsub0\t5\t1\t7:x\n").ok());
  REQUIRE(
      source.restore_position("segmentd-venue-position 1\nsub0\t1700000000123\t42\t41:1700000000100,42:1700000000123\n")
          .ok());
  std::string saved;
  source.save_position(saved);
  CHECK(saved == "segmentd-venue-position 1\nsub0\t1700000000123\t42\t41:1700000000100,42:1700000000123\n");
}

//! What a venue session subscribed to `market_data` collected until `enough` held of its prices
//! and at least 10 fills arrived (or the wait ran out).
struct MarketDataRun {
  bool got = false;
  std::vector<PriceRecord> prices;
  std::vector<Fill> fills;
  std::set<std::string> fill_accounts;  //!< the names of the fills' accounts
  std::set<std::string> configured;     //!< the source's account names
  std::size_t sessions = 0;
  std::uint64_t prices_counted = 0, market_data_messages = 0, market_data_connections = 0, market_data_kind = 0,
                errors = 0;
};

std::size_t prints_matching_fills(const MarketDataRun& run);

MarketDataRun run_market_data(Venue venue, std::vector<std::string> market_data,
                              const std::function<bool(const std::vector<PriceRecord>&)>& enough) {
  MarketDataRun run;
  REQUIRE(test_certificate().ok);
  auto options = server_options(venue);
  fillsim::VenueServer server(options);
  REQUIRE(server.start().ok());
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CollectingSink sink;
  AdapterContext ctx;
  ctx.accounts = &accounts;
  ctx.instruments = &instruments;
  SourceConfig config = client_config(venue, server, options, false);
  config.gap_fill = false;
  config.market_data = std::move(market_data);
  if (venue == Venue::kOkx) config.market_data_url = str_cat("wss://127.0.0.1:", server.port(), "/ws/v5/public");
  if (venue == Venue::kBybit) config.market_data_url = str_cat("wss://127.0.0.1:", server.port(), "/v5/public/linear");
  if (venue == Venue::kBinance) config.market_data_url = str_cat("wss://127.0.0.1:", server.port(), "/ws");
  VenueSource source(config, ctx, sink);
  REQUIRE(source.start().ok());
  run.sessions = source.sessions();
  run.got = wait_until([&] { return enough(sink.prices()) && sink.size() >= 10; });
  // A public print can arrive before the account's own session has delivered that fill (the
  // public connection is another socket): give the fills a moment to catch up with the prints.
  wait_until(
      [&] {
        MarketDataRun probe;
        probe.prices = sink.prices();
        probe.fills = sink.fills();
        return prints_matching_fills(probe) > 0;
      },
      std::chrono::seconds(10));
  source.stop();
  server.stop();
  run.prices = sink.prices();
  run.fills = sink.fills();
  for (const Fill& f : run.fills) run.fill_accounts.insert(accounts.name(f.account));
  for (const auto& a : config.accounts) run.configured.insert(a.name);
  run.prices_counted = SourceStats::get(source.stats().prices);
  run.market_data_messages = server.stats().market_data_messages.load();
  run.market_data_connections = server.stats().market_data_connections.load();
  run.market_data_kind = source.stats().kind_count(MessageKind::kMarketData);
  run.errors = source.stats().error_total();
  return run;
}

//! How many of the public trade prints are at a price one of the sessions' own fills had on that
//! instrument: the connected accounts' fills are among the venue's public trades.
std::size_t prints_matching_fills(const MarketDataRun& run) {
  std::map<InstrumentId, std::set<double>> printed;
  for (const Fill& f : run.fills) printed[f.instrument].insert(f.price);
  std::size_t matched = 0;
  for (const PriceRecord& p : run.prices)
    matched += p.price > 0 && printed.count(p.instrument) > 0 && printed[p.instrument].count(p.price) > 0;
  return matched;
}

//! The venue's open interest (tickers, asset contexts) reaches the records, in base units, and
//! only on the instruments the accounts trade (the simulated venue states the longs of all its
//! users: positive once one holds a position).
void check_open_interest(const MarketDataRun& run) {
  std::set<InstrumentId> traded;
  for (const Fill& f : run.fills) traded.insert(f.instrument);
  std::size_t records = 0, positive = 0;
  for (const PriceRecord& p : run.prices) {
    if (std::isnan(p.open_interest)) continue;
    ++records;
    positive += p.open_interest > 0;
    CHECK(p.open_interest >= 0);
    CHECK(traded.count(p.instrument) == 1);
  }
  INFO("open interest records " << records);
  CHECK(records > 0);
  CHECK(positive > 0);
}

TEST_CASE("deribit market data: public trades, marks and the index reach the price tape", "[integration][venue]") {
  // The session subscribes to the configured public channels beside user.trades; the simulator
  // pushes every account's fills as public trades (and the options' marks, and the index they
  // carry); the adapter turns each into a PriceRecord for the sink. No fill comes from them.
  const auto run = run_market_data(
      Venue::kDeribit, {"trades.any.any.100ms", "markprice.options.btc_usd", "deribit_price_index.btc_usd"},
      [](const std::vector<PriceRecord>& prices) {
        bool index = false, trade = false;
        for (const PriceRecord& p : prices) {
          index = index || (std::isnan(p.price) && std::isnan(p.mark_price) && p.underlying_price > 0);
          trade = trade || p.price > 0;
        }
        return index && trade;
      });
  INFO("prices " << run.prices.size() << ", fills " << run.fills.size() << ", market-data messages "
                 << run.market_data_messages);
  CHECK(run.got);
  CHECK(run.market_data_connections == 1);  // one of the kAccounts sessions subscribes public channels
  CHECK(run.market_data_messages >= 2);
  CHECK(run.prices_counted == run.prices.size());
  CHECK(run.market_data_kind >= 2);
  CHECK(run.errors == 0);
  std::size_t trades = 0;
  for (const PriceRecord& p : run.prices) {
    if (std::isnan(p.price)) continue;
    ++trades;
    CHECK(p.mark_price > 0);
    CHECK(p.underlying_price > 0);
    CHECK(p.venue == Venue::kDeribit);
    CHECK(p.venue_ns > 0);
  }
  CHECK(trades > 0);
  CHECK(prints_matching_fills(run) > 0);
}

TEST_CASE("okx market data: public trades, marks and index tickers arrive on a public connection of their own",
          "[integration][venue]") {
  // The public channels are on OKX's public websocket (market_data_url): one more session, which
  // subscribes without a login; the accounts' sessions log in and read their orders as before.
  const auto run = run_market_data(Venue::kOkx,
                                   {"trades:BTC-USDT-SWAP", "trades:ETH-USDT-SWAP", "mark-price:BTC-USDT-SWAP",
                                    "mark-price:ETH-USDT-SWAP", "index-tickers:BTC-USDT", "index-tickers:ETH-USDT"},
                                   [](const std::vector<PriceRecord>& prices) {
                                     bool index = false, mark = false, trade = false;
                                     for (const PriceRecord& p : prices) {
                                       index = index || p.underlying_price > 0;
                                       mark = mark || p.mark_price > 0;
                                       trade = trade || p.price > 0;
                                     }
                                     return index && mark && trade;
                                   });
  INFO("prices " << run.prices.size() << ", fills " << run.fills.size() << ", market-data messages "
                 << run.market_data_messages);
  CHECK(run.got);
  CHECK(run.sessions == kAccounts + 1);
  CHECK(run.market_data_connections == 1);
  CHECK(run.prices_counted == run.prices.size());
  CHECK(run.market_data_kind >= 3);
  CHECK(run.errors == 0);
  for (const std::string& name : run.fill_accounts) CHECK(run.configured.count(name) == 1);
  for (const PriceRecord& p : run.prices) {
    CHECK(p.venue == Venue::kOkx);
    CHECK(p.venue_ns > 0);
    // One price per record: a trade print, a mark, or an index.
    CHECK((p.price > 0) + (p.mark_price > 0) + (p.underlying_price > 0) == 1);
  }
  CHECK(prints_matching_fills(run) > 0);
}

TEST_CASE("bybit market data: public trades and tickers arrive on a public connection of their own",
          "[integration][venue]") {
  const auto run = run_market_data(Venue::kBybit,
                                   {"publicTrade.BTCUSDT", "publicTrade.ETHUSDT", "tickers.BTCUSDT", "tickers.ETHUSDT"},
                                   [](const std::vector<PriceRecord>& prices) {
                                     bool mark = false, trade = false;
                                     for (const PriceRecord& p : prices) {
                                       mark = mark || (p.mark_price > 0 && p.underlying_price > 0);
                                       trade = trade || (p.price > 0 && std::isnan(p.mark_price));
                                     }
                                     return mark && trade;
                                   });
  INFO("prices " << run.prices.size() << ", fills " << run.fills.size() << ", market-data messages "
                 << run.market_data_messages);
  CHECK(run.got);
  CHECK(run.sessions == kAccounts + 1);
  CHECK(run.market_data_connections == 1);
  CHECK(run.prices_counted == run.prices.size());
  CHECK(run.market_data_kind >= 2);
  CHECK(run.errors == 0);
  for (const PriceRecord& p : run.prices) {
    CHECK(p.venue == Venue::kBybit);
    CHECK(p.venue_ns > 0);
  }
  CHECK(prints_matching_fills(run) > 0);
  check_open_interest(run);
}

TEST_CASE("binance market data: aggregate trades and mark prices arrive on the raw market streams",
          "[integration][venue]") {
  // The USD-M user-data streams need a listenKey each; the market streams are on the /ws base,
  // subscribed with one SUBSCRIBE and no key.
  const auto run = run_market_data(
      Venue::kBinance, {"btcusdt@aggTrade", "ethusdt@aggTrade", "btcusdt@markPrice@1s", "ethusdt@markPrice@1s"},
      [](const std::vector<PriceRecord>& prices) {
        bool mark = false, trade = false;
        for (const PriceRecord& p : prices) {
          mark = mark || (p.mark_price > 0 && p.underlying_price > 0);
          trade = trade || p.price > 0;
        }
        return mark && trade;
      });
  INFO("prices " << run.prices.size() << ", fills " << run.fills.size() << ", market-data messages "
                 << run.market_data_messages);
  CHECK(run.got);
  CHECK(run.sessions == kAccounts + 1);
  CHECK(run.market_data_connections == 1);
  CHECK(run.prices_counted == run.prices.size());
  CHECK(run.market_data_kind >= 2);
  CHECK(run.errors == 0);
  for (const PriceRecord& p : run.prices) {
    CHECK(p.venue == Venue::kBinance);
    CHECK(p.venue_ns > 0);
  }
  CHECK(prints_matching_fills(run) > 0);
}

TEST_CASE("hyperliquid market data: public trades and asset contexts reach the price tape", "[integration][venue]") {
  // market_data "trades:COIN" and "activeAssetCtx:COIN" beside userFills on the same connection.
  // The simulator pushes every account's fills as public trades (users: the account and a market
  // address) and each coin's context at its last fill. The coins are not in `coins`, so their
  // trades are prints only: no fill of the market address, nor a second fill of an account.
  const auto run =
      run_market_data(Venue::kHyperliquid, {"trades:BTC", "trades:ETH", "activeAssetCtx:BTC", "activeAssetCtx:ETH"},
                      [](const std::vector<PriceRecord>& prices) {
                        bool mark = false, trade = false;
                        for (const PriceRecord& p : prices) {
                          mark = mark || (p.mark_price > 0 && p.underlying_price > 0);
                          trade = trade || p.price > 0;
                        }
                        return mark && trade;
                      });
  INFO("prices " << run.prices.size() << ", fills " << run.fills.size() << ", market-data messages "
                 << run.market_data_messages);
  CHECK(run.got);
  CHECK(run.market_data_connections == 1);  // one of the kAccounts sessions subscribes public channels
  CHECK(run.prices_counted == run.prices.size());
  CHECK(run.market_data_kind >= 2);
  CHECK(run.errors == 0);
  for (const std::string& name : run.fill_accounts) CHECK(run.configured.count(name) == 1);  // no market address
  std::size_t trades = 0, marks = 0;
  for (const PriceRecord& p : run.prices) {
    CHECK(p.venue == Venue::kHyperliquid);
    if (p.price > 0) {
      ++trades;
      CHECK(p.venue_ns > 0);
    } else {
      ++marks;
      CHECK(p.mark_price > 0);
      CHECK(p.venue_ns == 0);  // activeAssetCtx carries no time
    }
  }
  CHECK(trades > 0);
  CHECK(marks > 0);
  CHECK(prints_matching_fills(run) > 0);
  check_open_interest(run);
}

TEST_CASE("deribit refuses a wrong secret", "[integration][venue]") { run_wrong_secret(Venue::kDeribit); }
TEST_CASE("okx refuses a wrong secret", "[integration][venue]") { run_wrong_secret(Venue::kOkx); }
TEST_CASE("bybit refuses a wrong secret", "[integration][venue]") { run_wrong_secret(Venue::kBybit); }
TEST_CASE("binance refuses a wrong API key", "[integration][venue]") { run_wrong_secret(Venue::kBinance); }

TEST_CASE("okx server closes a client that misses its heartbeats, and the client comes back", "[integration][venue]") {
  REQUIRE(test_certificate().ok);
  auto options = server_options(Venue::kOkx);
  options.heartbeat_timeout_ms = 300;
  options.messages_per_second = 20;
  fillsim::VenueServer server(options);
  REQUIRE(server.start().ok());
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CollectingSink sink;
  AdapterContext ctx;
  ctx.accounts = &accounts;
  ctx.instruments = &instruments;
  auto config = client_config(Venue::kOkx, server, options, false);
  config.heartbeat_interval_ns = 60'000'000'000;  // far slower than the server wants
  VenueSource source(config, ctx, sink);
  REQUIRE(source.start().ok());
  CHECK(wait_until([&] {
    return server.stats().heartbeat_closes.load() >= 1 && SourceStats::get(source.stats().connects) > kAccounts;
  }));
  source.stop();
  server.stop();
}

// --- Deribit heartbeats ------------------------------------------------------------------------
// The venue's set_heartbeat minimum is 10 s; the server runs its heartbeat clock 1000/30 times
// faster (10 s = 300 ms), so several intervals fit in a short test.

TEST_CASE("deribit server closes a connection that does not answer test_request", "[integration][venue][heartbeat]") {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  auto options = server_options(Venue::kDeribit);
  options.tls_cert_file.clear();  // plain ws: the silent client below is a bare websocket
  options.tls_key_file.clear();
  options.deribit_heartbeat_second_ms = 30;
  fillsim::VenueServer server(options);
  REQUIRE(server.start().ok());

  // A client that asks for heartbeats and then never answers the test requests.
  asio::io_context ioc;
  beast::websocket::stream<beast::tcp_stream> ws(ioc);
  beast::error_code ec;
  ws.next_layer().connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()), ec);
  REQUIRE_FALSE(ec);
  ws.handshake("127.0.0.1", "/ws/api/v2", ec);
  REQUIRE_FALSE(ec);
  ws.write(asio::buffer(control::deribit_set_heartbeat_request(1, 10)), ec);
  REQUIRE_FALSE(ec);
  int test_requests = 0;
  bool set_heartbeat_ok = false;
  bool closed = false;
  beast::flat_buffer buffer;
  std::function<void()> read_next = [&] {
    ws.async_read(buffer, [&](beast::error_code read_ec, std::size_t) {
      if (read_ec) {
        closed = true;  // the server hung up
        return;
      }
      const std::string text = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      if (text.find("test_request") != std::string::npos) ++test_requests;
      if (text.find(R"("result":"ok")") != std::string::npos) set_heartbeat_ok = true;
      read_next();
    });
  };
  read_next();
  ioc.run_for(std::chrono::seconds(20));  // liveness bound only: returns when the server closes
  server.stop();
  CHECK(set_heartbeat_ok);
  CHECK(test_requests >= 1);
  CHECK(closed);
  CHECK(server.stats().heartbeat_closes.load() == 1);
  CHECK(server.stats().pings.load() == 0);  // no public/test ever arrived
}

TEST_CASE("deribit client answers test requests and stays connected across heartbeat intervals",
          "[integration][venue][heartbeat]") {
  REQUIRE(test_certificate().ok);
  auto options = server_options(Venue::kDeribit);
  // The client's 10 s interval lasts 2.5 s: a stall of the test process (a loaded machine, a
  // sanitizer) shorter than that costs no connection.
  options.deribit_heartbeat_second_ms = 250;
  fillsim::VenueServer server(options);
  REQUIRE(server.start().ok());
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CollectingSink sink;
  AdapterContext ctx;
  ctx.accounts = &accounts;
  ctx.instruments = &instruments;
  VenueSource source(client_config(Venue::kDeribit, server, options, false), ctx, sink);
  REQUIRE(source.start().ok());
  // Five test requests per connection: more than four intervals, each of which would have cost
  // an unanswering client its connection.
  const bool enough = wait_until([&] { return server.stats().test_requests.load() >= 5 * kAccounts; });
  const std::uint64_t answered = SourceStats::get(source.stats().test_requests_answered);
  const std::uint64_t disconnects = SourceStats::get(source.stats().disconnects);
  const std::uint64_t connects = SourceStats::get(source.stats().connects);
  source.stop();
  server.stop();
  CHECK(enough);
  CHECK(server.stats().heartbeat_closes.load() == 0);
  CHECK(disconnects == 0);
  CHECK(connects == kAccounts);
  CHECK(answered >= 4 * kAccounts);
  CHECK(server.stats().pings.load() >= 4 * kAccounts);  // public/test answers the server received
}

// --- Binance listenKey -------------------------------------------------------------------------
// The client checks its keep-alive at each 1 s control tick, so the periods are seconds here.

TEST_CASE("binance client keeps its listenKey alive over REST and its stream stays up",
          "[integration][venue][listenkey]") {
  REQUIRE(test_certificate().ok);
  auto options = server_options(Venue::kBinance);
  // Expires unless extended. 5 s: a keep-alive is due at every 1 s tick, so the key survives a
  // 4 s stall of a loaded sanitizer run (2.5 s did not: CI under ASan saw two keys expire).
  options.listen_key_validity_ms = 5000;
  options.messages_per_second = 20;
  fillsim::VenueServer server(options);
  REQUIRE(server.start().ok());
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CollectingSink sink;
  AdapterContext ctx;
  ctx.accounts = &accounts;
  ctx.instruments = &instruments;
  auto config = client_config(Venue::kBinance, server, options, false);
  config.listen_key_keepalive_ns = 300'000'000;  // due at every control tick
  VenueSource source(config, ctx, sink);
  REQUIRE(source.start().ok());
  // Seven keep-alives per account: the streams outlive the 5 s validity only because of them.
  // The client counts a keep-alive when the answer arrives, just after the server counted it.
  const bool enough = wait_until([&] {
    return server.stats().keepalives.load() >= 7 * kAccounts &&
           SourceStats::get(source.stats().pings_sent) >= 7 * kAccounts;
  });
  const std::uint64_t keepalives_ok = SourceStats::get(source.stats().pings_sent);
  const std::uint64_t disconnects = SourceStats::get(source.stats().disconnects);
  source.stop();
  server.stop();
  CHECK(enough);
  CHECK(keepalives_ok >= 7 * kAccounts);  // the client counts each accepted PUT
  CHECK(server.stats().keepalive_rejected.load() == 0);
  CHECK(server.stats().listen_key_expired.load() == 0);
  CHECK(server.stats().listen_keys.load() == kAccounts);  // never had to make a new key
  CHECK(disconnects == 0);
}

TEST_CASE("binance: an expired listenKey closes the stream, and the client makes a new key and loses no fill",
          "[integration][venue][listenkey]") {
  REQUIRE(test_certificate().ok);
  auto options = server_options(Venue::kBinance);
  options.listen_key_validity_ms = 700;
  options.messages_per_second = 30;  // 60 fills per account over ~2 s: several expiries mid-stream
  fillsim::VenueServer server(options);
  REQUIRE(server.start().ok());
  std::set<std::uint64_t> expected;
  for (std::size_t a = 0; a < kAccounts; ++a)
    expected.insert(server.expected_trade_ids(a).begin(), server.expected_trade_ids(a).end());
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  CollectingSink sink;
  AdapterContext ctx;
  ctx.accounts = &accounts;
  ctx.instruments = &instruments;
  auto config = client_config(Venue::kBinance, server, options, false);
  config.listen_key_keepalive_ns = 3600'000'000'000;  // never in time
  VenueSource source(config, ctx, sink);
  REQUIRE(source.start().ok());
  auto received_all = [&] {
    std::set<std::uint64_t> got;
    for (const Fill& f : sink.fills()) got.insert(f.trade_id);
    return got == expected;
  };
  const bool complete =
      wait_until([&] { return received_all() && SourceStats::get(source.stats().connects) >= kAccounts + 2; });
  source.stop();
  server.stop();
  const auto fills = sink.fills();
  std::set<std::uint64_t> got;
  for (const Fill& f : fills) got.insert(f.trade_id);
  const SourceStats& s = source.stats();
  CHECK(complete);
  CHECK(server.stats().listen_key_expired.load() >= 1);
  CHECK(SourceStats::get(s.venue_errors) >= 1);               // the client read listenKeyExpired
  CHECK(server.stats().listen_keys.load() >= kAccounts + 1);  // and asked for a new key
  CHECK(SourceStats::get(s.connects) >= kAccounts + 2);
  CHECK(got == expected);             // nothing lost...
  CHECK(fills.size() == got.size());  // ...nothing twice
}
