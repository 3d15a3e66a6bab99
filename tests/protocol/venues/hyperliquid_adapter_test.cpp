#include "protocol/venues/hyperliquid/adapter.h"

#include <algorithm>

#include "simdjson.h"
#include "tests/protocol/venues/adapter_test_support.h"
#include "tests/protocol/venues/expected_fixture.h"

namespace segmentd::testing {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr const char* kUser = "0x15f43d1f2dee81424afd891943262aa90f22cc2a";

// ---- The repository's own fixtures (tests/fixtures/exchanges/hyperliquid), checked against their
// hand-computed .expected.json.

TEST_CASE("fixture hyperliquid/user_fills_snapshot: taker and maker, builderFee inside fee, a rebate",
          "[hyperliquid]") {
  check_own_fixture(Venue::kHyperliquid, "hyperliquid/user_fills_snapshot");
}

TEST_CASE("fixture hyperliquid/user_fills_snapshot: re-sent after a reconnect it adds nothing", "[hyperliquid]") {
  auto h = check_own_fixture(Venue::kHyperliquid, "hyperliquid/user_fills_snapshot");
  const auto out = h->ok(own_fixture("hyperliquid/user_fills_snapshot.json"));
  CHECK(out.kind == MessageKind::kFills);
  CHECK(out.fills == 0);
  CHECK(out.duplicates == 2);
  CHECK(h->fills.size() == 2);
}

TEST_CASE("fixture hyperliquid/user_fills_update: a streaming update without isSnapshot", "[hyperliquid]") {
  check_own_fixture(Venue::kHyperliquid, "hyperliquid/user_fills_update");
}

TEST_CASE("fixture hyperliquid/user_events_fill_liquidation: channel user belongs to the configured address",
          "[hyperliquid]") {
  check_own_fixture(Venue::kHyperliquid, "hyperliquid/user_events_fill_liquidation");
}

TEST_CASE("fixture hyperliquid/user_events_funding_nofill: a funding event is no fill", "[hyperliquid]") {
  check_own_fixture(Venue::kHyperliquid, "hyperliquid/user_events_funding_nofill");
}

TEST_CASE("fixture hyperliquid/trades_with_users: each trade gives the buyer's and the seller's fill",
          "[hyperliquid]") {
  check_own_fixture(Venue::kHyperliquid, "hyperliquid/trades_with_users");
}

TEST_CASE("fixture hyperliquid/trades_users_crosscheck: users[0] is the buyer and side is the aggressor",
          "[hyperliquid]") {
  // Each row: a trade of trades_with_users.json (tid), one of its users (users_index), and that
  // user's own side and "crossed" (taker) as the rule gives them.
  AdapterHarness h(Venue::kHyperliquid, "");
  const std::string trades_text = own_fixture("hyperliquid/trades_with_users.json");
  h.ok(trades_text);
  REQUIRE(h.fills.size() == 6);
  simdjson::dom::parser trades_parser;
  simdjson::dom::element trades = trades_parser.parse(trades_text);
  simdjson::dom::parser parser;
  const std::string text = own_fixture("hyperliquid/trades_users_crosscheck.json");
  simdjson::dom::element rows = parser.parse(text);
  int checked = 0;
  for (simdjson::dom::element row : rows.get_array()) {
    const std::uint64_t tid = row["tid"].get_uint64();
    const std::int64_t index = row["users_index"].get_int64();
    const std::string_view trade_side = row["trade_side"].get_string();
    const bool crossed = row["fill_crossed"].get_bool();
    const std::string_view fill_side = row["fill_side"].get_string();
    INFO("tid " << tid << " users[" << index << "]");
    std::string user;
    for (simdjson::dom::element t : trades["data"].get_array()) {
      if (std::uint64_t(t["tid"].get_uint64()) != tid) continue;
      CHECK(std::string_view(t["side"].get_string()) == trade_side);
      user = std::string(std::string_view(t["users"].at(static_cast<std::size_t>(index)).get_string()));
    }
    REQUIRE_FALSE(user.empty());
    const std::uint64_t key = trade_hash("hyperliquid:" + std::to_string(tid) + ":" + user);
    const auto f = std::find_if(h.fills.begin(), h.fills.end(), [&](const Fill& x) { return x.trade_id == key; });
    REQUIRE(f != h.fills.end());
    CHECK(h.account_name(f->account) == user);
    CHECK(f->side == (fill_side == "B" ? Side::kBuy : Side::kSell));
    CHECK(f->liquidity == (crossed ? Liquidity::kTaker : Liquidity::kMaker));
    ++checked;
  }
  CHECK(checked == 4);
}

TEST_CASE("fixture hyperliquid/trades_no_users: a trade without users cannot be attributed", "[hyperliquid]") {
  check_own_fixture(Venue::kHyperliquid, "hyperliquid/trades_no_users");
}

TEST_CASE("fixture hyperliquid/active_asset_ctx: a mark and oracle price and no fill", "[hyperliquid]") {
  check_own_fixture(Venue::kHyperliquid, "hyperliquid/active_asset_ctx");
}

TEST_CASE("fixture hyperliquid/clearinghouse_state: every perpetual position, then the end of the snapshot",
          "[hyperliquid][positions]") {
  auto h = check_own_fixture(Venue::kHyperliquid, "hyperliquid/clearinghouse_state");
  const std::vector<Fill>& r = h->adapter->positions();
  REQUIRE(r.size() == 3);
  const std::int64_t t = 1764936000123 * kMs;
  CHECK(r[0].record == RecordKind::kPosition);
  CHECK(h->account_name(r[0].account) == kUser);
  CHECK(r[0].kind == InstrumentKind::kPerpetual);
  CHECK(r[0].qty == 0.5);
  CHECK(r[0].price == 101250.0);
  CHECK(r[0].mark_price == Approx(50812.5 / 0.5));  // positionValue / |szi|
  CHECK(r[0].underlying_price == Approx(101625.0));
  CHECK(r[0].notional_usd == Approx(50812.5));
  CHECK(r[0].venue_ns == t);
  CHECK(r[1].qty == -3.25);
  CHECK(r[1].mark_price == Approx(10327.75 / 3.25));
  CHECK(r[1].notional_usd == Approx(10327.75));
  CHECK(r[1].instrument != r[0].instrument);
  CHECK(r[2].record == RecordKind::kPositionsEnd);
  CHECK(r[2].account == r[0].account);
  CHECK(r[2].venue == Venue::kHyperliquid);
  CHECK(r[2].venue_ns == t);
  CHECK(r[2].venue_margin_usd() == 3057.01);  // marginSummary.totalMarginUsed
  CHECK(std::isnan(r[0].venue_margin_usd()));
}

TEST_CASE("fixture hyperliquid/clearinghouse_state: altered, it is rejected by reason and states nothing",
          "[hyperliquid][positions]") {
  AdapterHarness h(Venue::kHyperliquid, "");
  const std::string good = own_fixture("hyperliquid/clearinghouse_state.json");
  auto with = [&](const std::string& from, const std::string& to) { return replaced(good, from, to); };
  auto rejects = [&](const std::string& message, ParseErrorReason reason) {
    h.rejects(message, reason);
    CHECK(h.adapter->positions().empty());
  };
  rejects(good.substr(0, good.size() / 2), ParseErrorReason::kMalformedJson);
  rejects(with(R"("szi": "0.5")", R"("szi": 0.5)"), ParseErrorReason::kWrongType);
  rejects(with(R"("szi": "0.5", )", ""), ParseErrorReason::kMissingField);
  rejects(with(R"("coin": "BTC", )", ""), ParseErrorReason::kMissingField);
  rejects(with(R"("coin": "ETH")", R"("coin": "")"), ParseErrorReason::kMissingField);
  rejects(with(R"("szi": "-3.25")", R"("szi": "abc")"), ParseErrorReason::kBadValue);
  rejects(with(R"("positionValue": "50812.5")", R"("positionValue": "-1")"), ParseErrorReason::kBadValue);
  rejects(with(R"("time": 1764936000123)", R"("time": -5)"), ParseErrorReason::kBadValue);
  rejects(with(R"("totalMarginUsed": "3057.01")", R"("totalMarginUsed": "-3")"), ParseErrorReason::kBadValue);
  // A broken value where entryPx is read (the fuzzer's find: it threw from simdjson's is_null()).
  rejects(with(R"("entryPx": "101250.0")", R"("entryPx": nioc"101250.0")"), ParseErrorReason::kWrongType);
  rejects(R"({"channel":"clearinghouseState","data":{"user":"0xabc"}})", ParseErrorReason::kMissingField);
  // A flat account: no position, and the end of the snapshot closes whatever the book held.
  const DecodeOutcome flat = h.ok(
      R"({"channel":"clearinghouseState","data":{"dex":"","user":"0xabc","clearinghouseState":{"assetPositions":[],"time":1764936000123}}})");
  CHECK(flat.kind == MessageKind::kPositions);
  REQUIRE(h.adapter->positions().size() == 1);
  CHECK(h.adapter->positions()[0].record == RecordKind::kPositionsEnd);
  CHECK(std::isnan(h.adapter->positions()[0].venue_margin_usd()));  // no marginSummary: not stated
}

TEST_CASE("fixture hyperliquid/subscription_response: subscribe acknowledged", "[hyperliquid]") {
  check_own_fixture(Venue::kHyperliquid, "hyperliquid/subscription_response");
}

TEST_CASE("fixture hyperliquid/pong: the answer to ping", "[hyperliquid]") {
  check_own_fixture(Venue::kHyperliquid, "hyperliquid/pong");
}

TEST_CASE("fixture hyperliquid/user_fills_update: altered, it is rejected by reason and appends no fill",
          "[hyperliquid]") {
  AdapterHarness h(Venue::kHyperliquid, "");
  const std::string good = own_fixture("hyperliquid/user_fills_update.json");
  for (std::size_t cut : {good.size() / 2, good.size() - 3})
    h.rejects(good.substr(0, cut), ParseErrorReason::kMalformedJson);
  auto with = [&](const std::string& from, const std::string& to) { return replaced(good, from, to); };
  h.rejects(with(R"("sz": "40")", R"("sz": 40)"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("side": "A")", R"("side": "S")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("tid": 640017733951202)", R"("tid": "640017733951202")"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("time": 1750436902117,)", ""), ParseErrorReason::kMissingField);
  h.rejects(with(R"("user": "0x7a3f0c5e2b9d41e8a6c0f3b2d5e9a1c4b8f06d27",)", ""), ParseErrorReason::kMissingField);
  h.rejects(
      R"({"channel":"trades","data":[{"coin":"BTC","side":"A","px":"1","sz":"1","time":1,"tid":1,"users":["0xa"]}]})",
      ParseErrorReason::kBadValue);
  h.rejects(R"({"data":[]})", ParseErrorReason::kUnknownMessage);
  CHECK(h.fills.empty());
  // No configured user: a "user" channel message cannot be attributed.
  h.rejects(own_fixture("hyperliquid/user_events_fill_liquidation.json"), ParseErrorReason::kBadValue);
}

// ---- Third-party samples (../shared/fixtures/exchanges/hyperliquid) and hand-written messages.

TEST_CASE("hyperliquid: userFills snapshot", "[hyperliquid]") {
  const auto msg = shared_fixture_or_skip("hyperliquid/userFills_snapshot__ccxt_comment.json");
  if (!msg) return;
  AdapterHarness h(Venue::kHyperliquid, "");
  const auto out = h.ok(*msg);
  CHECK(out.kind == MessageKind::kFills);
  CHECK(out.snapshot);
  REQUIRE(h.fills.size() == 1);
  ExpectedFill e;
  e.account = kUser;  // the user of the message, not a configured name
  e.symbol = "BTC";
  e.kind = InstrumentKind::kPerpetual;
  e.side = Side::kSell;             // "A" = ask side = sell
  e.liquidity = Liquidity::kTaker;  // crossed: true
  e.qty = 0.11693;
  e.price = 72528.0;
  e.notional_usd = 0.11693 * 72528.0;  // = 8480.69904 USD
  e.fee_usd = 2.968244;                // USDC (no feeToken in this older message)
  e.venue_ns = 1710208712815 * kMs;
  e.trade_id = trade_hash(std::string("hyperliquid:567547935839686:") + kUser);
  check_fill(h, h.fills[0], e);
}

TEST_CASE("hyperliquid: the snapshot re-sent after a reconnect adds nothing", "[hyperliquid]") {
  const auto sample = shared_fixture_or_skip("hyperliquid/userFills_snapshot__ccxt_comment.json");
  if (!sample) return;
  AdapterHarness h(Venue::kHyperliquid, "");
  const std::string& msg = *sample;
  h.ok(msg);
  const auto out = h.ok(msg);
  CHECK(out.fills == 0);
  CHECK(out.duplicates == 1);
  CHECK(h.fills.size() == 1);
}

// A spot buy of HYPE ("@107", HYPE/USDC in Hyperliquid's spot universe): the venue charges the fee
// in the bought token (feeToken HYPE), so the position grows by sz − fee. The pair maps to its base
// coin (core/instrument_registry.h, default_spot_pairs), which makes it one underlying with the HYPE
// perpetual and lets the fee convert at the fill's price: 0.34540448 HYPE × 7.9769 USDC.
TEST_CASE("hyperliquid: a spot pair maps to its base coin, and a fee in the base token converts to USD",
          "[hyperliquid]") {
  AdapterHarness h(Venue::kHyperliquid, "");
  h.ok(R"({"channel":"userFills","data":{"user":"0x7a3f0c5e2b9d41e8a6c0f3b2d5e9a1c4b8f06d27","fills":[)"
       R"({"coin":"@107","px":"7.9769","sz":"986.87","side":"B","time":1733160000000,"startPosition":"0",)"
       R"("dir":"Buy","closedPnl":"0","hash":"0x01","oid":1,"crossed":true,"fee":"0.34540448","tid":11,)"
       R"("feeToken":"HYPE"},)"
       R"({"coin":"HYPE","px":"8.01","sz":"10","side":"A","time":1733160000001,"startPosition":"0",)"
       R"("dir":"Open Short","closedPnl":"0","hash":"0x02","oid":2,"crossed":false,"fee":"0.01","tid":12,)"
       R"("feeToken":"USDC"}]}})");
  REQUIRE(h.fills.size() == 2);
  const Fill& spot = h.fills[0];
  CHECK(spot.kind == InstrumentKind::kSpot);
  CHECK(spot.fee_usd == Approx(0.34540448 * 7.9769).epsilon(1e-12));
  CHECK(spot.notional_usd == Approx(986.87 * 7.9769).epsilon(1e-12));
  CHECK(h.fills[1].kind == InstrumentKind::kPerpetual);
  CHECK(spot.underlying == h.fills[1].underlying);
  CHECK(spot.instrument != h.fills[1].instrument);
  CHECK(h.instruments.underlying_name(spot.underlying) == "HYPE");
}

TEST_CASE("hyperliquid: user events (channel user) belong to the configured user", "[hyperliquid]") {
  const std::string user = "0xABCDEF0000000000000000000000000000000001";  // config may use checksum case
  const auto msg = shared_fixture_or_skip("hyperliquid/userEvents_fill_liquidation__nautilus.json");
  if (!msg) return;
  AdapterHarness h(Venue::kHyperliquid, user);
  h.ok(*msg);
  REQUIRE(h.fills.size() == 1);
  ExpectedFill e;
  e.account = "0xabcdef0000000000000000000000000000000001";  // addresses are lower-case on the wire
  e.symbol = "BTC";
  e.kind = InstrumentKind::kPerpetual;
  e.side = Side::kSell;
  e.liquidity = Liquidity::kMaker;  // crossed: false
  e.qty = 0.001;
  e.price = 66653.0;
  e.notional_usd = 0.001 * 66653.0;  // = 66.653 USD
  e.fee_usd = 0.009997;              // feeToken USDC
  e.venue_ns = 1781528065899 * kMs;
  e.trade_id = trade_hash("hyperliquid:745210434703679:0xabcdef0000000000000000000000000000000001");
  check_fill(h, h.fills[0], e);
}

TEST_CASE("hyperliquid: public trades with users give the buyer's and the seller's fill", "[hyperliquid]") {
  const auto data = shared_fixture_or_skip("hyperliquid/trades_data_real_capture_first6__praanaavvv.json");
  if (!data) return;
  AdapterHarness h(Venue::kHyperliquid, "");
  // The capture keeps only the data array; on the wire it sits in {"channel":"trades","data":...}.
  const auto out = h.ok(R"({"channel":"trades","data":)" + *data + "}");
  CHECK(out.kind == MessageKind::kFills);
  REQUIRE(h.fills.size() == 12);
  // First trade: side "A" (the seller crossed), users [buyer 0xbb16..., seller 0x4831...].
  ExpectedFill buyer;
  buyer.account = "0xbb160cb61e694570f9d570f9fcde7c61dd2143ad";
  buyer.symbol = "BTC";
  buyer.kind = InstrumentKind::kPerpetual;
  buyer.side = Side::kBuy;
  buyer.liquidity = Liquidity::kMaker;
  buyer.qty = 0.02279;
  buyer.price = 84133.0;
  buyer.notional_usd = 0.02279 * 84133.0;  // = 1917.39107 USD
  buyer.venue_ns = 1790231124037 * kMs;
  buyer.trade_id = trade_hash("hyperliquid:140238147810435:0xbb160cb61e694570f9d570f9fcde7c61dd2143ad");
  check_fill(h, h.fills[0], buyer);
  ExpectedFill seller = buyer;
  seller.account = "0x48314750d70312eddf7e6b6b7c2852773727839a";
  seller.side = Side::kSell;
  seller.liquidity = Liquidity::kTaker;
  seller.trade_id = trade_hash("hyperliquid:140238147810435:0x48314750d70312eddf7e6b6b7c2852773727839a");
  check_fill(h, h.fills[1], seller);
  // Second trade: side "B", the buyer 0xfab8... crossed.
  CHECK(h.fills[2].liquidity == Liquidity::kTaker);
  CHECK(h.fills[2].side == Side::kBuy);
  CHECK(h.account_name(h.fills[2].account) == "0xfab8ca72b59921324bad0f007797294d4c185c5c");
  CHECK(h.fills[3].liquidity == Liquidity::kMaker);
  double qty = 0;
  for (const Fill& f : h.fills) qty += f.qty;
  // Each trade counts on both sides: 2 × (0.02279 + 0.002 + 0.00277 + 0.00024 + 0.00013 + 0.00027).
  check_close(qty, 2 * (0.02279 + 0.002 + 0.00277 + 0.00024 + 0.00013 + 0.00027), "total qty");
}

TEST_CASE("hyperliquid: users[0] is the buyer and side is the aggressor (cross-check capture)", "[hyperliquid]") {
  // The cross-check file pairs a trade's users with each user's own userFills entry.
  const auto sample = shared_fixture_or_skip("hyperliquid/users_order_crosscheck__praanaavvv.json");
  if (!sample) return;
  simdjson::dom::parser parser;
  const std::string& text = *sample;
  simdjson::dom::element rows = parser.parse(text);
  int checked = 0;
  for (simdjson::dom::element row : rows.get_array()) {
    const std::uint64_t tid = row["tid"].get_uint64();
    const std::string_view trade_side = row["trade_side"].get_string();
    const std::int64_t index = row["users_index"].get_int64();
    const bool crossed = row["fill_crossed"].get_bool();
    const std::string_view fill_side = row["fill_side"].get_string();
    AdapterHarness h(Venue::kHyperliquid, "");
    h.ok(std::string(R"({"channel":"trades","data":[{"coin":"BTC","side":")") + std::string(trade_side) +
         R"(","px":"1","sz":"1","time":1,"tid":)" + std::to_string(tid) + R"(,"users":["0xb","0xs"]}]})");
    REQUIRE(h.fills.size() == 2);
    const Fill& f = h.fills[static_cast<std::size_t>(index)];
    CHECK(f.side == (fill_side == "B" ? Side::kBuy : Side::kSell));
    CHECK(f.liquidity == (crossed ? Liquidity::kTaker : Liquidity::kMaker));
    ++checked;
  }
  CHECK(checked == 4);
}

