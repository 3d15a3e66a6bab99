// The venues' REST trade history (protocol/venues/<venue>/history.h): request signatures against
// the venues' documented examples, and each documented answer rewritten into the stream message
// that the venue's own adapter decodes into the same fills (same trade ids) as its stream would.
#include <catch2/catch.hpp>

#include "protocol/hmac.h"
#include "protocol/venues/binance/history.h"
#include "protocol/venues/bybit/history.h"
#include "protocol/venues/deribit/history.h"
#include "protocol/venues/hyperliquid/history.h"
#include "protocol/venues/okx/history.h"
#include "tests/protocol/venues/adapter_test_support.h"

using namespace segmentd;
using segmentd::testing::AdapterHarness;
using segmentd::testing::trade_hash;

namespace {

//! Decodes every stream message of a page with the venue's adapter; all must be good.
std::vector<Fill> decode_page(Venue venue, const control::HistoryPage& page, const std::string& account = "acct-1") {
  AdapterHarness h(venue, account);
  for (const std::string& m : page.stream_messages) {
    INFO(m);
    REQUIRE(h.decode(m));
  }
  return h.fills;
}

}  // namespace

TEST_CASE("binance: the SIGNED query signature is the documented one", "[protocol][history]") {
  // Binance API docs, "SIGNED Endpoint Examples for POST /api/v3/order".
  const std::string secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
  const std::string query =
      "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
  CHECK(control::binance_query_signature(secret, query) ==
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
  CHECK(control::verify_binance_query_signature(
      query + "&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71", secret));
  CHECK_FALSE(control::verify_binance_query_signature(
      query + "&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b72", secret));
  const auto call =
      control::binance_user_trades_request("KEY", secret, "BTCUSDT", 1569514978000, -1, 1000, 1569514979000);
  CHECK(call.target ==
        "/fapi/v1/userTrades?symbol=BTCUSDT&startTime=1569514978000&limit=1000&recvWindow=5000&timestamp=1569514979000"
        "&signature=" +
            control::binance_query_signature(secret,
                                             "symbol=BTCUSDT&startTime=1569514978000&limit=1000&recvWindow=5000"
                                             "&timestamp=1569514979000"));
  const auto by_id = control::binance_user_trades_request("KEY", secret, "BTCUSDT", 0, 698760, 1000, 1569514979000);
  CHECK(by_id.target.find("fromId=698760") != std::string::npos);
  CHECK(by_id.target.find("startTime") == std::string::npos);  // fromId is not sent with a time
}

TEST_CASE("binance: a userTrades answer decodes as the ORDER_TRADE_UPDATE of the same trade", "[protocol][history]") {
  // The documented answer of GET /fapi/v1/userTrades.
  const std::string body =
      R"([{"buyer":false,"commission":"-0.07819010","commissionAsset":"USDT","id":698759,"maker":false,)"
      R"("orderId":25851813,"price":"7819.01","qty":"0.002","quoteQty":"15.63802","realizedPnl":"-0.91539999",)"
      R"("side":"SELL","positionSide":"SHORT","symbol":"BTCUSDT","time":1569514978020}])";
  control::HistoryPage page;
  ParseError err;
  REQUIRE(control::parse_binance_user_trades(body, 1000, page, err));
  CHECK(page.trades == 1);
  CHECK_FALSE(page.more);  // shorter than the limit
  CHECK(page.cursor == "698760");
  CHECK(page.last_time_ms == 1569514978020);
  const auto fills = decode_page(Venue::kBinance, page);
  REQUIRE(fills.size() == 1);
  CHECK(fills[0].side == Side::kSell);
  CHECK(fills[0].price == 7819.01);
  CHECK(fills[0].qty == Approx(0.002));
  CHECK(fills[0].liquidity == Liquidity::kTaker);
  CHECK(fills[0].venue_ns == 1569514978020LL * 1'000'000);
  // The stream's ORDER_TRADE_UPDATE of the same trade has the same trade id.
  AdapterHarness stream(Venue::kBinance);
  REQUIRE(stream.decode(
      R"({"e":"ORDER_TRADE_UPDATE","E":1569514978021,"T":1569514978020,"o":{"s":"BTCUSDT","S":"SELL","x":"TRADE",)"
      R"("X":"FILLED","i":25851813,"l":"0.002","L":"7819.01","N":"USDT","n":"0.0781901","T":1569514978020,)"
      R"("t":698759,"m":false}})"));
  REQUIRE(stream.fills.size() == 1);
  CHECK(stream.fills[0].trade_id == fills[0].trade_id);
  // And both are the dedup key of the raw ids in the answer (symbol, id), not just equal.
  CHECK(fills[0].trade_id == trade_hash("binance:BTCUSDT:698759"));
  // Errors are the venue's: a rate limit is not a page.
  CHECK_FALSE(control::parse_binance_user_trades(R"({"code":-1003,"msg":"Too many requests"})", 1000, page, err));
  CHECK_FALSE(control::parse_binance_user_trades(R"([{"id":1)", 1000, page, err));
  CHECK(err.reason == ParseErrorReason::kMalformedJson);
}

TEST_CASE("binance options: userTrades for every symbol signed and read as the stream's event", "[protocol][history]") {
  const std::string secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
  // No symbol: one call covers every option of the account. Always a start point: without
  // startTime or fromId the venue answers only the most recent trades.
  const auto call = control::binance_options_user_trades_request("KEY", secret, 1592465880000, -1, 1000, 1592465881000);
  const std::string query = "startTime=1592465880000&limit=1000&recvWindow=5000&timestamp=1592465881000";
  CHECK(call.target == "/eapi/v1/userTrades?" + query + "&signature=" + control::hmac_sha256_hex(secret, query));
  CHECK(call.method == "GET");
  REQUIRE(call.headers.size() == 1);
  CHECK(call.headers[0].first == "X-MBX-APIKEY");
  CHECK(call.headers[0].second == "KEY");
  CHECK(control::verify_binance_query_signature(call.target.substr(call.target.find('?') + 1), secret));
  const auto by_id =
      control::binance_options_user_trades_request("KEY", secret, 0, 4611875134427365378, 1000, 1592465881000);
  CHECK(by_id.target.rfind("/eapi/v1/userTrades?fromId=4611875134427365378&limit=1000&", 0) == 0);
  CHECK(by_id.target.find("startTime") == std::string::npos);

  // The documented answer of GET /eapi/v1/userTrades, and a sell of a put after it.
  const std::string body =
      R"([{"id":4611875134427365377,"tradeId":239,"orderId":4611875134427365377,"symbol":"BTC-220722-19000-C",)"
      R"("price":"100","quantity":"1","fee":"0","realizedProfit":"0.00000000","side":"BUY","type":"LIMIT",)"
      R"("volatility":"0.9","liquidity":"TAKER","quoteAsset":"USDT","time":1592465880683,"priceScale":2,)"
      R"("quantityScale":2,"optionSide":"CALL"},)"
      R"({"id":4611875134427365390,"tradeId":20,"orderId":4611875134427365391,"symbol":"BTC-220930-18000-P",)"
      R"("price":"1993","quantity":"0.1","fee":"0.0002","realizedProfit":"0","side":"SELL","type":"LIMIT",)"
      R"("volatility":"0.7","liquidity":"MAKER","quoteAsset":"USDT","time":1657613774336,"priceScale":0,)"
      R"("quantityScale":2,"optionSide":"PUT"}])";
  control::HistoryPage page;
  ParseError err;
  REQUIRE(control::parse_binance_options_user_trades(body, 1000, page, err));
  CHECK(page.trades == 2);
  CHECK_FALSE(page.more);
  CHECK(page.cursor == "4611875134427365391");  // fromId of the next page: the last id + 1
  CHECK(page.first_time_ms == 1592465880683);
  CHECK(page.last_time_ms == 1657613774336);
  const auto fills = decode_page(Venue::kBinance, page);
  REQUIRE(fills.size() == 2);
  CHECK(fills[0].kind == InstrumentKind::kOption);
  CHECK(fills[0].side == Side::kBuy);
  CHECK(fills[0].price == 100);
  CHECK(fills[0].qty == Approx(1));
  CHECK(fills[0].liquidity == Liquidity::kTaker);
  CHECK(fills[0].venue_ns == 1592465880683LL * 1'000'000);
  CHECK(fills[0].trade_id == trade_hash("binance:BTC-220722-19000-C:239"));
  CHECK(fills[1].side == Side::kSell);
  CHECK(fills[1].option_type == OptionType::kPut);
  CHECK(fills[1].qty == Approx(0.1));
  CHECK(fills[1].fee_usd == Approx(0.0002));
  CHECK(fills[1].liquidity == Liquidity::kMaker);
  // The stream's event of the same trade (the venue's documented ORDER_TRADE_UPDATE, with the
  // put's symbol) decodes to the same trade id: the gap-fill and the stream de-duplicate.
  AdapterHarness stream(Venue::kBinance);
  REQUIRE(stream.decode(
      R"({"e":"ORDER_TRADE_UPDATE","E":1657613775883,"o":[{"T":1657613342918,"t":1657613342918,)"
      R"("s":"BTC-220930-18000-P","c":"","oid":"4611869636869226548","p":"1993","q":"-1","stp":0,"r":false,)"
      R"("po":true,"S":"PARTIALLY_FILLED","e":"0.1","ec":"199.3","f":"2","tif":"GTC","oty":"LIMIT",)"
      R"("fi":[{"t":"20","p":"1993","q":"0.1","T":1657613774336,"m":"MAKER","f":"0.0002"}]}]})"));
  REQUIRE(stream.fills.size() == 1);
  CHECK(stream.fills[0].trade_id == fills[1].trade_id);
  CHECK(stream.fills[0].side == fills[1].side);
  CHECK(stream.fills[0].qty == fills[1].qty);
  CHECK(stream.fills[0].price == fills[1].price);
  CHECK(stream.fills[0].venue_ns == fills[1].venue_ns);
  // A page as long as the limit says more may follow.
  REQUIRE(control::parse_binance_options_user_trades(body, 2, page, err));
  CHECK(page.more);
  // An empty page ends the paging.
  REQUIRE(control::parse_binance_options_user_trades("[]", 1000, page, err));
  CHECK(page.trades == 0);
  CHECK(page.cursor.empty());
  // Errors: the venue's code, a trade without its tradeId, a side that is neither.
  CHECK_FALSE(
      control::parse_binance_options_user_trades(R"({"code":-1003,"msg":"Too many requests"})", 1000, page, err));
  CHECK_THAT(err.detail, Catch::Contains("venue error -1003"));
  CHECK_FALSE(control::parse_binance_options_user_trades(
      R"([{"id":1,"symbol":"BTC-220722-19000-C","price":"1","quantity":"1","side":"BUY","time":1}])", 1000, page, err));
  CHECK(err.reason == ParseErrorReason::kMissingField);
  CHECK_FALSE(control::parse_binance_options_user_trades(
      R"([{"id":1,"tradeId":2,"symbol":"BTC-220722-19000-C","price":"1","quantity":"1","side":"HOLD","time":1}])", 1000,
      page, err));
  CHECK(err.reason == ParseErrorReason::kBadValue);
  CHECK_FALSE(control::parse_binance_options_user_trades(R"([{"id":1)", 1000, page, err));
  CHECK(err.reason == ParseErrorReason::kMalformedJson);
}

TEST_CASE("okx: REST signature, ISO timestamp and a fills answer read as an orders push", "[protocol][history]") {
  CHECK(control::okx_iso_timestamp(1607418537715) == "2020-12-08T09:08:57.715Z");
  CHECK(control::okx_iso_timestamp(1700000000005) == "2023-11-14T22:13:20.005Z");
  const auto call = control::okx_fills_request("KEY", "SECRET", "PASS", 1597026383000, "", 100, 1607418537715);
  CHECK(call.target == "/api/v5/trade/fills?begin=1597026383000&limit=100");
  bool signed_right = false;
  for (const auto& [k, v] : call.headers)
    if (k == "OK-ACCESS-SIGN")
      signed_right = v == control::hmac_sha256_base64(
                              "SECRET", "2020-12-08T09:08:57.715ZGET/api/v5/trade/fills?begin=1597026383000&limit=100");
  CHECK(signed_right);
  // A fill as GET /api/v5/trade/fills lists it (fee = this fill's, negative = charged).
  const std::string body =
      R"({"code":"0","msg":"","data":[{"side":"buy","fillSz":"1","fillPx":"62000.1","fee":"-0.0031",)"
      R"("ordId":"680800019749904384","instType":"SWAP","instId":"BTC-USDT-SWAP","clOrdId":"","posSide":"net",)"
      R"("billId":"680800019754098688","fillMarkVol":"","tag":"","fillTime":"1708587373361","execType":"T",)"
      R"("fillIdxPx":"","tradeId":"744876980","fillMarkPx":"","feeCcy":"USDT","fillPnl":"0","ts":"1708587373362",)"
      R"("fillPxVol":"","fillFwdPx":"","fillPxUsd":"","subType":"1"}]})";
  control::HistoryPage page;
  ParseError err;
  REQUIRE(control::parse_okx_fills(body, 100, page, err));
  CHECK(page.trades == 1);
  CHECK(page.cursor == "680800019754098688");
  CHECK_FALSE(page.more);
  const auto fills = decode_page(Venue::kOkx, page);
  REQUIRE(fills.size() == 1);
  CHECK(fills[0].side == Side::kBuy);
  CHECK(fills[0].price == 62000.1);
  CHECK(fills[0].qty == Approx(0.01));        // 1 contract of 0.01 BTC
  CHECK(fills[0].fee_usd == Approx(0.0031));  // the fill's fee, paid
  CHECK(fills[0].venue_ns == 1708587373361LL * 1'000'000);
  CHECK(fills[0].trade_id == trade_hash("okx:BTC-USDT-SWAP:744876980"));  // instId, tradeId of the answer
  CHECK_FALSE(control::parse_okx_fills(R"({"code":"50011","msg":"Rate limit reached.","data":[]})", 100, page, err));
}

TEST_CASE("bybit: REST signature and an execution list read as the execution topic", "[protocol][history]") {
  const auto call =
      control::bybit_execution_list_request("KEY", "SECRET", "linear", 1000, 2000, "page%3A2", 100, 1672211918471);
  CHECK(call.target == "/v5/execution/list?category=linear&startTime=1000&endTime=2000&limit=100&cursor=page%3A2");
  bool signed_right = false;
  for (const auto& [k, v] : call.headers)
    if (k == "X-BAPI-SIGN")
      signed_right =
          v ==
          control::hmac_sha256_hex(
              "SECRET", "1672211918471KEY5000category=linear&startTime=1000&endTime=2000&limit=100&cursor=page%3A2");
  CHECK(signed_right);
  // The documented answer of GET /v5/execution/list (category linear).
  const std::string body =
      R"({"retCode":0,"retMsg":"OK","result":{"nextPageCursor":"132766%3A2%2C132766%3A2","category":"linear",)"
      R"("list":[{"symbol":"ETHUSDT","orderType":"Market","underlyingPrice":"","orderLinkId":"","side":"Buy",)"
      R"("indexPrice":"","orderId":"8c065341-7b52-4ca9-ac2c-37e31ac55c94","stopOrderType":"UNKNOWN",)"
      R"("leavesQty":"0","execTime":"1672282722429","feeCurrency":"USDT","isMaker":false,"execFee":"0.071409",)"
      R"("feeRate":"0.0006","execId":"e0cbe81d-0f18-5866-9415-cf319b5dab3b","tradeIv":"","blockTradeId":"",)"
      R"("markPrice":"1183.54","execPrice":"1190.15","markIv":"","orderQty":"0.1","orderPrice":"1236.9",)"
      R"("execValue":"119.015","execType":"Trade","execQty":"0.1","closedSize":"","seq":4688002127}]},)"
      R"("retExtInfo":{},"time":1672283754510})";
  control::HistoryPage page;
  ParseError err;
  REQUIRE(control::parse_bybit_execution_list(body, page, err));
  CHECK(page.trades == 1);
  CHECK(page.more);
  CHECK(page.cursor == "132766%3A2%2C132766%3A2");
  const auto fills = decode_page(Venue::kBybit, page);
  REQUIRE(fills.size() == 1);
  // The dedup key of the answer's execId, as the execution topic's push of it has it.
  CHECK(fills[0].trade_id == trade_hash("bybit:e0cbe81d-0f18-5866-9415-cf319b5dab3b"));
  CHECK(fills[0].price == 1190.15);
  CHECK(fills[0].qty == Approx(0.1));
  CHECK(fills[0].side == Side::kBuy);
  CHECK_FALSE(control::parse_bybit_execution_list(
      R"({"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":0})", page, err));
  CHECK(err.detail.find("10006") != std::string::npos);
}

TEST_CASE("deribit: deri-hmac-sha256 and a user trades answer read as user.trades", "[protocol][history]") {
  const auto call = control::deribit_user_trades_request("CLIENT", "SECRET", "BTC", 1590480620000, 1590480630731, 1000,
                                                         1590480630000, "n1");
  CHECK(call.target ==
        "/api/v2/private/get_user_trades_by_currency_and_time?currency=BTC&kind=any&start_timestamp=1590480620000"
        "&end_timestamp=1590480630731&count=1000&sorting=asc");
  REQUIRE(call.headers.size() == 1);
  control::DeribitHttpAuth auth;
  REQUIRE(control::parse_deribit_http_auth(call.headers[0].second, auth));
  CHECK(auth.client_id == "CLIENT");
  CHECK(auth.ts_ms == 1590480630000);
  CHECK(auth.nonce == "n1");
  CHECK(auth.sig == control::hmac_sha256_hex("SECRET", "1590480630000\nn1\nGET\n" + call.target + "\n\n"));
  CHECK(control::verify_deribit_http_auth(auth, "SECRET", "GET", call.target, ""));
  CHECK_FALSE(control::verify_deribit_http_auth(auth, "SECRET2", "GET", call.target, ""));
  // The documented answer (one option trade).
  const std::string body =
      R"({"jsonrpc":"2.0","id":9292,"result":{"has_more":true,"trades":[{"underlying_price":8994.95,"trade_seq":1,)"
      R"("trade_id":"48078936","timestamp":1590480620145,"tick_direction":1,"state":"filled","reduce_only":false,)"
      R"("price":0.028,"post_only":false,"order_type":"limit","order_id":"4008699030","matching_id":null,)"
      R"("mark_price":0.03135383,"liquidity":"M","iv":38.51,"instrument_name":"BTC-27MAY20-8750-C",)"
      R"("index_price":8993.47,"fee_currency":"BTC","fee":0.0004,"direction":"sell","amount":1}]}})";
  control::HistoryPage page;
  ParseError err;
  REQUIRE(control::parse_deribit_user_trades(body, page, err));
  CHECK(page.more);
  CHECK(page.last_time_ms == 1590480620145);
  const auto fills = decode_page(Venue::kDeribit, page);
  REQUIRE(fills.size() == 1);
  CHECK(fills[0].trade_id == trade_hash("deribit:48078936"));  // the answer's trade_id
  CHECK(fills[0].iv == Approx(0.3851));
  CHECK_FALSE(control::parse_deribit_user_trades(
      R"({"jsonrpc":"2.0","error":{"message":"too_many_requests","code":10028}})", page, err));
}

TEST_CASE("hyperliquid: userFillsByTime and its answer read as userFills", "[protocol][history]") {
  const std::string user = "0x010461c14e146ac35fe42271bdc1134ee31c703a";
  const auto call = control::hyperliquid_user_fills_by_time_request(user, 1681222254710);
  CHECK(call.method == "POST");
  CHECK(call.target == "/info");
  CHECK(call.body ==
        R"({"type":"userFillsByTime","user":"0x010461c14e146ac35fe42271bdc1134ee31c703a","startTime":1681222254710,)"
        R"("aggregateByTime":false})");
  control::HyperliquidInfoRequest r;
  ParseError err;
  REQUIRE(control::parse_hyperliquid_info_request(call.body, r, err));
  CHECK(r.user == user);
  CHECK(r.start_ms == 1681222254710);
  const std::string body =
      R"([{"closedPnl":"0.0","coin":"AVAX","crossed":false,"dir":"Open Long","hash":"0xa166e3fa63c25663024b03f2e0da011a00307e4017e1d9f0bdbb7e","oid":90542681,)"
      R"("px":"18.435","side":"B","startPosition":"26.86","sz":"93.53","time":1681222254710,"fee":"0.01",)"
      R"("feeToken":"USDC","tid":118906512037719}])";
  control::HistoryPage page;
  REQUIRE(control::parse_hyperliquid_user_fills(body, user, page, err));
  CHECK(page.trades == 1);
  CHECK_FALSE(page.more);
  const auto fills = decode_page(Venue::kHyperliquid, page, user);
  REQUIRE(fills.size() == 1);
  CHECK(fills[0].price == 18.435);
  CHECK(fills[0].liquidity == Liquidity::kMaker);
  CHECK(fills[0].trade_id == trade_hash("hyperliquid:118906512037719:" + user));  // tid and the user asked for
  CHECK_FALSE(control::parse_hyperliquid_user_fills("null", user, page, err));
}

TEST_CASE("url_encode keeps the unreserved characters only", "[protocol][history]") {
  CHECK(control::url_encode("AZaz09-_.~") == "AZaz09-_.~");
  CHECK(control::url_encode("132766:2,x y") == "132766%3A2%2Cx%20y");
}
