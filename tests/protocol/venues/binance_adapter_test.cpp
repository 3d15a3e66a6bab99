#include "protocol/venues/binance/adapter.h"

#include "core/instrument.h"
#include "tests/protocol/venues/adapter_test_support.h"
#include "tests/protocol/venues/expected_fixture.h"

namespace segmentd::testing {
namespace {

constexpr std::int64_t kMs = 1'000'000;

//! Drops // comments (outside strings) so that the docs' annotated example becomes JSON.
std::string strip_line_comments(const std::string& text) {
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size())
        out.push_back(text[++i]);
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n') ++i;
      out.push_back('\n');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// ---- The repository's own fixtures (tests/fixtures/exchanges/binance), checked against their
// hand-computed .expected.json.

TEST_CASE("fixture binance/usdm_order_trade_update_filled: USD-M maker buy, l not q or z, fee in USDT", "[binance]") {
  check_own_fixture(Venue::kBinance, "binance/usdm_order_trade_update_filled");
}

TEST_CASE("fixture binance/usdm_order_trade_update_partial: USDC pair, partial maker sell", "[binance]") {
  // fee_usd: checked by the no-commission test case below.
  check_own_fixture(Venue::kBinance, "binance/usdm_order_trade_update_partial", all_fields_but({"fee_usd"}));
}

TEST_CASE("fixture binance/usdm_order_trade_update_partial: no N and n means no commission, fee 0", "[binance]") {
  // Binance: N and n "will not push if no commission", so the fee is a known 0. The adapter
  // once reported it as unknown (NaN).
  check_own_fixture(Venue::kBinance, "binance/usdm_order_trade_update_partial", only_fields({"fee_usd"}));
}

TEST_CASE("fixture binance/usdm_order_trade_update_new: x=NEW is an order update", "[binance]") {
  check_own_fixture(Venue::kBinance, "binance/usdm_order_trade_update_new");
}

TEST_CASE("fixture binance/usdm_order_trade_update_canceled: x=CANCELED is an order update", "[binance]") {
  check_own_fixture(Venue::kBinance, "binance/usdm_order_trade_update_canceled");
}

TEST_CASE("fixture binance/usdm_order_trade_update_liquidation: x=CALCULATED is a taker fill of the account",
          "[binance]") {
  check_own_fixture(Venue::kBinance, "binance/usdm_order_trade_update_liquidation");
}

TEST_CASE("fixture binance/usdm_trade_lite: TRADE_LITE is ignored so that the execution counts once", "[binance]") {
  check_own_fixture(Venue::kBinance, "binance/usdm_trade_lite");
  // The same execution as usdm_order_trade_update_filled: only the ORDER_TRADE_UPDATE counts.
  AdapterHarness h(Venue::kBinance, "binance-sub-7");
  h.ok(own_fixture("binance/usdm_order_trade_update_filled.json"));
  h.ok(own_fixture("binance/usdm_trade_lite.json"));
  CHECK(h.fills.size() == 1);
}

TEST_CASE("fixture binance/coinm_order_trade_update_filled: COIN-M contracts x 100 USD / price, fee in BTC",
          "[binance]") {
  check_own_fixture(Venue::kBinance, "binance/coinm_order_trade_update_filled");
}

TEST_CASE("fixture binance/options_order_trade_update: array of orders, a taker and a maker fill", "[binance]") {
  SECTION("without a price tape") {
    // notional_usd: see the known-deviation test case below.
    check_own_fixture(Venue::kBinance, "binance/options_order_trade_update", all_fields_but({"notional_usd"}));
  }
  SECTION("with a price tape the underlying and the notional come from the tape") {
    struct Tape : UnderlyingPrices {
      double usd_price(UnderlyingId) const override { return 3500.0; }
    } tape;
    AdapterHarness h(Venue::kBinance, "binance-sub-7", &tape);
    h.ok(own_fixture("binance/options_order_trade_update.json"));
    REQUIRE(h.fills.size() == 2);
    check_close(h.fills[0].underlying_price, 3500.0, "underlying_price");
    check_close(h.fills[0].notional_usd, 1.2 * 3500.0, "notional_usd");  // = 4200 USD
    check_close(h.fills[1].notional_usd, 0.8 * 3500.0, "notional_usd");  // = 2800 USD
  }
}

TEST_CASE(
    "fixture binance/options_order_trade_update: no underlying price in the message, notional unknown (known "
    "deviation, issue follow-up)",
    "[binance][.deviation]") {
  // The message carries no ETH price, so without a price tape the notional is not determined
  // (null in the expectation). The adapter uses the strike instead (a design choice, see
  // protocol/venues/binance/adapter.h): 1.2 x 4000 = 4800 and 0.8 x 4000 = 3200.
  check_own_fixture(Venue::kBinance, "binance/options_order_trade_update", only_fields({"notional_usd"}));
}

TEST_CASE("fixture binance/usdm_mark_price_update: a mark and an index price and no fill", "[binance]") {
  check_own_fixture(Venue::kBinance, "binance/usdm_mark_price_update");
}

TEST_CASE("fixture binance/usdm_account_update: ACCOUNT_UPDATE states the positions that changed",
          "[binance][positions]") {
  auto h = check_own_fixture(Venue::kBinance, "binance/usdm_account_update");
  const std::vector<Fill>& r = h->adapter->positions();
  REQUIRE(r.size() == 1);  // no snapshot: no end
  CHECK(r[0].record == RecordKind::kPosition);
  CHECK(h->account_name(r[0].account) == "binance-sub-7");
  CHECK(r[0].qty == 2.5);
  CHECK(r[0].price == 3380.25);
  CHECK(r[0].underlying_price == 3380.25);              // no mark in it: the entry price gives the USD per unit
  CHECK(r[0].venue_ns == 1750434100408LL * 1'000'000);  // T, the transaction time
  // A funding fee: balances only, no position.
  const std::string funding =
      R"({"e":"ACCOUNT_UPDATE","E":1750434100413,"T":1750434100408,"a":{"m":"FUNDING_FEE","B":[{"a":"USDT","wb":"1","cw":"1","bc":"0"}]}})";
  CHECK(h->ok(funding).kind == MessageKind::kIgnored);
  CHECK(h->adapter->positions().empty());
  const std::string good = own_fixture("binance/usdm_account_update.json");
  h->rejects(replaced(good, R"("pa": "2.500")", R"("pa": 2.5)"), ParseErrorReason::kWrongType);
  h->rejects(replaced(good, R"("ps": "BOTH")", R"("ps": "EITHER")"), ParseErrorReason::kBadValue);
  h->rejects(replaced(good, R"("s": "ETHUSDT",)", ""), ParseErrorReason::kMissingField);
  CHECK(h->adapter->positions().empty());
}

TEST_CASE("binance: positionRisk is a snapshot of every symbol and hedge sides add up", "[binance][positions]") {
  AdapterHarness h(Venue::kBinance, "binance-sub-7");
  ParseError err;
  const std::string body =
      R"([{"symbol":"BTCUSDT","positionAmt":"0.010","entryPrice":"101000.0","markPrice":"101500.5","positionSide":"LONG","updateTime":1750434100408},)"
      R"({"symbol":"BTCUSDT","positionAmt":"-0.004","entryPrice":"101200.0","markPrice":"101500.5","positionSide":"SHORT","updateTime":1750434100408},)"
      R"({"symbol":"ETHUSDT","positionAmt":"0.000","entryPrice":"0.0","markPrice":"3380.1","positionSide":"BOTH","updateTime":0},)"
      R"({"symbol":"NOT-A-SYMBOL","positionAmt":"1","positionSide":"BOTH","updateTime":0}])";
  REQUIRE(h.adapter->decode_rest_positions(body, true, 1750434100000LL * 1'000'000, 1750434100000LL * 1'000'000,
                                           1750434100500LL * 1'000'000, err));
  const std::vector<Fill>& r = h.adapter->positions();
  REQUIRE(r.size() == 3);
  CHECK(r[0].qty == Approx(0.006));
  CHECK(r[0].mark_price == 101500.5);
  // As of its last update, 408 ms after the call was sent (a fill while the venue answered); the
  // flat ETH row (updateTime 0) as of the call.
  CHECK(r[0].venue_ns == 1750434100408LL * 1'000'000);
  CHECK(r[1].venue_ns == 1750434100000LL * 1'000'000);
  CHECK(r[1].qty == 0.0);
  CHECK(r[2].record == RecordKind::kPositionsEnd);
  CHECK(r[2].venue_ns == 1750434100000LL * 1'000'000);
  CHECK_FALSE(h.adapter->decode_rest_positions(R"({"code":-2015,"msg":"Invalid API-key"})", true, 1, 1, 1, err));
  CHECK(err.reason == ParseErrorReason::kUnknownMessage);
  CHECK(h.adapter->positions().empty());
  CHECK_FALSE(h.adapter->decode_rest_positions(R"([{"symbol":"BTCUSDT","positionAmt":"x"}])", true, 1, 1, 1, err));
  CHECK(err.reason == ParseErrorReason::kBadValue);
  CHECK_FALSE(h.adapter->decode_rest_positions("[{", true, 1, 1, 1, err));
  CHECK(err.reason == ParseErrorReason::kMalformedJson);
}

TEST_CASE("fixture binance/coinm_account_update: COIN-M contracts become coins at the entry price",
          "[binance][positions]") {
  auto h = check_own_fixture(Venue::kBinance, "binance/coinm_account_update");
  const std::vector<Fill>& r = h->adapter->positions();
  REQUIRE(r.size() == 1);
  CHECK(r[0].record == RecordKind::kPosition);
  CHECK(r[0].qty == Approx(-0.005));  // 5 contracts x 100 USD / 100,000
  CHECK(r[0].price == 100000.0);
  CHECK(std::abs(r[0].qty) * r[0].price == Approx(500.0));  // the USD size of the contracts
  CHECK(r[0].venue_ns == 1750434200408LL * kMs);
  const std::string good = own_fixture("binance/coinm_account_update.json");
  // Contracts without a price cannot become coins.
  h->rejects(replaced(good, R"("ep": "100000.0",)", ""), ParseErrorReason::kMissingField);
  CHECK(h->adapter->positions().empty());
  // A flat position needs no price.
  h->ok(replaced(replaced(good, R"("ep": "100000.0",)", ""), R"("pa": "-5")", R"("pa": "0")"));
  REQUIRE(h->adapter->positions().size() == 1);
  CHECK(h->adapter->positions()[0].qty == 0.0);
}

TEST_CASE("fixture binance/options_balance_position_update: the options positions that changed",
          "[binance][positions]") {
  auto h = check_own_fixture(Venue::kBinance, "binance/options_balance_position_update");
  const std::vector<Fill>& r = h->adapter->positions();
  REQUIRE(r.size() == 1);  // only what changed: no end
  CHECK(r[0].record == RecordKind::kPosition);
  CHECK(h->account_name(r[0].account) == "binance-sub-7");
  CHECK(r[0].kind == InstrumentKind::kOption);
  CHECK(r[0].qty == Approx(-0.1));
  CHECK(r[0].price == 1200.0);
  CHECK(r[0].venue_ns == 1762917544206LL * kMs);  // T
  const std::string good = own_fixture("binance/options_balance_position_update.json");
  h->rejects(replaced(good, R"("c": "-0.1000")", R"("c": -0.1)"), ParseErrorReason::kWrongType);
  h->rejects(replaced(good, R"("c": "-0.1000",)", ""), ParseErrorReason::kMissingField);
  h->rejects(replaced(good, R"("BTC-251123-126000-C")", R"("BTC-25112-126000-C")"), ParseErrorReason::kBadSymbol);
  CHECK(h->adapter->positions().empty());
  // The options account data event (equity and margin) has no position; its older shape had
  // the positions in a top-level "P".
  CHECK(
      h->ok(
           R"({"e":"ACCOUNT_UPDATE","E":1762917544216,"T":1762917544206,"eq":"10000","aeq":"10000","b":"10000","m":"0","u":"0","mm":"0","im":"0"})")
          .kind == MessageKind::kIgnored);
  CHECK(h->adapter->positions().empty());
  CHECK(
      h->ok(
           R"({"e":"ACCOUNT_UPDATE","E":1762917544216,"B":[],"G":[],"P":[{"s":"BTC-251123-126000-C","c":"2","r":"2","p":"2400","a":"1200"}],"uid":1})")
          .kind == MessageKind::kPositions);
  REQUIRE(h->adapter->positions().size() == 1);
  CHECK(h->adapter->positions()[0].qty == 2.0);
  CHECK(h->adapter->positions()[0].venue_ns == 1762917544216LL * kMs);  // no T: E
  // BALANCE_POSITION_UPDATE without its list is not what the venue sends.
  h->rejects(R"({"e":"BALANCE_POSITION_UPDATE","E":1762917544216,"T":1762917544206,"m":"ORDER","B":[]})",
             ParseErrorReason::kMissingField);
}

TEST_CASE("binance: COIN-M positionRisk in contracts and the options position list", "[binance][positions]") {
  AdapterHarness h(Venue::kBinance, "binance-sub-7");
  ParseError err;
  const std::string coinm =
      R"([{"symbol":"BTCUSD_PERP","positionAmt":"12","entryPrice":"99000.0","markPrice":"100000.0","positionSide":"BOTH","updateTime":1750434100408},)"
      R"({"symbol":"ETHUSD_PERP","positionAmt":"0","entryPrice":"0.0","markPrice":"0","positionSide":"BOTH","updateTime":0}])";
  REQUIRE(h.adapter->decode_rest_positions(coinm, true, 1750434100000LL * kMs, 1750434100000LL * kMs,
                                           1750434100500LL * kMs, err));
  const std::vector<Fill>& r = h.adapter->positions();
  REQUIRE(r.size() == 3);
  CHECK(r[0].qty == Approx(0.012));  // 12 x 100 USD / the mark
  CHECK(r[0].mark_price == 100000.0);
  CHECK(r[1].qty == 0.0);
  CHECK(r[2].record == RecordKind::kPositionsEnd);
  CHECK_FALSE(h.adapter->decode_rest_positions(R"([{"symbol":"BTCUSD_PERP","positionAmt":"12","positionSide":"BOTH"}])",
                                               true, 1, 1, 1, err));
  CHECK(err.reason == ParseErrorReason::kMissingField);  // contracts without any price
  const std::string options =
      R"([{"entryPrice":"1000","symbol":"BTC-251123-126000-C","side":"SHORT","quantity":"-0.1","markValue":"105.00138",)"
      R"("unrealizedPNL":"-5.00138","markPrice":"1050.0138","strikePrice":"126000","expiryDate":1763884800000,)"
      R"("priceScale":2,"quantityScale":2,"optionSide":"CALL","quoteAsset":"USDT","time":1762872654561}])";
  REQUIRE(h.adapter->decode_rest_positions(options, true, 1762872655000LL * kMs, 1762872655000LL * kMs,
                                           1762872655100LL * kMs, err));
  REQUIRE(r.size() == 2);
  CHECK(r[0].kind == InstrumentKind::kOption);
  CHECK(r[0].qty == Approx(-0.1));
  CHECK(r[0].price == 1000.0);
  CHECK(r[0].mark_price == 1050.0138);
  CHECK(r[1].record == RecordKind::kPositionsEnd);
  CHECK(r[1].venue_ns == 1762872655000LL * kMs);
  CHECK_FALSE(
      h.adapter->decode_rest_positions(R"([{"symbol":"BTC-251123-126000-C","side":"SHORT"}])", true, 1, 1, 1, err));
  CHECK(err.reason == ParseErrorReason::kMissingField);
}

TEST_CASE("fixture binance/listen_key_expired: the stream ended, a venue error", "[binance]") {
  check_own_fixture(Venue::kBinance, "binance/listen_key_expired");
}

TEST_CASE("fixture binance/usdm_order_trade_update_filled: altered, it is rejected by reason and appends no fill",
          "[binance]") {
  AdapterHarness h(Venue::kBinance);
  const std::string good = own_fixture("binance/usdm_order_trade_update_filled.json");
  for (std::size_t cut : {good.size() / 3, good.size() / 2, good.size() - 2}) {
    h.rejects(good.substr(0, cut), ParseErrorReason::kMalformedJson);
  }
  auto with = [&](const std::string& from, const std::string& to) { return replaced(good, from, to); };
  h.rejects(with(R"("l": "1.500")", R"("l": 1.5)"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("l": "1.500")", R"("l": "one")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("L": "3380.25")", R"("L": "0")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("t": 5520931847,)", ""), ParseErrorReason::kMissingField);
  h.rejects(with(R"("m": true)", R"("m": "yes")"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("S": "BUY")", R"("S": "LONG")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("s": "ETHUSDT")", R"("s": "ETH")"), ParseErrorReason::kBadSymbol);
  h.rejects(with(R"("o": {)", R"("o": 5, "x": {)"), ParseErrorReason::kWrongType);
  h.rejects(R"({"hello":"world"})", ParseErrorReason::kUnknownMessage);
  CHECK(h.fills.empty());
}

// ---- Third-party samples (../shared/fixtures/exchanges/binance) and hand-written messages.

TEST_CASE("binance: USD-M ORDER_TRADE_UPDATE x=TRADE, filled", "[binance]") {
  const auto msg = shared_fixture_or_skip("binance/usdm_order_trade_update_trade_filled__nautilus.json");
  if (!msg) return;
  AdapterHarness h(Venue::kBinance, "binance-sub-7");
  const auto out = h.ok(*msg);
  CHECK(out.kind == MessageKind::kFills);
  REQUIRE(h.fills.size() == 1);
  ExpectedFill e;
  e.account = "binance-sub-7";
  e.symbol = "ETHUSDT";
  e.kind = InstrumentKind::kPerpetual;
  e.side = Side::kBuy;
  e.liquidity = Liquidity::kMaker;   // "m": true
  e.qty = 1.0;                       // "l": last filled quantity in ETH
  e.price = 2500.0;                  // "L"
  e.notional_usd = 1.0 * 2500.0;     // USDT-quoted: qty × price
  e.fee_usd = 0.5;                   // "n" 0.5 in "N" USDT
  e.venue_ns = 1709654401000 * kMs;  // order "T"
  e.trade_id = trade_hash("binance:ETHUSDT:98765432");
  check_fill(h, h.fills[0], e);
}

TEST_CASE("binance: USD-M ORDER_TRADE_UPDATE x=TRADE, partially filled", "[binance]") {
  const auto msg = shared_fixture_or_skip("binance/usdm_order_trade_update_trade_partial__nautilus.json");
  if (!msg) return;
  AdapterHarness h(Venue::kBinance);
  h.ok(*msg);
  REQUIRE(h.fills.size() == 1);
  ExpectedFill e;
  e.account = "acct-1";
  e.symbol = "BTCUSDT";
  e.kind = InstrumentKind::kPerpetual;
  e.side = Side::kBuy;
  e.liquidity = Liquidity::kMaker;
  e.qty = 0.001;  // "l" (not "q" 0.002, the order size, nor "z")
  e.price = 7100.50;
  e.notional_usd = 0.001 * 7100.50;  // = 7.1005 USD
  e.fee_usd = 0.01;
  e.venue_ns = 1568879465651 * kMs;
  e.trade_id = trade_hash("binance:BTCUSDT:12345678");
  check_fill(h, h.fills[0], e);
}

TEST_CASE("binance: TRADE_LITE is ignored on purpose, x=NEW is an order update", "[binance]") {
  const auto lite = shared_fixture_or_skip("binance/usdm_trade_lite__nautilus.json");
  if (!lite) return;
  AdapterHarness h(Venue::kBinance);
  auto out = h.ok(*lite);
  CHECK(out.kind == MessageKind::kIgnored);
  const std::string annotated = shared_fixture("binance/usdm_order_trade_update_new__docs_with_comments.jsonc");
  h.rejects(annotated, ParseErrorReason::kMalformedJson);  // the docs' comments are not JSON
  out = h.ok(strip_line_comments(annotated));
  CHECK(out.kind == MessageKind::kOrderUpdate);
  CHECK(out.skipped == 1);
  CHECK(h.fills.empty());
}

//! A USD-M liquidation execution, in the shape Binance documents for ORDER_TRADE_UPDATE: the
//! liquidation engine's order ("c" autoclose-..., order type LIQUIDATION) with execution type
//! "CALCULATED". Written by hand; `t_field` and `m_field` vary the trade id and maker flag.
std::string liquidation_update(const std::string& t_field, const std::string& m_field) {
  return R"({"e":"ORDER_TRADE_UPDATE","E":1709654402001,"T":1709654402000,"o":{"s":"BTCUSDT",)"
         R"("c":"autoclose-1709654401999123","S":"SELL","o":"LIQUIDATION","f":"IOC","q":"0.050",)"
         R"("p":"61500.00","ap":"61480.20","sp":"0","x":"CALCULATED","X":"FILLED","i":4123456789,)"
         R"("l":"0.050","z":"0.050","L":"61480.20","N":"USDT","n":"1.53700500","T":1709654402000,)" +
         t_field + R"("b":"0","a":"0",)" + m_field +
         R"("R":false,"wt":"CONTRACT_PRICE","ot":"LIQUIDATION","ps":"BOTH","cp":false,"rp":"-120.50000000",)"
         R"("pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}})";
}

TEST_CASE("binance: USD-M x=CALCULATED (liquidation execution) is a taker fill of the account", "[binance]") {
  AdapterHarness h(Venue::kBinance, "binance-sub-3");
  ExpectedFill e;
  e.account = "binance-sub-3";
  e.symbol = "BTCUSDT";
  e.kind = InstrumentKind::kPerpetual;
  e.side = Side::kSell;              // "S": the long position was sold off
  e.liquidity = Liquidity::kTaker;   // a liquidation always takes liquidity
  e.qty = 0.05;                      // "l" in BTC
  e.price = 61480.20;                // "L"
  e.notional_usd = 0.05 * 61480.20;  // USDT-quoted: 3074.01 USD
  e.fee_usd = 1.537005;              // "n" in "N" USDT (0.05 % of 3074.01)
  e.venue_ns = 1709654402000 * kMs;  // order "T"

  SECTION("with a trade id") {
    const auto out = h.ok(liquidation_update(R"("t":5012345678,)", R"("m":false,)"));
    CHECK(out.kind == MessageKind::kFills);
    CHECK(out.fills == 1);
    CHECK(std::string(out.reason).find("CALCULATED") != std::string::npos);
    REQUIRE(h.fills.size() == 1);
    e.trade_id = trade_hash("binance:BTCUSDT:5012345678");
    check_fill(h, h.fills[0], e);
    // Replayed after a reconnect: the same trade, dropped as a duplicate.
    const auto again = h.ok(liquidation_update(R"("t":5012345678,)", R"("m":false,)"));
    CHECK(again.duplicates == 1);
    CHECK(h.fills.size() == 1);
  }
  SECTION("with trade id 0 it is keyed by the liquidation order id; a maker flag does not make it maker") {
    h.ok(liquidation_update(R"("t":0,)", R"("m":true,)"));
    REQUIRE(h.fills.size() == 1);
    e.trade_id = trade_hash("binance:BTCUSDT:liquidation:4123456789");
    check_fill(h, h.fills[0], e);
  }
  SECTION("without a trade id field it is keyed by the order id as well") {
    h.ok(liquidation_update("", R"("m":false,)"));
    REQUIRE(h.fills.size() == 1);
    CHECK(h.fills[0].trade_id == trade_hash("binance:BTCUSDT:liquidation:4123456789"));
  }
}

TEST_CASE("binance: USD-M x=EXPIRED, AMENDMENT, CANCELED are order updates with their reason", "[binance]") {
  AdapterHarness h(Venue::kBinance);
  for (const std::string x : {"EXPIRED", "AMENDMENT", "CANCELED", "NEW", "SOMETHING_NEW"}) {
    INFO(x);
    const std::string msg =
        R"({"e":"ORDER_TRADE_UPDATE","E":1709654402001,"T":1709654402000,"o":{"s":"BTCUSDT","c":"abc","S":"BUY",)"
        R"("o":"LIMIT","f":"GTX","q":"0.010","p":"61000.00","ap":"0","sp":"0","x":")" +
        x +
        R"(","X":"EXPIRED","i":4123456790,"l":"0","z":"0","L":"0","n":"0","N":"USDT","T":1709654402000,"t":0,)"
        R"("m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0"}})";
    const auto out = h.ok(msg);
    CHECK(out.kind == MessageKind::kOrderUpdate);
    CHECK(out.skipped == 1);
    const std::string reason(out.reason);
    if (x == "SOMETHING_NEW")
      CHECK(reason.find("do not know") != std::string::npos);
    else
      CHECK(reason.find("x=" + x) != std::string::npos);
  }
  CHECK(h.fills.empty());
}

TEST_CASE("binance: options ORDER_TRADE_UPDATE, array of orders with fills", "[binance]") {
  const auto sample = shared_fixture_or_skip("binance/eapi_options_order_trade_update__go_binance_test.json");
  if (!sample) return;
  const std::string& msg = *sample;
  ExpectedFill e;
  e.account = "acct-1";
  e.symbol = "BTC-220930-18000-C";
  e.kind = InstrumentKind::kOption;
  e.side = Side::kBuy;               // order "q": "1" > 0
  e.liquidity = Liquidity::kMaker;   // fill "m": "MAKER"
  e.qty = 0.1;                       // fill "q" 0.1 contracts × 1 BTC
  e.price = 1993.0;                  // premium in USDT
  e.fee_usd = 0.0002;                // fill "f" in USDT
  e.venue_ns = 1657613774336 * kMs;  // fill "T"
  e.trade_id = trade_hash("binance:BTC-220930-18000-C:20");

  SECTION("without a price tape the strike stands in for the underlying") {
    AdapterHarness h(Venue::kBinance);
    const auto out = h.ok(msg);
    CHECK(out.kind == MessageKind::kFills);
    REQUIRE(h.fills.size() == 1);
    e.notional_usd = 0.1 * 18000.0;  // = 1800 USD
    check_fill(h, h.fills[0], e);
    CHECK(h.fills[0].strike == 18000.0);
    CHECK(h.fills[0].expiry_ns == expiry_at_0800_utc(2022, 9, 30));
  }
  SECTION("with a price tape the notional uses the underlying's price") {
    struct Tape : UnderlyingPrices {
      double usd_price(UnderlyingId) const override { return 20000.0; }
    } tape;
    AdapterHarness h(Venue::kBinance, "acct-1", &tape);
    h.ok(msg);
    REQUIRE(h.fills.size() == 1);
    e.underlying_price = 20000.0;
    e.notional_usd = 0.1 * 20000.0;  // = 2000 USD
    check_fill(h, h.fills[0], e);
  }
  SECTION("a sell order (negative q) gives a sell fill; a repeated update is a duplicate") {
    AdapterHarness h(Venue::kBinance);
    std::string sell = msg;
    sell.replace(sell.find("\"q\":\"1\""), 7, "\"q\":\"-1\"");
    h.ok(sell);
    REQUIRE(h.fills.size() == 1);
    CHECK(h.fills[0].side == Side::kSell);
    const auto out = h.ok(sell);
    CHECK(out.duplicates == 1);
    CHECK(h.fills.size() == 1);
  }
}

TEST_CASE("binance: envelopes, responses and other events", "[binance]") {
  AdapterHarness h(Venue::kBinance);
  const std::string trade = own_fixture("binance/usdm_order_trade_update_filled.json");
  auto out = h.ok(R"({"stream":"pqia91ma19a5s61cv6a81va65sdf19v8a65a1","data":)" + trade + "}");
  CHECK(out.kind == MessageKind::kFills);
  CHECK(h.fills.size() == 1);
  out = h.ok(R"({"e":"listenKeyExpired","E":1576653824250,"listenKey":"abc"})");
  CHECK(out.kind == MessageKind::kVenueError);
  out = h.ok(R"({"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":{"m":"ORDER","B":[],"P":[]}})");
  CHECK(out.kind == MessageKind::kIgnored);
  out = h.ok(R"({"e":"SOMETHING_NEW","E":1})");
  CHECK(out.kind == MessageKind::kUnknown);
  out = h.ok(R"({"result":null,"id":3})");
  CHECK(out.kind == MessageKind::kSubscriptionAck);
  CHECK(out.request_id == 3);
  out = h.ok(R"({"code":-1121,"msg":"Invalid symbol."})");
  CHECK(out.kind == MessageKind::kVenueError);
  CHECK(out.venue_code == -1121);
}

TEST_CASE("binance: the third-party sample in a combined-stream envelope", "[binance]") {
  const auto trade = shared_fixture_or_skip("binance/usdm_order_trade_update_trade_filled__nautilus.json");
  if (!trade) return;
  AdapterHarness h(Venue::kBinance);
  const auto out = h.ok(R"({"stream":"pqia91ma19a5s61cv6a81va65sdf19v8a65a1","data":)" + *trade + "}");
  CHECK(out.kind == MessageKind::kFills);
  CHECK(h.fills.size() == 1);
}

TEST_CASE("binance: bad messages are rejected by reason and append no fill", "[binance]") {
  const auto sample = shared_fixture_or_skip("binance/usdm_order_trade_update_trade_filled__nautilus.json");
  if (!sample) return;
  AdapterHarness h(Venue::kBinance);
  const std::string& good = *sample;
  for (std::size_t cut : {good.size() / 3, good.size() / 2, good.size() - 2}) {
    h.rejects(good.substr(0, cut), ParseErrorReason::kMalformedJson);
  }
  auto with = [&](const std::string& from, const std::string& to) { return replaced(good, from, to); };
  h.rejects(with(R"("l": "1.000")", R"("l": 1.0)"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("l": "1.000")", R"("l": "one")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("L": "2500.00")", R"("L": "0")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("t": 98765432,)", ""), ParseErrorReason::kMissingField);
  h.rejects(with(R"("m": true)", R"("m": "yes")"), ParseErrorReason::kWrongType);
  h.rejects(with(R"("S": "BUY")", R"("S": "LONG")"), ParseErrorReason::kBadValue);
  h.rejects(with(R"("s": "ETHUSDT")", R"("s": "ETH")"), ParseErrorReason::kBadSymbol);
  h.rejects(with(R"("o": {)", R"("o": 5, "x": {)"), ParseErrorReason::kWrongType);
  h.rejects(R"({"hello":"world"})", ParseErrorReason::kUnknownMessage);
  CHECK(h.fills.empty());
}

}  // namespace
}  // namespace segmentd::testing

// ---- Public market data (issue 20, item 4): the USD-M raw market streams' aggTrade and
// markPriceUpdate events, in the shapes of Binance's USD-M futures docs (Websocket Market Streams).

namespace segmentd::testing {
namespace {

TEST_CASE("binance: aggregate trades and mark price updates are prices for the tape", "[binance][market_data]") {
  AdapterHarness h(Venue::kBinance, "");
  auto out = h.ok(R"({"e":"aggTrade","E":123456789,"s":"BTCUSDT","a":5933014,"p":"0.001","q":"100","f":100,)"
                  R"("l":105,"T":123456785,"m":true})");
  CHECK(out.kind == MessageKind::kMarketData);
  CHECK(h.fills.empty());
  auto md = h.adapter->market_data();
  REQUIRE(md.size() == 1);
  CHECK(md[0].instrument == *h.instruments.resolve(Venue::kBinance, "BTCUSDT"));
  CHECK(md[0].price == 0.001);
  CHECK(md[0].venue_ns == 123456785 * kMs);
  CHECK(md[0].recv_ns == kRecvNs);
  CHECK(std::isnan(md[0].mark_price));

  out = h.ok(R"({"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","ap":"11794.15000000",)"
             R"("i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000})");
  CHECK(out.kind == MessageKind::kMarketData);
  md = h.adapter->market_data();
  REQUIRE(md.size() == 1);
  CHECK(md[0].mark_price == 11794.15);
  CHECK(md[0].underlying_price == 11784.62659091);
  CHECK(std::isnan(md[0].price));
  CHECK(md[0].venue_ns == 1562305380000 * kMs);  // the event time; "T" is the next funding time