TEST_CASE("hyperliquid: control messages and trades without users", "[hyperliquid]") {
  AdapterHarness h(Venue::kHyperliquid, "");
  auto out = h.ok(own_fixture("hyperliquid/subscription_response.json"));
  CHECK(out.kind == MessageKind::kSubscriptionAck);
  out = h.ok(R"({"channel":"pong"})");
  CHECK(out.kind == MessageKind::kPong);
  out = h.ok(R"({"channel":"error","data":"Invalid subscription"})");
  CHECK(out.kind == MessageKind::kVenueError);
  out = h.ok(own_fixture("hyperliquid/trades_no_users.json"));
  CHECK(out.kind == MessageKind::kMarketData);  // no users: a print we cannot attribute
  CHECK(out.skipped == 1);
  REQUIRE(h.adapter->market_data().size() == 1);
  CHECK(h.adapter->market_data()[0].price == 3516.0);
  out = h.ok(R"({"channel":"l2Book","data":{"coin":"BTC","levels":[[],[]]}})");
  CHECK(out.kind == MessageKind::kIgnored);
  CHECK(h.fills.empty());
}

TEST_CASE("hyperliquid: control messages and trades without users of the third-party samples", "[hyperliquid]") {
  const auto ack = shared_fixture_or_skip("hyperliquid/subscription_response__gitbook.json");
  if (!ack) return;
  AdapterHarness h(Venue::kHyperliquid, "");
  auto out = h.ok(*ack);
  CHECK(out.kind == MessageKind::kSubscriptionAck);
  out = h.ok(shared_fixture("hyperliquid/trades_channel__ccxt_comment_no_users.json"));
  CHECK(out.kind == MessageKind::kMarketData);
  CHECK(out.skipped == 1);
  CHECK(h.fills.empty());
}

