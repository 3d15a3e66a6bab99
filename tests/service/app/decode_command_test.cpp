#include "service/app/decode_command.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

namespace segmentd {
namespace {

std::string shared(const std::string& relative) {
  return std::string(SEGMENTD_SHARED_DIR) + "/fixtures/exchanges/" + relative;
}

TEST_CASE("decode: NDJSON of OKX order pushes prints the fills and names the rest", "[decode]") {
  std::ostringstream out, err;
  const int rc =
      run_decode("okx", shared("okx/orders_spot_sequence__gocryptotrader_wsOrders.ndjson"), "okx-main", out, err);
  CHECK(rc == 0);
  const std::string fills = out.str();
  CHECK(std::count(fills.begin(), fills.end(), '\n') == 2);
  CHECK(fills.find(
            R"("venue":"okx","account":"okx-main","symbol":"BTC-USDT","side":"sell","qty":0.001,"price":31527.1)") !=
        std::string::npos);
  const std::string notes = err.str();
  CHECK(notes.find("message 1: fills:") != std::string::npos);
  CHECK(notes.find("message 2: order_update:") != std::string::npos);
  CHECK(notes.find("message 4: order_update:") != std::string::npos);
}

TEST_CASE("decode: a pretty-printed single message, and control messages", "[decode]") {
  std::ostringstream out, err;
  CHECK(run_decode("deribit", shared("deribit/user_trades_any_raw__ccxt_comment.json"), "d", out, err) == 0);
  CHECK(out.str().find(R"("symbol":"BTC-PERPETUAL","side":"buy")") != std::string::npos);
  CHECK(out.str().find(R"("ts_ns":1655421193564000000)") != std::string::npos);  // venue time
  std::ostringstream out2, err2;
  CHECK(run_decode("deribit", shared("deribit/heartbeat_test_request__nautilus.json"), "", out2, err2) == 0);
  CHECK(out2.str().empty());
  CHECK(err2.str().find("message 1: test_request:") != std::string::npos);
}

TEST_CASE("decode: bad input and usage errors", "[decode]") {
  std::ostringstream out, err;
  CHECK(run_decode("binance", shared("binance/usdm_order_trade_update_new__docs_with_comments.jsonc"), "", out, err) ==
        1);
  CHECK(err.str().find("error malformed_json") != std::string::npos);
  CHECK(run_decode("nasdaq", shared("binance/usdm_trade_lite__nautilus.json"), "", out, err) == 2);
  CHECK(run_decode("binance", "/nonexistent/file.json", "", out, err) == 2);
}

}  // namespace
}  // namespace segmentd
