#include "protocol/venues/okx/adapter.h"

#include <sstream>

#include "core/instrument.h"
#include "tests/protocol/venues/adapter_test_support.h"
#include "tests/protocol/venues/expected_fixture.h"

namespace segmentd::testing {
namespace {

constexpr std::int64_t kMs = 1'000'000;

ExpectedFill spot_maker_fill() {
  ExpectedFill e;
  e.account = "okx-1";
  e.symbol = "BTC-USDT";
  e.kind = InstrumentKind::kSpot;
  e.side = Side::kSell;
  e.liquidity = Liquidity::kMaker;  // execType "M"
  e.qty = 0.001;                    // spot fillSz is in BTC
  e.price = 31527.1;
  e.notional_usd = 0.001 * 31527.1;  // = 31.5271 USD (USDT counted 1:1)
  e.fee_usd = 0.02522168;            // fillFee -0.02522168 USDT: negative = charged
  e.venue_ns = 1654084353263 * kMs;  // fillTime
  e.trade_id = trade_hash("okx:BTC-USDT:242589207");
  return e;
}

ExpectedFill spot_taker_fill() {
  ExpectedFill e;
  e.account = "okx-1";
  e.symbol = "BTC-USDT";
  e.kind = InstrumentKind::kSpot;
  e.side = Side::kSell;
  e.liquidity = Liquidity::kTaker;  // execType "T"
  e.qty = 0.00038128;               // a quote_ccy market order still fills in BTC
  e.price = 26228.1;
  e.notional_usd = 0.00038128 * 26228.1;  // = 10.00025 USD
  e.fee_usd = 0.010000249968;
  e.venue_ns = 1694153250535 * kMs;
  e.trade_id = trade_hash("okx:BTC-USDT:435550732");
  return e;
}

// ---- The repository's own fixtures (tests/fixtures/exchanges/okx), checked against their
// hand-computed .expected.json.

TEST_CASE("fixture okx/positions_snapshot: contracts to coins, signed, timed by the push", "[okx][positions]") {
  auto h = check_own_fixture(Venue::kOkx, "okx/positions_snapshot");
  const std::vector<Fill>& r = h->adapter->positions();
  REQUIRE(r.size() == 3);
  CHECK(r[0].record == RecordKind::kPosition);
  CHECK(h->account_name(r[0].account) == "sub-okx");
  CHECK(r[0].kind == InstrumentKind::kPerpetual);
  CHECK(r[0].qty == Approx(0.05));  // 5 contracts × 0.01 BTC
  CHECK(r[0].price == 101100.5);
  CHECK(r[0].mark_price == 101400.0);
  CHECK(r[0].underlying_price == 101410.2);     // idxPx
  CHECK(r[0].venue_ns == 1764936000250 * kMs);  // pTime, not uTime
  CHECK(r[1].kind == InstrumentKind::kFuture);
  CHECK(r[1].qty == Approx(-32 * 10.0 / 3200.0));  // inverse: USD contracts at the mark
  CHECK(r[2].record == RecordKind::kPositionsEnd);
  CHECK(r[2].venue_ns == 1764936000250 * kMs);
}

TEST_CASE("okx positions in hedge mode: the long and short sides net, across pushes", "[okx][positions]") {
  AdapterHarness h(Venue::kOkx, "sub-okx");
  const std::string good = own_fixture("okx/positions_snapshot.json");
  // The snapshot's BTC swap row as the long side (5 contracts), its ETH future row turned into
  // the short side of the same swap (32 contracts): one record, long - short.
  std::string hedged = replaced(good, R"("posSide":"net","thetaBS":"","thetaPA":"","tradeId":"921004415")",
                                R"("posSide":"long","thetaBS":"","thetaPA":"","tradeId":"921004415")");
  hedged = replaced(hedged, R"("instId":"ETH-USD-251226")", R"("instId":"BTC-USDT-SWAP")");
  hedged = replaced(hedged, R"("posSide":"net","thetaBS":"","thetaPA":"","tradeId":"921004002")",
                    R"("posSide":"short","thetaBS":"","thetaPA":"","tradeId":"921004002")");
  REQUIRE(h.ok(hedged).kind == MessageKind::kPositions);
  {
    const std::vector<Fill>& r = h.adapter->positions();
    REQUIRE(r.size() == 2);
    CHECK(r[0].record == RecordKind::kPosition);
    CHECK(r[0].qty == Approx((5 - 32) * 0.01));
    CHECK(r[1].record == RecordKind::kPositionsEnd);
  }
  // An update of the short side alone (now 2 contracts, as "-2" or "2"): nets with the long 5.
  const std::string short_only =
      R"({"arg":{"channel":"positions","instType":"ANY"},"eventType":"event_update","data":[{"instId":"BTC-USDT-SWAP","posSide":"short","pos":"-2","avgPx":"101000","markPx":"101400","pTime":"1764936001000","uTime":"1764936001000"}]})";
  REQUIRE(h.ok(short_only).kind == MessageKind::kPositions);
  REQUIRE(h.adapter->positions().size() == 1);
  CHECK(h.adapter->positions()[0].qty == Approx(0.03));
  // A new snapshot that lists only the long side: the short side is flat.
  std::string long_only = replaced(good, R"("posSide":"net","thetaBS":"","thetaPA":"","tradeId":"921004415")",
                                   R"("posSide":"long","thetaBS":"","thetaPA":"","tradeId":"921004415")");
  REQUIRE(h.ok(long_only).kind == MessageKind::kPositions);
  REQUIRE(h.adapter->positions().size() == 3);
  CHECK(h.adapter->positions()[0].qty == Approx(0.05));
}

TEST_CASE("fixture okx/positions_snapshot: an update ends no snapshot, and pages end at the last", "[okx][positions]") {
  AdapterHarness h(Venue::kOkx, "sub-okx");
  const std::string good = own_fixture("okx/positions_snapshot.json");
  auto with = [&](const std::string& text, const std::string& from, const std::string& to) {
    return replaced(text, from, to);
  };
  // An event update: the positions that changed, no end of snapshot.
  CHECK(h.ok(with(good, R"("eventType":"snapshot","curPage":1,"lastPage":true,)", R"("eventType":"event_update",)"))
            .kind == MessageKind::kPositions);
  CHECK(h.adapter->positions().size() == 2);
  // Page 1 of 2, then page 2: the end comes with the last, timed by the first.
  h.ok(with(good, R"("lastPage":true)", R"("lastPage":false)"));
  CHECK(h.adapter->positions().size() == 2);
  const std::string page2 = with(with(with(good, R"("curPage":1)", R"("curPage":2)"), "1764936000250", "1764936000900"),
                                 "1764936000250", "1764936000900");
  h.ok(page2);
  REQUIRE(h.adapter->positions().size() == 3);
  CHECK(h.adapter->positions()[2].record == RecordKind::kPositionsEnd);
  CHECK(h.adapter->positions()[2].venue_ns == 1764936000250 * kMs);
  // Altered: rejected by reason, nothing stated.
  for (const auto& [bad, reason] : std::vector<std::pair<std::string, ParseErrorReason>>{
           {with(good, R"("pos":"5")", R"("pos":5)"), ParseErrorReason::kWrongType},
           {with(good, R"("pos":"5",)", ""), ParseErrorReason::kMissingField},
           {with(good, R"("posSide":"net","thetaBS":"","thetaPA":"","tradeId":"921004415")",
                 R"("posSide":"both","thetaBS":"","thetaPA":"","tradeId":"921004415")"),
            ParseErrorReason::kBadValue},
           {with(good, R"("instId":"BTC-USDT-SWAP")", R"("instId":"NOT A SYMBOL")"), ParseErrorReason::kBadSymbol},
           {with(good, R"("markPx":"3200")", R"("markPx":"")")
                .replace(good.find(R"("avgPx":"3204.1")"), 16, R"("avgPx":""      )"),
            ParseErrorReason::kMissingField},
       }) {
    INFO(bad);
    h.rejects(bad, reason);
    CHECK(h.adapter->positions().empty());
  }
}

TEST_CASE("fixture okx/public_trades: a print for the price tape and no fill", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/public_trades");
}

TEST_CASE("fixture okx/orders_spot_maker_fill: spot maker sell, fee in USDT, no index price", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/orders_spot_maker_fill");
}

TEST_CASE("fixture okx/orders_spot_live_nofill: a market order accepted is no fill", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/orders_spot_live_nofill");
}

TEST_CASE("fixture okx/orders_spot_taker_partial_fill: fillSz in ETH although sz is USDT, fee in ETH", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/orders_spot_taker_partial_fill");
}

TEST_CASE("fixture okx/orders_spot_filled_final_nofill: fillSz 0 and tradeId \"\" is no second fill", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/orders_spot_filled_final_nofill");
}

TEST_CASE("fixture okx/orders_spot_sequence: the order's four pushes give exactly its two fills", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/orders_spot_sequence");
}

TEST_CASE("fixture okx/orders_swap_maker_fill: contracts x ctVal, no fillFee: the order's fee, a rebate", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/orders_swap_maker_fill");
}

TEST_CASE("fixture okx/orders_option_maker_fill: contracts x 0.01 BTC, fillPxVol, fillFwdPx, fee in BTC", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/orders_option_maker_fill");
}

TEST_CASE("fixture okx/orders_inverse_swap_taker_fill: contracts x 100 USD / price, fee in BTC", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/orders_inverse_swap_taker_fill");
}

TEST_CASE("fixture okx/login_response_success: login accepted", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/login_response_success");
}

TEST_CASE("fixture okx/error_login_failed: login refused with an error event 60009", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/error_login_failed");
}

TEST_CASE("fixture okx/subscribe_response: subscribe acknowledged", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/subscribe_response");
}

TEST_CASE("fixture okx/notice_service_upgrade: 64008 asks for a reconnect", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/notice_service_upgrade");
}

TEST_CASE("fixture okx/channel_conn_count: the connection count is ignored", "[okx]") {
  check_own_fixture(Venue::kOkx, "okx/channel_conn_count");
}

TEST_CASE("fixture okx/orders_swap_maker_fill: altered, it is rejected by reason and appends no fill", "[okx]") {
  AdapterHarness h(Venue::kOkx, "okx-main");
  const std::string good = own_fixture("okx/orders_swap_maker_fill.json");
  for (std::size_t cut : {good.size() / 3, good.size() - 5})
    h.rejects(good.substr(0, cut), ParseErrorReason::kMalformedJson);
  auto with = [&](const std::string& from, const std::string& to) { return replaced(good, from, to); };
  h.rejects(with(R"("fillSz": "12")", R"("fillSz": 12)"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("fillPx": "97250.4")", R"("fillPx": "")"), ParseErrorReason::kMissingField);
  h.rejects(with(R"("fillPx": "97250.4")", R"("fillPx": "1e999")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("side": "buy")", R"("side": "long")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("instId": "BTC-USDT-SWAP")", R"("instId": "???")"), ParseErrorReason::kBadSymbol);
  h.rejects(with(R"("fillTime": "1741952044901")", R"("fillTime": "soon")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("data": [)", R"("data": {"x": [)") + "}", ParseErrorReason::kWrongType);
  h.rejects(R"({"data":[]})", ParseErrorReason::kUnknownMessage);
  h.rejects("ping", ParseErrorReason::kMalformedJson);
  CHECK(h.fills.empty());
}

// ---- Third-party samples (../shared/fixtures/exchanges/okx) and hand-written messages.

TEST_CASE("okx: spot fills (maker from the docs, taker partial)", "[okx]") {
  const auto maker = shared_fixture_or_skip("okx/orders_spot_maker_fill__okxdocs_example_via_gocryptotrader.json");
  if (!maker) return;
  AdapterHarness h(Venue::kOkx, "okx-1");
  auto out = h.ok(*maker);
  CHECK(out.kind == MessageKind::kFills);
  REQUIRE(h.fills.size() == 1);
  check_fill(h, h.fills[0], spot_maker_fill());
  out = h.ok(shared_fixture("okx/orders_spot_taker_partial_fill__gocryptotrader.json"));
  REQUIRE(h.fills.size() == 2);
  check_fill(h, h.fills[1], spot_taker_fill());
}

TEST_CASE("okx: order pushes without tradeId or with fillSz 0 are order updates", "[okx]") {
  const auto live = shared_fixture_or_skip("okx/orders_spot_live_nofill__gocryptotrader.json");
  if (!live) return;
  AdapterHarness h(Venue::kOkx, "okx-1");
  auto out = h.ok(*live);
  CHECK(out.kind == MessageKind::kOrderUpdate);
  CHECK(out.skipped == 1);
  // state "filled" after the fill: fillSz "0", tradeId "" — the fill must not count twice.
  out = h.ok(shared_fixture("okx/orders_spot_filled_final_nofill__gocryptotrader.json"));
  CHECK(out.kind == MessageKind::kOrderUpdate);
  CHECK(h.fills.empty());
}

TEST_CASE("okx: the NDJSON lifecycle gives exactly its two fills", "[okx]") {
  const auto sequence = shared_fixture_or_skip("okx/orders_spot_sequence__gocryptotrader_wsOrders.ndjson");
  if (!sequence) return;
  AdapterHarness h(Venue::kOkx, "okx-1");
  std::istringstream lines(*sequence);
  std::string line;
  std::vector<MessageKind> kinds;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    kinds.push_back(h.ok(line).kind);
  }
  CHECK(kinds == std::vector<MessageKind>{MessageKind::kFills, MessageKind::kOrderUpdate, MessageKind::kFills,
                                          MessageKind::kOrderUpdate});
  REQUIRE(h.fills.size() == 2);
  check_fill(h, h.fills[0], spot_maker_fill());
  check_fill(h, h.fills[1], spot_taker_fill());
}

TEST_CASE("okx: USDT swap fill converts contracts with ctVal", "[okx]") {
  const auto msg = shared_fixture_or_skip("okx/orders_swap_maker_fill__nautilus.json");
  if (!msg) return;
  AdapterHarness h(Venue::kOkx, "okx-1");
  h.ok(*msg);
  REQUIRE(h.fills.size() == 1);
  ExpectedFill e;
  e.account = "okx-1";
  e.symbol = "BTC-USDT-SWAP";
  e.kind = InstrumentKind::kPerpetual;
  e.side = Side::kBuy;
  e.liquidity = Liquidity::kMaker;
  e.qty = 0.03 * 0.01;  // 0.03 contracts × ctVal 0.01 BTC = 0.0003 BTC
  e.price = 103698.9;
  e.notional_usd = 0.0003 * 103698.9;  // = 31.10967 USD
  // No fillFee in this push; it is the order's first fill (accFillSz == fillSz == 0.03), so the
  // accumulated fee -0.021776769 USDT is this fill's: 0.021776769 USD paid (= 31.10967 × 0.07%).
  e.fee_usd = 0.021776769;
  e.venue_ns = 1746947317402 * kMs;
  e.trade_id = trade_hash("okx:BTC-USDT-SWAP:1518905529");
  check_fill(h, h.fills[0], e);
}

TEST_CASE("okx: coin-margined option fill with forward, iv and fee in BTC", "[okx]") {
  const auto msg = shared_fixture_or_skip("okx/orders_option_maker_fill__nautilus.json");
  if (!msg) return;
  AdapterHarness h(Venue::kOkx, "okx-1");
  h.ok(*msg);
  REQUIRE(h.fills.size() == 1);
  ExpectedFill e;
  e.account = "okx-1";
  e.symbol = "BTC-USD-250328-50000-C";
  e.kind = InstrumentKind::kOption;
  e.side = Side::kBuy;
  e.liquidity = Liquidity::kMaker;
  e.qty = 1 * 0.01;                 // 1 contract × 0.01 BTC
  e.price = 0.0325;                 // premium in BTC
  e.underlying_price = 68500.5;     // fillFwdPx
  e.notional_usd = 0.01 * 68500.5;  // = 685.005 USD
  e.iv = 0.55;                      // fillPxVol is already a fraction
  e.mark_price = 0.0320;            // fillMarkPx
  e.fee_usd = 0.0003 * 68500.5;     // fee -0.0003 BTC (first fill) at the forward = 20.55015 USD
  e.venue_ns = 1746947317402 * kMs;
  e.trade_id = trade_hash("okx:BTC-USD-250328-50000-C:1518905600");
  check_fill(h, h.fills[0], e);
  CHECK(h.fills[0].strike == 50000.0);
  CHECK(h.fills[0].expiry_ns == expiry_at_0800_utc(2025, 3, 28));
}

TEST_CASE("okx: inverse swap converts USD contracts to BTC", "[okx]") {
  AdapterHarness h(Venue::kOkx, "okx-1");
  h.ok(
      R"({"arg":{"channel":"orders","instType":"SWAP"},"data":[{"instId":"BTC-USD-SWAP","side":"sell","fillSz":"5","fillPx":"50000","tradeId":"9","execType":"T","fillFee":"-0.00001","fillFeeCcy":"BTC","fillIdxPx":"50010","fillTime":"1700000000000"}]})");
  REQUIRE(h.fills.size() == 1);
  // 5 contracts × 100 USD / 50000 USD per BTC = 0.01 BTC; notional at the index 0.01 × 50010.
  check_close(h.fills[0].qty, 5 * 100.0 / 50000.0, "qty");
  check_close(h.fills[0].notional_usd, 0.01 * 50010.0, "notional");
  check_close(h.fills[0].fee_usd, 0.00001 * 50010.0, "fee");  // BTC fee at the index
}

TEST_CASE("okx: control messages are recognised", "[okx]") {
  AdapterHarness h(Venue::kOkx, "okx-1");
  auto out = h.ok(own_fixture("okx/login_response_success.json"));
  CHECK(out.kind == MessageKind::kAuthResult);
  CHECK(out.success);
  out = h.ok(own_fixture("okx/notice_service_upgrade.json"));
  CHECK(out.kind == MessageKind::kVenueError);
  CHECK(out.venue_code == 64008);
  out = h.ok(own_fixture("okx/channel_conn_count.json"));
  CHECK(out.kind == MessageKind::kIgnored);
  out = h.ok("pong");
  CHECK(out.kind == MessageKind::kPong);
  out = h.ok(R"({"event":"subscribe","arg":{"channel":"orders","instType":"ANY"},"connId":"a4d3ae55"})");
  CHECK(out.kind == MessageKind::kSubscriptionAck);
  out = h.ok(R"({"event":"error","code":"60009","msg":"Login failed.","connId":"a4d3ae55"})");
  CHECK(out.kind == MessageKind::kVenueError);
  CHECK(out.venue_code == 60009);
  out = h.ok(R"({"event":"login","code":"60009","msg":"Login failed."})");
  CHECK(out.kind == MessageKind::kAuthResult);
  CHECK_FALSE(out.success);
  // A positions push without eventType or rows: positions, none stated, no snapshot ended.
  out = h.ok(R"({"arg":{"channel":"positions","instType":"ANY"},"data":[]})");
  CHECK(out.kind == MessageKind::kPositions);
  CHECK(h.adapter->positions().empty());
  CHECK(h.fills.empty());
  // An empty snapshot: the account holds nothing: the end alone.
  out = h.ok(
      R"({"arg":{"channel":"positions","instType":"ANY"},"eventType":"snapshot","curPage":1,"lastPage":true,"data":[]})");
  REQUIRE(h.adapter->positions().size() == 1);
  CHECK(h.adapter->positions()[0].record == RecordKind::kPositionsEnd);
}

TEST_CASE("okx: control messages of the third-party samples are recognised", "[okx]") {
  const auto login = shared_fixture_or_skip("okx/login_response_success__okxdocs.json");
  if (!login) return;
  AdapterHarness h(Venue::kOkx, "okx-1");
  auto out = h.ok(*login);
  CHECK(out.kind == MessageKind::kAuthResult);
  CHECK(out.success);
  out = h.ok(shared_fixture("okx/notice_service_upgrade__okxdocs.json"));
  CHECK(out.kind == MessageKind::kVenueError);
  CHECK(out.venue_code == 64008);
  out = h.ok(shared_fixture("okx/channel_conn_count__okxdocs.json"));
  CHECK(out.kind == MessageKind::kIgnored);
  CHECK(h.fills.empty());
}

TEST_CASE("okx: bad messages are rejected by reason and append no fill", "[okx]") {
  const auto sample = shared_fixture_or_skip("okx/orders_swap_maker_fill__nautilus.json");
  if (!sample) return;
  AdapterHarness h(Venue::kOkx, "okx-1");
  const std::string& good = *sample;
  for (std::size_t cut : {good.size() / 3, good.size() - 5})
    h.rejects(good.substr(0, cut), ParseErrorReason::kMalformedJson);
  auto with = [&](const std::string& from, const std::string& to) { return replaced(good, from, to); };
  h.rejects(with(R"("fillSz": "0.03")", R"("fillSz": 0.03)"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("fillPx": "103698.9")", R"("fillPx": "")"), ParseErrorReason::kMissingField);
  h.rejects(with(R"("fillPx": "103698.9")", R"("fillPx": "1e999")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("side": "buy")", R"("side": "long")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("instId": "BTC-USDT-SWAP")", R"("instId": "???")"), ParseErrorReason::kBadSymbol);
  h.rejects(with(R"("fillTime": "1746947317402")", R"("fillTime": "soon")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("data": [)", R"("data": {"x": [)") + "}", ParseErrorReason::kWrongType);
  h.rejects(R"({"data":[]})", ParseErrorReason::kUnknownMessage);
  h.rejects("ping", ParseErrorReason::kMalformedJson);
  CHECK(h.fills.empty());
}

}  // namespace
}  // namespace segmentd::testing

// ---- Public market data (issue 20, item 4): trades, mark-price and index-tickers pushes of the
// public websocket, in the shapes of OKX's v5 docs (WebSocket public channels).

namespace segmentd::testing {
namespace {

TEST_CASE("okx: public trades, mark prices and index tickers are prices for the tape", "[okx][market_data]") {
  AdapterHarness h(Venue::kOkx, "");
  auto out = h.ok(R"({"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[)"
                  R"({"instId":"BTC-USDT-SWAP","tradeId":"130639474","px":"42219.9","sz":"12","side":"buy",)"
                  R"("ts":"1630048897897","count":"3","source":"0","seqId":1234},)"
                  R"({"instId":"BTC-USDT-SWAP","tradeId":"130639475","px":"42220.1","sz":"1","side":"sell",)"
                  R"("ts":"1630048897901","count":"1","source":"0","seqId":1235}]})");
  CHECK(out.kind == MessageKind::kMarketData);
  CHECK(h.fills.empty());
  auto md = h.adapter->market_data();
  REQUIRE(md.size() == 2);
  CHECK(md[0].instrument == *h.instruments.resolve(Venue::kOkx, "BTC-USDT-SWAP"));
  CHECK(md[0].price == 42219.9);
  CHECK(md[1].price == 42220.1);
  CHECK(md[0].venue_ns == 1630048897897 * kMs);
  CHECK(md[0].recv_ns == kRecvNs);
  CHECK(md[0].venue == Venue::kOkx);
  CHECK(std::isnan(md[0].mark_price));

  out = h.ok(R"({"arg":{"channel":"mark-price","instId":"BTC-USD-240628-60000-C"},"data":[)"
             R"({"instType":"OPTION","instId":"BTC-USD-240628-60000-C","markPx":"0.0321","ts":"1630049139746"}]})");
  CHECK(out.kind == MessageKind::kMarketData);
  md = h.adapter->market_data();
  REQUIRE(md.size() == 1);
  CHECK(md[0].instrument == *h.instruments.resolve(Venue::kOkx, "BTC-USD-240628-60000-C"));
  CHECK(md[0].mark_price == 0.0321);
  CHECK(std::isnan(md[0].price));

  out = h.ok(R"({"arg":{"channel":"index-tickers","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT",)"
             R"("idxPx":"42310.6","high24h":"43000","low24h":"41000","open24h":"41500","sodUtc0":"41600",)"
             R"("sodUtc8":"41700","ts":"1597026383085"}]})");
  CHECK(out.kind == MessageKind::kMarketData);
  md = h.adapter->market_data();
  REQUIRE(md.size() == 1);
  CHECK(md[0].underlying == h.instruments.underlying_id("BTC"));
  CHECK(md[0].underlying_price == 42310.6);
  CHECK(md[0].instrument == 0);
  CHECK(std::isnan(md[0].price));
  CHECK(std::isnan(md[0].mark_price));
  CHECK(md[0].venue_ns == 1597026383085 * kMs);

  // The public subscribe acknowledgement.
  out = h.ok(R"({"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"connId":"a4d3ae55"})");
  CHECK(out.kind == MessageKind::kSubscriptionAck);
  CHECK(h.adapter->market_data().empty());
}

TEST_CASE("okx: bad market data is refused by name and leaves nothing", "[okx][market_data]") {
  AdapterHarness h(Venue::kOkx, "");
  h.rejects(R"({"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP","ts":"1"}]})",
            ParseErrorReason::kMissingField);
  h.rejects(R"({"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"px":"1","ts":"1"}]})",
            ParseErrorReason::kMissingField);
  h.rejects(R"({"arg":{"channel":"mark-price","instId":"BTC-USDT-SWAP"},"data":[)"
            R"({"instId":"BTC-USDT-SWAP","markPx":"-5","ts":"1"}]})",
            ParseErrorReason::kBadValue);
  h.rejects(R"({"arg":{"channel":"mark-price","instId":"NOPE"},"data":[{"instId":"NOPE","markPx":"5","ts":"1"}]})",
            ParseErrorReason::kBadSymbol);
  h.rejects(
      R"({"arg":{"channel":"index-tickers","instId":"BTC-EUR"},"data":[{"instId":"BTC-EUR","idxPx":"5","ts":"1"}]})",
      ParseErrorReason::kBadValue);
  h.rejects(
      R"({"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP","px":5,"ts":"1"}]})",
      ParseErrorReason::kWrongType);
  h.rejects(R"({"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":{}})", ParseErrorReason::kWrongType);
  h.rejects(R"({"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"}})", ParseErrorReason::kMissingField);
  // A good row before a bad one: the message is refused whole.
  h.rejects(R"({"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[)"
            R"({"instId":"BTC-USDT-SWAP","px":"5","ts":"1"},{"instId":"BTC-USDT-SWAP","px":"x","ts":"1"}]})",
            ParseErrorReason::kBadValue);
  CHECK(h.adapter->market_data().empty());
}

}  // namespace
}  // namespace segmentd::testing