TEST_CASE("hyperliquid: bad messages are rejected by reason and append no fill", "[hyperliquid]") {
  const auto sample = shared_fixture_or_skip("hyperliquid/userFills_snapshot__ccxt_comment.json");
  if (!sample) return;
  AdapterHarness h(Venue::kHyperliquid, "");
  const std::string& good = *sample;
  for (std::size_t cut : {good.size() / 2, good.size() - 3})
    h.rejects(good.substr(0, cut), ParseErrorReason::kMalformedJson);
  auto with = [&](const std::string& from, const std::string& to) { return replaced(good, from, to); };
  h.rejects(with(R"("sz": "0.11693")", R"("sz": 0.11693)"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("side": "A")", R"("side": "S")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("tid": 567547935839686)", R"("tid": "567547935839686")"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("time": 1710208712815,)", ""), ParseErrorReason::kMissingField);
  h.rejects(with(R"("user": "0x15f43d1f2dee81424afd891943262aa90f22cc2a",)", ""), ParseErrorReason::kMissingField);
  h.rejects(
      R"({"channel":"trades","data":[{"coin":"BTC","side":"A","px":"1","sz":"1","time":1,"tid":1,"users":["0xa"]}]})",
      ParseErrorReason::kBadValue);
  h.rejects(R"({"data":[]})", ParseErrorReason::kUnknownMessage);
  CHECK(h.fills.empty());
  // No configured user: a "user" channel message cannot be attributed.
  h.rejects(shared_fixture("hyperliquid/userEvents_fill_liquidation__nautilus.json"), ParseErrorReason::kBadValue);
}

}  // namespace
}  // namespace segmentd::testing

