// Venue semantics that the venues' documentation states and a fixture review found the adapters
// missing. Each case decodes a message literal written here (values made up, shape as in the
// venue's docs) and checks the one point in question.

#include <string>

#include "core/str_cat.h"
#include "tests/protocol/venues/adapter_test_support.h"

namespace segmentd::testing {
namespace {

// ---------------------------------------------------------------------------------------------
// Binance USDⓈ-M ORDER_TRADE_UPDATE (docs: "User Data Streams / Event: Order Update"):
//   "N": "USDT",  // Commission Asset, will not push if no commission
//   "n": "0",     // Commission, will not push if no commission

std::string binance_trade(std::string_view commission) {
  return str_cat(
      R"({"e":"ORDER_TRADE_UPDATE","E":1760000000100,"T":1760000000090,"o":{"s":"ETHUSDT","c":"cid-1","S":"BUY",)",
      R"("o":"LIMIT","f":"GTC","q":"2.000","p":"3000.00","ap":"3000.00","sp":"0","x":"TRADE","X":"PARTIALLY_FILLED",)",
      R"("i":555001,"l":"0.500","z":"0.500","L":"3000.00",)", commission,
      R"("T":1760000000090,"t":777001,"b":"0","a":"0","m":true,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT",)",
      R"("ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}})");
}

TEST_CASE("binance: an ORDER_TRADE_UPDATE trade without N and n paid no commission: fee 0 USD", "[binance]") {
  AdapterHarness h(Venue::kBinance);
  const auto out = h.ok(binance_trade(""));
  CHECK(out.kind == MessageKind::kFills);
  REQUIRE(h.fills.size() == 1);
  check_close(h.fills[0].fee_usd, 0.0, "fee_usd");
  // With the commission pushed, it is the fee (USDT counted 1:1).
  AdapterHarness with(Venue::kBinance);
  with.ok(binance_trade(R"("N":"USDT","n":"0.30000000",)"));
  REQUIRE(with.fills.size() == 1);
  check_close(with.fills[0].fee_usd, 0.3, "fee_usd");
}

// ---------------------------------------------------------------------------------------------
// Bybit v5 private "execution" topic (docs: "WebSocket Stream / Private / Execution"): each
// execution carries "category" (spot, linear, inverse, option) and "symbol". The spot pair and
// the USDT perpetual share the symbol (BTCUSDT); the category tells them apart.

std::string bybit_execution(std::string_view category, std::string_view exec_id, std::string_view exec_type,
                            std::string_view fee_currency) {
  return str_cat(R"({"topic":"execution","id":"100200300_BTCUSDT_4000","creationTime":1760000000500,"data":[{)",
                 R"("category":")", category, R"(","symbol":"BTCUSDT","closedSize":"0","execFee":"0.000002",)",
                 R"("execId":")", exec_id, R"(","execPrice":"100000","execQty":"0.002","execType":")", exec_type,
                 R"(","execValue":"200","feeRate":"0.001","tradeIv":"","markIv":"","blockTradeId":"",)",
                 R"("markPrice":"","indexPrice":"","underlyingPrice":"","leavesQty":"0","orderId":"o-1",)",
                 R"("orderLinkId":"","orderPrice":"100000","orderQty":"0.002","orderType":"Market",)",
                 R"("stopOrderType":"","side":"Buy","execTime":"1760000000400","isLeverage":"0",)",
                 R"("isMaker":false,"seq":4000,"marketUnit":"","execPnl":"0","createType":"CreateByUser",)",
                 R"("feeCurrency":")", fee_currency, R"("}]})");
}