  // In a combined-stream envelope, and the SUBSCRIBE's answer.
  out = h.ok(R"({"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":2,"s":"BTCUSDT","a":1,"p":"42000.5",)"
             R"("q":"0.01","f":1,"l":1,"T":1,"m":false}})");
  CHECK(out.kind == MessageKind::kMarketData);
  REQUIRE(h.adapter->market_data().size() == 1);
  CHECK(h.adapter->market_data()[0].price == 42000.5);
  out = h.ok(R"({"result":null,"id":1})");
  CHECK(out.kind == MessageKind::kSubscriptionAck);
  CHECK(h.adapter->market_data().empty());
}

TEST_CASE("binance: bad market data is refused by name and leaves nothing", "[binance][market_data]") {
  AdapterHarness h(Venue::kBinance, "");
  h.rejects(R"({"e":"aggTrade","E":1,"s":"BTCUSDT","q":"1","T":1})", ParseErrorReason::kMissingField);
  h.rejects(R"({"e":"aggTrade","E":1,"p":"5","q":"1","T":1})", ParseErrorReason::kMissingField);
  h.rejects(R"({"e":"aggTrade","E":1,"s":"BTCUSDT","p":"-5","T":1})", ParseErrorReason::kBadValue);
  h.rejects(R"({"e":"aggTrade","E":1,"s":"BTCUSDT","p":5,"T":1})", ParseErrorReason::kWrongType);
  h.rejects(R"({"e":"aggTrade","E":1,"s":"NOT_A_SYMBOL","p":"5","T":1})", ParseErrorReason::kBadSymbol);
  h.rejects(R"({"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"5","i":"0"})", ParseErrorReason::kBadValue);
  h.rejects(R"({"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"x"})", ParseErrorReason::kBadValue);
  CHECK(h.adapter->market_data().empty());
}

}  // namespace
}  // namespace segmentd::testing