// ---- Public market data (issue 20, item 4): trades as prints, activeAssetCtx as marks and the
// oracle (index) price, for the price tape.

namespace segmentd::testing {
namespace {

constexpr const char* kTwoTrades =
    R"({"channel":"trades","data":[)"
    R"({"coin":"BTC","side":"A","px":"84133.0","sz":"0.02279","time":1790231124037,"hash":"0x00","tid":140238147810435,)"
    R"("users":["0xbb160cb61e694570f9d570f9fcde7c61dd2143ad","0x48314750d70312eddf7e6b6b7c2852773727839a"]},)"
    R"({"coin":"BTC","side":"B","px":"84134.0","sz":"0.002","time":1790231124365,"hash":"0xca","tid":206823745374058,)"
    R"("users":["0xfab8ca72b59921324bad0f007797294d4c185c5c","0x7717a7a245d9f950e586822b8c9b46863ed7bd7e"]}]})";

TEST_CASE("hyperliquid: every public trade is a print and trades with users are also both accounts' fills",
          "[hyperliquid][market_data]") {
  AdapterHarness h(Venue::kHyperliquid, "");
  const auto out = h.ok(kTwoTrades);
  CHECK(out.kind == MessageKind::kFills);
  CHECK(h.fills.size() == 4);
  const auto& md = h.adapter->market_data();
  REQUIRE(md.size() == 2);
  CHECK(md[0].price == 84133.0);
  CHECK(md[1].price == 84134.0);
  CHECK(md[0].venue_ns == 1790231124037 * kMs);
  CHECK(md[0].recv_ns == kRecvNs);
  CHECK(md[0].venue == Venue::kHyperliquid);
  CHECK(md[0].instrument == h.fills[0].instrument);
  CHECK(md[0].underlying == h.fills[0].underlying);
  CHECK(std::isnan(md[0].mark_price));
  CHECK(std::isnan(md[0].underlying_price));
}

TEST_CASE("hyperliquid: a price-only coin's public trades are prints and no account's fills",
          "[hyperliquid][market_data]") {
  AdapterHarness h(Venue::kHyperliquid, "", nullptr, {"BTC"});
  const auto out = h.ok(kTwoTrades);
  CHECK(out.kind == MessageKind::kMarketData);
  CHECK(out.skipped == 2);
  CHECK(h.fills.empty());
  CHECK(h.adapter->market_data().size() == 2);
  // Another coin's trades still attribute.
  const auto eth =
      h.ok(R"({"channel":"trades","data":[{"coin":"ETH","side":"B","px":"3516.0","sz":"0.3","time":1741953540077,)"
           R"("hash":"0x7f","tid":402281763910057,"users":["0xaa","0xbb"]}]})");
  CHECK(eth.kind == MessageKind::kFills);
  CHECK(h.fills.size() == 2);
}

TEST_CASE("hyperliquid: activeAssetCtx gives the mark and the oracle price at the receive time",
          "[hyperliquid][market_data]") {
  AdapterHarness h(Venue::kHyperliquid, "");
  // The shape of Hyperliquid's websocket docs (subscriptions, WsActiveAssetCtx), all ctx fields.
  const auto out = h.ok(
      R"({"channel":"activeAssetCtx","data":{"coin":"ETH","ctx":{"funding":"0.0000125","openInterest":"446072.075",)"
      R"("prevDayPx":"3180.2","dayNtlVlm":"543210987.65432","premium":"-0.00021","oraclePx":"3230.1",)"
      R"("markPx":"3227.4","midPx":"3228.25","impactPxs":["3228.2","3228.3"],"dayBaseVlm":"157234.21"}}})");
  CHECK(out.kind == MessageKind::kMarketData);
  CHECK(h.fills.empty());
  const auto& md = h.adapter->market_data();
  REQUIRE(md.size() == 1);
  CHECK(md[0].mark_price == 3227.4);
  CHECK(md[0].underlying_price == 3230.1);
  CHECK(std::isnan(md[0].price));
  CHECK(md[0].venue_ns == 0);  // the message carries no time
  CHECK(md[0].recv_ns == kRecvNs);
  CHECK(md[0].instrument == *h.instruments.resolve(Venue::kHyperliquid, "ETH"));
  CHECK(md[0].underlying == h.instruments.underlying_id("ETH"));
  CHECK(md[0].open_interest == 446072.075);  // in coins
  // Without an oracle price and an open interest: a mark only.
  h.ok(R"({"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"markPx":"84100.5"}}})");
  REQUIRE(h.adapter->market_data().size() == 1);
  CHECK(h.adapter->market_data()[0].mark_price == 84100.5);
  CHECK(std::isnan(h.adapter->market_data()[0].underlying_price));
  CHECK(std::isnan(h.adapter->market_data()[0].open_interest));
}

