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

}  // namespace
}  // namespace segmentd::testing
