#include "protocol/venues/bybit/adapter.h"

#include "tests/protocol/venues/adapter_test_support.h"

namespace segmentd::testing {
namespace {

constexpr std::int64_t kMs = 1'000'000;

TEST_CASE("bybit: linear execution from the current docs", "[bybit]") {
  AdapterHarness h(Venue::kBybit, "bybit-uta");
  const auto out = h.ok(fixture("bybit/execution_linear__bybit_docs_current.json"));
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
  AdapterHarness h(Venue::kBybit, "bybit-uta");
  h.ok(fixture("bybit/execution_linear__bybit_docs_2022_and_nautilus_py.json"));
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
  AdapterHarness h(Venue::kBybit, "bybit-uta");
  const auto out = h.ok(fixture("bybit/execution_fast__nautilus.json"));
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
  AdapterHarness h(Venue::kBybit);
  const std::string msg = fixture("bybit/execution_linear__bybit_docs_current.json");
  h.ok(msg);
  const auto out = h.ok(msg);
  CHECK(out.kind == MessageKind::kFills);
  CHECK(out.fills == 0);
  CHECK(out.duplicates == 1);
  CHECK(h.fills.size() == 1);
}

TEST_CASE("bybit: only execType Trade is trading activity", "[bybit]") {
  AdapterHarness h(Venue::kBybit);
  std::string funding = fixture("bybit/execution_linear__bybit_docs_current.json");
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
  auto out = h.ok(fixture("bybit/auth_success__bybit_docs.json"));
  CHECK(out.kind == MessageKind::kAuthResult);
  CHECK(out.success);
  out = h.ok(fixture("bybit/pong_private__bybit_docs.json"));
  CHECK(out.kind == MessageKind::kPong);
  out = h.ok(fixture("bybit/subscribe_response_private__bybit_docs.json"));
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

TEST_CASE("bybit: bad messages are rejected by reason and append no fill", "[bybit]") {
  AdapterHarness h(Venue::kBybit);
  const std::string good = fixture("bybit/execution_linear__bybit_docs_current.json");
  for (std::size_t cut : {good.size() / 2, good.size() - 4})
    h.rejects(good.substr(0, cut), ParseErrorReason::kMalformedJson);
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
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