TEST_CASE("hyperliquid: bad market data is refused by name and leaves nothing", "[hyperliquid][market_data]") {
  AdapterHarness h(Venue::kHyperliquid, "");
  h.rejects(R"({"channel":"activeAssetCtx","data":{"coin":"ETH","ctx":{"oraclePx":"3230.1"}}})",
            ParseErrorReason::kMissingField);
  h.rejects(R"({"channel":"activeAssetCtx","data":{"ctx":{"markPx":"3227.4"}}})", ParseErrorReason::kMissingField);
  h.rejects(R"({"channel":"activeAssetCtx","data":{"coin":"ETH"}})", ParseErrorReason::kMissingField);
  h.rejects(R"({"channel":"activeAssetCtx","data":{"coin":"ETH","ctx":{"markPx":"-1"}}})", ParseErrorReason::kBadValue);
  h.rejects(R"({"channel":"activeAssetCtx","data":{"coin":"ETH","ctx":{"markPx":"3227.4","openInterest":"-5"}}})",
            ParseErrorReason::kBadValue);
  h.rejects(R"({"channel":"activeAssetCtx","data":{"coin":"ETH","ctx":{"markPx":"3227.4","oraclePx":"0"}}})",
            ParseErrorReason::kBadValue);
  h.rejects(R"({"channel":"activeAssetCtx","data":{"coin":"ETH","ctx":{"markPx":3227.4}}})",
            ParseErrorReason::kWrongType);
  h.rejects(R"({"channel":"activeAssetCtx","data":[]})", ParseErrorReason::kWrongType);
  h.rejects(R"({"channel":"activeAssetCtx"})", ParseErrorReason::kMissingField);
  // A good trade before a bad one: the message is refused whole.
  h.rejects(R"({"channel":"trades","data":[{"coin":"ETH","side":"B","px":"3516.0","sz":"0.3","time":1741953540077,)"
            R"("hash":"0x7f","tid":1},{"coin":"ETH","side":"B","px":"-3","sz":"0.3","time":1741953540077,)"
            R"("hash":"0x7f","tid":2}]})",
            ParseErrorReason::kBadValue);
  CHECK(h.adapter->market_data().empty());
}

}  // namespace
}  // namespace segmentd::testing
