#include "protocol/venues/bybit/adapter.h"

#include "tests/protocol/venues/adapter_test_support.h"
#include "tests/protocol/venues/expected_fixture.h"

namespace segmentd::testing {
namespace {

constexpr std::int64_t kMs = 1'000'000;

// ---- The repository's own fixtures (tests/fixtures/exchanges/bybit), checked against their
// hand-computed .expected.json.

TEST_CASE("bybit: the position topic and the position list state positions", "[bybit][positions]") {
  AdapterHarness h(Venue::kBybit, "bybit-sub-3");
  const DecodeOutcome o = h.ok(
      R"({"id":"1003076014fb7eedb","topic":"position","creationTime":1764936000200,"data":[)"
      R"({"positionIdx":0,"symbol":"BTCUSDT","side":"Sell","size":"0.015","entryPrice":"101000.5","markPrice":"101400",)"
      R"("positionValue":"1521","leverage":"10","updatedTime":"1764936000150","category":"linear","seq":1},)"
      R"({"positionIdx":0,"symbol":"ETHUSDT","side":"","size":"0","entryPrice":"0","markPrice":"3380",)"
      R"("positionValue":"0","updatedTime":"1764936000150","category":"linear","seq":2}]})");
  CHECK(o.kind == MessageKind::kPositions);
  const std::vector<Fill>& r = h.adapter->positions();
  REQUIRE(r.size() == 2);  // changes only: no end
  CHECK(r[0].qty == Approx(-0.015));
  CHECK(r[0].mark_price == 101400.0);
  CHECK(r[0].venue_ns == 1764936000150LL * 1'000'000);  // updatedTime
  CHECK(r[1].qty == 0.0);
  h.rejects(R"({"topic":"position","data":[{"symbol":"BTCUSDT","side":"Long","size":"1"}]})",
            ParseErrorReason::kBadValue);
  h.rejects(R"({"topic":"position","data":[{"symbol":"BTCUSDT","side":"Buy","size":"-1"}]})",
            ParseErrorReason::kBadValue);
  h.rejects(R"({"topic":"position","data":[{"symbol":"BTCUSDT","side":"Buy"}]})", ParseErrorReason::kMissingField);
  // The REST list (category after list, as Bybit sends it): as of the receive time; the end last.
  ParseError err;
  const std::string list =
      R"({"retCode":0,"retMsg":"OK","result":{"list":[{"positionIdx":0,"symbol":"BTCUSDT","side":"Buy","size":"0.2",)"
      R"("avgPrice":"100000","markPrice":"101000","positionValue":"20200","updatedTime":"1600000000000"}],)"
      R"("nextPageCursor":"","category":"linear"},"retExtInfo":{},"time":1764936000300})";
  constexpr std::int64_t kCall = 1764936000000LL * 1'000'000, kFirst = kCall - 5;
  REQUIRE(h.adapter->decode_rest_positions(list, false, kFirst, kCall, 1764936000300LL * 1'000'000, err));
  REQUIRE(h.adapter->positions().size() == 1);
  CHECK(h.adapter->positions()[0].qty == Approx(0.2));
  CHECK(h.adapter->positions()[0].price == 100000.0);
  CHECK(h.adapter->positions()[0].venue_ns == kCall);  // as of the call, not the position's old updatedTime
  // A row updated after the call was sent (a fill while the venue answered): as of that update.
  REQUIRE(h.adapter->decode_rest_positions(replaced(list, "1600000000000", "1764936000120"), false, kFirst, kCall,
                                           1764936000300LL * 1'000'000, err));
  CHECK(h.adapter->positions()[0].venue_ns == 1764936000120LL * 1'000'000);
  REQUIRE(h.adapter->decode_rest_positions(list, true, kFirst, kCall, 1764936000300LL * 1'000'000, err));
  REQUIRE(h.adapter->positions().size() == 2);
  CHECK(h.adapter->positions()[1].record == RecordKind::kPositionsEnd);
  CHECK(h.adapter->positions()[1].venue_ns == kFirst);
  CHECK(std::isnan(h.adapter->positions()[1].venue_margin_usd()));  // no row stated positionIM
  // With positionIM on every row, the end carries their sum over the snapshot's calls (linear
  // then options; USDT and USDC count as USD).
  const std::string with_im =
      replaced(list, R"("positionValue":"20200",)", R"("positionValue":"20200","positionIM":"2020.5",)");
  REQUIRE(h.adapter->decode_rest_positions(with_im, false, kFirst + 1, kCall, 1764936000300LL * 1'000'000, err));
  REQUIRE(h.adapter->decode_rest_positions(replaced(with_im, "2020.5", "79.5"), true, kFirst + 1, kCall,
                                           1764936000300LL * 1'000'000, err));
  REQUIRE(h.adapter->positions().size() == 2);
  CHECK(h.adapter->positions()[1].venue_margin_usd() == 2100.0);
  // A negative one is refused.
  CHECK_FALSE(h.adapter->decode_rest_positions(replaced(with_im, "2020.5", "-1"), true, kFirst + 2, kCall,
                                               1764936000300LL * 1'000'000, err));
  CHECK(err.reason == ParseErrorReason::kBadValue);
  // A spot row (a balance, skipped) first in the list: nothing stated for it, the rest read.
  const std::string with_spot =
      replaced(list, R"("list":[{)", R"("list":[{"symbol":"spot:BTCUSDT","side":"Buy","size":"1"},{)");
  REQUIRE(h.adapter->decode_rest_positions(with_spot, false, kFirst, kCall, 1764936000300LL * 1'000'000, err));
  REQUIRE(h.adapter->positions().size() == 1);
  CHECK(h.adapter->positions()[0].venue_ns == kCall);
  CHECK_FALSE(h.adapter->decode_rest_positions(R"({"retCode":10006,"retMsg":"Too many visits","result":{}})", true, 5,
                                               6, 6, err));
  CHECK(err.reason == ParseErrorReason::kUnknownMessage);
  CHECK(h.adapter->positions().empty());
}

TEST_CASE("fixture bybit/public_ticker_linear: last and mark and index price and no fill", "[bybit]") {
  check_own_fixture(Venue::kBybit, "bybit/public_ticker_linear");
}

TEST_CASE("fixture bybit/execution_linear_taker_sell: current shape, taker, fee in feeCurrency USDT", "[bybit]") {
  check_own_fixture(Venue::kBybit, "bybit/execution_linear_taker_sell");
}

TEST_CASE("fixture bybit/execution_linear_no_fee_currency: older shape, fee in the settle coin", "[bybit]") {
  check_own_fixture(Venue::kBybit, "bybit/execution_linear_no_fee_currency");
}

TEST_CASE("fixture bybit/execution_fast: no execType, no fee: a trade with an unknown fee", "[bybit]") {
  check_own_fixture(Venue::kBybit, "bybit/execution_fast");
}

TEST_CASE("fixture bybit/execution_inverse_maker_buy: execQty in USD, fee in BTC", "[bybit]") {
  check_own_fixture(Venue::kBybit, "bybit/execution_inverse_maker_buy");
}

TEST_CASE("fixture bybit/execution_option_taker_sell: tradeIv, underlyingPrice, fee in USDC", "[bybit]") {
  check_own_fixture(Venue::kBybit, "bybit/execution_option_taker_sell");
}

TEST_CASE("fixture bybit/execution_spot_buy_fee_in_base: spot buy, fee in the base coin", "[bybit]") {
  // kind: checked by the category test case below.
  check_own_fixture(Venue::kBybit, "bybit/execution_spot_buy_fee_in_base", all_fields_but({"kind"}));
}

TEST_CASE("fixture bybit/execution_spot_buy_fee_in_base: category spot is the spot pair, not the perpetual",
          "[bybit]") {
  // Bybit names the spot pair and the linear perpetual alike (BTCUSDT); only "category" tells
  // them apart. The adapter reads category (it resolved BTCUSDT to the perpetual until that was fixed).
  check_own_fixture(Venue::kBybit, "bybit/execution_spot_buy_fee_in_base", only_fields({"kind"}));
}

TEST_CASE("fixture bybit/execution_bust_trade: execType BustTrade, AdlTrade, BlockTrade are fills of the account",
          "[bybit]") {
  // A takeover liquidation (BustTrade), an auto-deleveraging (AdlTrade) and a block trade
  // (BlockTrade) are executions the account experienced. The adapter once counted only execType Trade.
  SECTION("BustTrade, as in the fixture") { check_own_fixture(Venue::kBybit, "bybit/execution_bust_trade"); }
  for (const std::string exec_type : {"AdlTrade", "BlockTrade"}) {
    DYNAMIC_SECTION("the fixture with execType " << exec_type << ": the same fill") {
      const FixtureExpectation x = load_expectation("bybit/execution_bust_trade");
      std::string msg = own_fixture("bybit/execution_bust_trade.json");
      const std::string from = R"("execType": "BustTrade")";
      REQUIRE(msg.find(from) != std::string::npos);
      msg.replace(msg.find(from), from.size(), R"("execType": ")" + exec_type + "\"");
      AdapterHarness h(Venue::kBybit, x.configured_account);
      const auto out = h.ok(msg);
      check_fixture_outcome(out, h.fills.size(), x.messages.at(0));
      if (h.fills.size() == 1) check_fixture_fill(h, h.fills[0], x.messages[0].fills.at(0), all_fields());
    }
  }
}

TEST_CASE("fixture bybit/execution_funding_nofill: execType Funding is no fill", "[bybit]") {
  check_own_fixture(Venue::kBybit, "bybit/execution_funding_nofill");
}

TEST_CASE("fixture bybit/auth_success: auth accepted", "[bybit]") {
  check_own_fixture(Venue::kBybit, "bybit/auth_success");
}

TEST_CASE("fixture bybit/subscribe_response_private: subscribe acknowledged", "[bybit]") {
  check_own_fixture(Venue::kBybit, "bybit/subscribe_response_private");
}

TEST_CASE("fixture bybit/pong_private: the private stream's pong", "[bybit]") {
  check_own_fixture(Venue::kBybit, "bybit/pong_private");
}

TEST_CASE("fixture bybit/pong_public: the public stream's pong (op ping, ret_msg pong)", "[bybit]") {
  check_own_fixture(Venue::kBybit, "bybit/pong_public");
}

TEST_CASE("fixture bybit/execution_linear_taker_sell: the same execId again counts once", "[bybit]") {
  auto h = check_own_fixture(Venue::kBybit, "bybit/execution_linear_taker_sell");
  const auto out = h->ok(own_fixture("bybit/execution_linear_taker_sell.json"));
  CHECK(out.kind == MessageKind::kFills);
  CHECK(out.fills == 0);
  CHECK(out.duplicates == 1);
  CHECK(h->fills.size() == 1);
}

TEST_CASE("fixture bybit/execution_linear_taker_sell: altered, it is rejected by reason and appends no fill",
          "[bybit]") {
  AdapterHarness h(Venue::kBybit);
  const std::string good = own_fixture("bybit/execution_linear_taker_sell.json");
  for (std::size_t cut : {good.size() / 2, good.size() - 4})
    h.rejects(good.substr(0, cut), ParseErrorReason::kMalformedJson);
  auto with = [&](const std::string& from, const std::string& to) { return replaced(good, from, to); };
  h.rejects(with(R"("execQty": "12.5")", R"("execQty": 12.5)"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("execQty": "12.5")", R"("execQty": "-12.5")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("execId": "c41e0a57-93d2-5b8e-a1f6-2b7d90e3c518",)", ""), ParseErrorReason::kMissingField);
  h.rejects(with(R"("isMaker": false)", R"("isMaker": "false")"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("execTime": "1750436002516")", R"("execTime": "-1")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("symbol": "SOLUSDT")", R"("symbol": "SOL")"), ParseErrorReason::kBadSymbol);
  h.rejects(R"({"topic":"execution","data":{}})", ParseErrorReason::kWrongType);
  h.rejects(R"({"topic":"execution"})", ParseErrorReason::kMissingField);
  h.rejects(R"({"foo":1})", ParseErrorReason::kUnknownMessage);
  CHECK(h.fills.empty());
}

// ---- Third-party samples (../shared/fixtures/exchanges/bybit) and hand-written messages.

TEST_CASE("bybit: linear execution from the current docs", "[bybit]") {
  const auto msg = shared_fixture_or_skip("bybit/execution_linear__bybit_docs_current.json");
  if (!msg) return;
  AdapterHarness h(Venue::kBybit, "bybit-uta");
  const auto out = h.ok(*msg);
  CHECK(out.kind == MessageKind::kFills);
  REQUIRE(h.fills.size() == 1);
  ExpectedFill e;
  e.account = "bybit-uta";
  e.symbol = "BTCUSDT";
  e.kind = InstrumentKind::kPerpetual;
  e.side = Side::kSell;
  e.liquidity = Liquidity::kTaker;  // isMaker false
  e.qty = 0.5;                      // linear execQty is in BTC
  e.price = 95900.1;
  e.notional_usd = 0.5 * 95900.1;  // = 47950.05 USD (= execValue)
  e.fee_usd = 26.3725275;          // execFee in feeCurrency USDT (= 47950.05 × 0.055%)
  e.mark_price = 95901.48;
  e.venue_ns = 1746270400353 * kMs;  // execTime
  e.trade_id = trade_hash("bybit:0ab1bdf7-4219-438b-b30a-32ec863018f7");
  check_fill(h, h.fills[0], e);
}

TEST_CASE("bybit: older docs example without feeCurrency (fee in the settle coin)", "[bybit]") {
  const auto msg = shared_fixture_or_skip("bybit/execution_linear__bybit_docs_2022_and_nautilus_py.json");
  if (!msg) return;
  AdapterHarness h(Venue::kBybit, "bybit-uta");
  h.ok(*msg);
  REQUIRE(h.fills.size() == 1);
  ExpectedFill e;
  e.account = "bybit-uta";
  e.symbol = "XRPUSDT";
  e.kind = InstrumentKind::kPerpetual;
  e.side = Side::kSell;
  e.liquidity = Liquidity::kTaker;
  e.qty = 25;
  e.price = 0.3374;
  e.notional_usd = 25 * 0.3374;  // = 8.435 USD
  e.fee_usd = 0.005061;          // settle coin of XRPUSDT is USDT
  e.mark_price = 0.3391;
  e.venue_ns = 1672364174443 * kMs;
  e.trade_id = trade_hash("bybit:7e2ae69c-4edf-5800-a352-893d52b446aa");
  check_fill(h, h.fills[0], e);
}

TEST_CASE("bybit: execution.fast has no execType, fee or mark: still a trade", "[bybit]") {
  const auto msg = shared_fixture_or_skip("bybit/execution_fast__nautilus.json");
  if (!msg) return;
  AdapterHarness h(Venue::kBybit, "bybit-uta");
  const auto out = h.ok(*msg);
  CHECK(out.kind == MessageKind::kFills);
  REQUIRE(h.fills.size() == 1);
  ExpectedFill e;
  e.account = "bybit-uta";
  e.symbol = "ICPUSDT";
  e.kind = InstrumentKind::kPerpetual;
  e.side = Side::kSell;
  e.liquidity = Liquidity::kTaker;
  e.qty = 3000;
  e.price = 12.015;
  e.notional_usd = 3000 * 12.015;  // = 36045 USD
  e.venue_ns = 1716800399334 * kMs;
  e.trade_id = trade_hash("bybit:3510f361-0add-5c7b-a2e7-9679810944fc");
  check_fill(h, h.fills[0], e);
}

TEST_CASE("bybit: the same execId from execution and execution.fast counts once", "[bybit]") {
  const auto sample = shared_fixture_or_skip("bybit/execution_linear__bybit_docs_current.json");
  if (!sample) return;
  AdapterHarness h(Venue::kBybit);
  const std::string& msg = *sample;
  h.ok(msg);
  const auto out = h.ok(msg);
  CHECK(out.kind == MessageKind::kFills);
  CHECK(out.fills == 0);
  CHECK(out.duplicates == 1);
  CHECK(h.fills.size() == 1);
}

TEST_CASE("bybit: only execType Trade is trading activity", "[bybit]") {
  const auto sample = shared_fixture_or_skip("bybit/execution_linear__bybit_docs_current.json");
  if (!sample) return;
  AdapterHarness h(Venue::kBybit);
  std::string funding = *sample;
  funding.replace(funding.find("\"execType\": \"Trade\""), 19, "\"execType\": \"Funding\"");
  const auto out = h.ok(funding);
  CHECK(out.kind == MessageKind::kIgnored);
  CHECK(out.skipped == 1);
  CHECK(h.fills.empty());
}

TEST_CASE("bybit: inverse and option executions", "[bybit]") {
  AdapterHarness h(Venue::kBybit);
  // No verbatim option or inverse execution was found (SOURCES.md); these follow the documented
  // fields. Inverse: 100 USD at 50000 → 0.002 BTC; fee in BTC (settle coin) at the index.
  h.ok(
      R"({"topic":"execution","creationTime":1,"data":[{"category":"inverse","symbol":"BTCUSD","execId":"i1","execPrice":"50000","execQty":"100","execType":"Trade","side":"Buy","execTime":"1700000000000","isMaker":true,"execFee":"0.0000006","indexPrice":"50010","markPrice":"50005","tradeIv":"","underlyingPrice":""}]})");
  // Option: 0.1 BTC, premium 1500 USDC, tradeIv 0.48 (a fraction), underlying 61000.
  h.ok(
      R"({"topic":"execution.option","creationTime":1,"data":[{"category":"option","symbol":"BTC-27DEC24-60000-C","execId":"o1","execPrice":"1500","execQty":"0.1","execType":"Trade","side":"Sell","execTime":"1700000000001","isMaker":false,"execFee":"0.5","feeCurrency":"USDC","indexPrice":"60990","markPrice":"1490","tradeIv":"0.48","markIv":"0.47","underlyingPrice":"61000"}]})");
  REQUIRE(h.fills.size() == 2);
  const Fill& inv = h.fills[0];
  check_close(inv.qty, 100.0 / 50000.0, "inverse qty");
  check_close(inv.notional_usd, 100.0 / 50000.0 * 50010.0, "inverse notional");  // at the index
  check_close(inv.fee_usd, 0.0000006 * 50010.0, "inverse fee");
  CHECK(inv.liquidity == Liquidity::kMaker);
  const Fill& opt = h.fills[1];
  CHECK(opt.kind == InstrumentKind::kOption);
  check_close(opt.qty, 0.1, "option qty");
  check_close(opt.notional_usd, 0.1 * 61000.0, "option notional");  // at underlyingPrice
  check_close(opt.iv, 0.48, "iv");
  check_close(opt.fee_usd, 0.5, "option fee");
  check_close(opt.underlying_price, 61000.0, "underlying");
}

TEST_CASE("bybit: control messages are recognised", "[bybit]") {
  AdapterHarness h(Venue::kBybit);
  auto out = h.ok(own_fixture("bybit/auth_success.json"));
  CHECK(out.kind == MessageKind::kAuthResult);
  CHECK(out.success);
  out = h.ok(own_fixture("bybit/pong_private.json"));
  CHECK(out.kind == MessageKind::kPong);
  out = h.ok(own_fixture("bybit/subscribe_response_private.json"));
  CHECK(out.kind == MessageKind::kSubscriptionAck);
  CHECK(out.success);
  out = h.ok(R"({"success":false,"ret_msg":"Params Error","op":"auth","conn_id":"x"})");
  CHECK(out.kind == MessageKind::kAuthResult);
  CHECK_FALSE(out.success);
  out = h.ok(R"({"success":true,"ret_msg":"pong","conn_id":"x","req_id":"100001","op":"ping"})");
  CHECK(out.kind == MessageKind::kPong);
  CHECK(out.request_id == 100001);
  out = h.ok(R"({"topic":"order","creationTime":1,"data":[]})");
  CHECK(out.kind == MessageKind::kIgnored);
  CHECK(h.fills.empty());
}

TEST_CASE("bybit: control messages of the third-party samples are recognised", "[bybit]") {
  const auto auth = shared_fixture_or_skip("bybit/auth_success__bybit_docs.json");
  if (!auth) return;
  AdapterHarness h(Venue::kBybit);
  auto out = h.ok(*auth);
  CHECK(out.kind == MessageKind::kAuthResult);
  CHECK(out.success);
  out = h.ok(shared_fixture("bybit/pong_private__bybit_docs.json"));
  CHECK(out.kind == MessageKind::kPong);
  out = h.ok(shared_fixture("bybit/subscribe_response_private__bybit_docs.json"));
  CHECK(out.kind == MessageKind::kSubscriptionAck);
  CHECK(out.success);
  CHECK(h.fills.empty());
}

TEST_CASE("bybit: bad messages are rejected by reason and append no fill", "[bybit]") {
  const auto sample = shared_fixture_or_skip("bybit/execution_linear__bybit_docs_current.json");
  if (!sample) return;
  AdapterHarness h(Venue::kBybit);
  const std::string& good = *sample;
  for (std::size_t cut : {good.size() / 2, good.size() - 4})
    h.rejects(good.substr(0, cut), ParseErrorReason::kMalformedJson);
  auto with = [&](const std::string& from, const std::string& to) { return replaced(good, from, to); };
  h.rejects(with(R"("execQty": "0.5")", R"("execQty": 0.5)"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("execQty": "0.5")", R"("execQty": "-0.5")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("execId": "0ab1bdf7-4219-438b-b30a-32ec863018f7",)", ""), ParseErrorReason::kMissingField);
  h.rejects(with(R"("isMaker": false)", R"("isMaker": "false")"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("execTime": "1746270400353")", R"("execTime": "-1")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("symbol": "BTCUSDT")", R"("symbol": "BTC")"), ParseErrorReason::kBadSymbol);
  h.rejects(R"({"topic":"execution","data":{}})", ParseErrorReason::kWrongType);
  h.rejects(R"({"topic":"execution"})", ParseErrorReason::kMissingField);
  h.rejects(R"({"foo":1})", ParseErrorReason::kUnknownMessage);
  CHECK(h.fills.empty());
}

}  // namespace
}  // namespace segmentd::testing

// ---- Public market data (issue 20, item 4): publicTrade and tickers pushes of the public
// websocket, in the shapes of Bybit's v5 docs (WebSocket Stream, Public).

namespace segmentd::testing {
namespace {

TEST_CASE("bybit: public trades and tickers are prices for the tape", "[bybit][market_data]") {
  AdapterHarness h(Venue::kBybit, "");
  auto out = h.ok(R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[)"
                  R"({"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick",)"
                  R"("i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]})");
  CHECK(out.kind == MessageKind::kMarketData);
  CHECK(h.fills.empty());
  auto md = h.adapter->market_data();
  REQUIRE(md.size() == 1);
  CHECK(md[0].instrument == *h.instruments.resolve(Venue::kBybit, "BTCUSDT"));
  CHECK(md[0].price == 16578.5);
  CHECK(md[0].venue_ns == 1672304486865 * kMs);
  CHECK(md[0].recv_ns == kRecvNs);
  CHECK(std::isnan(md[0].mark_price));

  // A linear ticker snapshot: last, mark and index price at the push's ts.
  out = h.ok(R"({"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","tickDirection":"PlusTick",)"
             R"("price24hPcnt":"0.017103","lastPrice":"17216.00","prevPrice24h":"16926.50","highPrice24h":"17281.50",)"
             R"("lowPrice24h":"16915.00","prevPrice1h":"17238.00","markPrice":"17217.33","indexPrice":"17227.36",)"
             R"("openInterest":"68744.761","openInterestValue":"1183601235.91","turnover24h":"1570383121.943499",)"
             R"("volume24h":"91705.276","nextFundingTime":"1673280000000","fundingRate":"-0.000212",)"
             R"("bid1Price":"17215.50","bid1Size":"84.489","ask1Price":"17216.00","ask1Size":"83.020"},)"
             R"("cs":24987956059,"ts":1673272861686})");
  CHECK(out.kind == MessageKind::kMarketData);
  md = h.adapter->market_data();
  REQUIRE(md.size() == 1);
  CHECK(md[0].price == 17216.0);
  CHECK(md[0].mark_price == 17217.33);
  CHECK(md[0].underlying_price == 17227.36);
  CHECK(md[0].venue_ns == 1673272861686 * kMs);
  CHECK(md[0].open_interest == 68744.761);  // linear: in the coin, as the venue states it

  // A delta with other fields only gives nothing; one with the open interest gives it alone.
  out = h.ok(R"({"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","fundingRate":"-0.0002"},)"
             R"("cs":24987956059,"ts":1673272861736})");
  CHECK(out.kind == MessageKind::kMarketData);
  CHECK(h.adapter->market_data().empty());
  out = h.ok(R"({"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","openInterest":"68744.8"},)"
             R"("cs":24987956060,"ts":1673272861786})");
  CHECK(out.kind == MessageKind::kMarketData);
  REQUIRE(h.adapter->market_data().size() == 1);
  CHECK(h.adapter->market_data()[0].open_interest == 68744.8);
  CHECK(std::isnan(h.adapter->market_data()[0].mark_price));
  CHECK(std::isnan(h.adapter->market_data()[0].price));
  // A negative open interest is an error.
  h.rejects(R"({"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","openInterest":"-1"},)"
            R"("cs":24987956060,"ts":1673272861786})",
            ParseErrorReason::kBadValue);
  h.ok(R"({"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":"17218.1"},)"
       R"("cs":24987956061,"ts":1673272861886})");
  REQUIRE(h.adapter->market_data().size() == 1);
  CHECK(h.adapter->market_data()[0].mark_price == 17218.1);
  CHECK(std::isnan(h.adapter->market_data()[0].price));

  // An option ticker: its mark is the premium in USD(C), its index the underlying's.
  h.ok(R"({"id":"tickers.BTC-6JAN23-17500-C-2480","topic":"tickers.BTC-6JAN23-17500-C","ts":1672917511074,)"
       R"("data":{"symbol":"BTC-6JAN23-17500-C","bidPrice":"0","bidSize":"0","bidIv":"0","askPrice":"10",)"
       R"("askSize":"5.1","askIv":"0.514","lastPrice":"10","highPrice24h":"25","lowPrice24h":"5",)"
       R"("markPrice":"7.86976724","indexPrice":"16823.73","markPriceIv":"0.4896","underlyingPrice":"16815.1"},)"
       R"("type":"snapshot"})");
  REQUIRE(h.adapter->market_data().size() == 1);
  CHECK(h.adapter->market_data()[0].instrument == *h.instruments.resolve(Venue::kBybit, "BTC-6JAN23-17500-C"));
  CHECK(h.adapter->market_data()[0].mark_price == 7.86976724);
  CHECK(h.adapter->market_data()[0].underlying_price == 16823.73);

  // The public websocket's subscribe answer and pong.
  out = h.ok(R"({"success":true,"ret_msg":"","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b","req_id":"10001",)"
             R"("op":"subscribe"})");
  CHECK(out.kind == MessageKind::kSubscriptionAck);
  out = h.ok(R"({"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"})");
  CHECK(out.kind == MessageKind::kPong);
}

TEST_CASE("bybit: bad market data is refused by name and leaves nothing", "[bybit][market_data]") {
  AdapterHarness h(Venue::kBybit, "");
  h.rejects(R"({"topic":"publicTrade.BTCUSDT","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1"}]})",
            ParseErrorReason::kMissingField);
  h.rejects(R"({"topic":"publicTrade.BTCUSDT","ts":1,"data":[{"T":1,"S":"Buy","v":"1","p":"5"}]})",
            ParseErrorReason::kMissingField);
  h.rejects(R"({"topic":"publicTrade.BTCUSDT","ts":1,"data":[{"T":1,"s":"BTCUSDT","p":"-5"}]})",
            ParseErrorReason::kBadValue);
  h.rejects(R"({"topic":"publicTrade.BTCUSDT","ts":1,"data":[{"T":1,"s":"BTCUSDT","p":5}]})",
            ParseErrorReason::kWrongType);
  h.rejects(R"({"topic":"publicTrade.NOPE","ts":1,"data":[{"T":1,"s":"NOPE","p":"5"}]})", ParseErrorReason::kBadSymbol);
  h.rejects(R"({"topic":"tickers.BTCUSDT","ts":1,"data":{"markPrice":"5"}})", ParseErrorReason::kMissingField);
  h.rejects(R"({"topic":"tickers.BTCUSDT","ts":1,"data":{"symbol":"BTCUSDT","markPrice":"0"}})",
            ParseErrorReason::kBadValue);
  h.rejects(R"({"topic":"tickers.BTCUSDT","ts":1,"data":[]})", ParseErrorReason::kWrongType);
  h.rejects(R"({"topic":"tickers.BTCUSDT","ts":1})", ParseErrorReason::kMissingField);
  // A good trade before a bad one: the message is refused whole.
  h.rejects(R"({"topic":"publicTrade.BTCUSDT","ts":1,"data":[{"T":1,"s":"BTCUSDT","p":"5"},)"
            R"({"T":1,"s":"BTCUSDT","p":"x"}]})",
            ParseErrorReason::kBadValue);
  CHECK(h.adapter->market_data().empty());
}

}  // namespace
}  // namespace segmentd::testing