TEST_CASE("bybit: category spot is the spot pair and not the linear perpetual of the same symbol", "[bybit]") {
  AdapterHarness h(Venue::kBybit);
  h.ok(bybit_execution("spot", "spot-1", "Trade", "BTC"));
  h.ok(bybit_execution("linear", "linear-1", "Trade", "USDT"));
  h.ok(bybit_execution("spot", "spot-2", "Trade", "BTC"));  // again, after the perpetual
  REQUIRE(h.fills.size() == 3);
  for (const std::size_t i : {0, 2}) {
    INFO("spot fill " << i);
    const Fill& spot = h.fills[i];
    CHECK(spot.kind == InstrumentKind::kSpot);
    CHECK(h.instrument(spot).kind == InstrumentKind::kSpot);
    CHECK(h.instrument(spot).symbol == "BTCUSDT");  // as Bybit spells it
    check_close(spot.qty, 0.002, "qty");
    check_close(spot.notional_usd, 200.0, "notional_usd");
    check_close(spot.fee_usd, 0.000002 * 100000, "fee_usd");  // in the base coin, at the trade price
  }
  const Fill& perp = h.fills[1];
  CHECK(perp.kind == InstrumentKind::kPerpetual);
  CHECK(h.instrument(perp).symbol == "BTCUSDT");
  CHECK(perp.instrument != h.fills[0].instrument);
  CHECK(h.fills[2].instrument == h.fills[0].instrument);
  // The registry's name of the spot pair (protocol/venues/bybit/symbols.h).
  const auto pair = parse_symbol(Venue::kBybit, "spot:BTCUSDT");
  REQUIRE(pair.ok());
  CHECK(pair->kind == InstrumentKind::kSpot);
  CHECK(pair->symbol == "BTCUSDT");
  CHECK(pair->base == "BTC");
  CHECK(pair->quote == "USDT");
  CHECK_FALSE(parse_symbol(Venue::kBybit, "spot:BTCPERP").ok());
  CHECK_FALSE(parse_symbol(Venue::kBybit, "spot:").ok());
}

// Bybit "execType" (docs: "Enums Definitions / execType"): Trade; AdlTrade (auto-deleveraging);
// Funding (funding fee); BustTrade (takeover liquidation); Delivery; Settle; BlockTrade;
// MovePosition. A liquidation, an auto-deleveraging and a block trade change the account's
// position at a price like a trade does; a funding fee and a settlement do not.

TEST_CASE("bybit: execType BustTrade AdlTrade and BlockTrade are fills like Trade", "[bybit]") {
  for (const std::string exec_type : {"Trade", "BustTrade", "AdlTrade", "BlockTrade"}) {
    DYNAMIC_SECTION("execType " << exec_type) {
      AdapterHarness h(Venue::kBybit);
      const auto out = h.ok(bybit_execution("linear", "exec-" + exec_type, exec_type, "USDT"));
      CHECK(out.kind == MessageKind::kFills);
      CHECK(out.fills == 1);
      CHECK(out.skipped == 0);
      REQUIRE(h.fills.size() == 1);
      const Fill& f = h.fills[0];
      CHECK(f.kind == InstrumentKind::kPerpetual);
      CHECK(f.side == Side::kBuy);
      CHECK(f.liquidity == Liquidity::kTaker);  // isMaker false
      check_close(f.qty, 0.002, "qty");
      check_close(f.price, 100000.0, "price");
      check_close(f.notional_usd, 200.0, "notional_usd");
      CHECK(f.trade_id == trade_hash("bybit:exec-" + exec_type));
    }
  }
}

TEST_CASE("bybit: execType Funding and Settle are no fills", "[bybit]") {
  for (const std::string exec_type : {"Funding", "Settle"}) {
    DYNAMIC_SECTION("execType " << exec_type) {
      AdapterHarness h(Venue::kBybit);
      const auto out = h.ok(bybit_execution("linear", "exec-" + exec_type, exec_type, "USDT"));
      CHECK(out.kind == MessageKind::kIgnored);
      CHECK(out.fills == 0);
      CHECK(out.skipped == 1);
      CHECK(h.fills.empty());
    }
  }
}

}  // namespace
}  // namespace segmentd::testing
